"""A checkpoint's policy as one module with the contract's inputs and outputs.

``play`` runs it and ``export`` writes it (ONNX, TorchScript), so the robot, the
video and sim-to-sim all run the same function. It is built from the checkpoint
alone, without a simulator: the actor is rsl_rl's ``MLPModel`` sized by the task's
runner config, the estimator the learning package's ``NormalizedEstimator``.
Deterministic: mean action, z = μ; every running statistic is folded in.
"""

from __future__ import annotations

from pathlib import Path

import torch
from rsl_rl.models import MLPModel
from tensordict import TensorDict
from torch import nn

from dreamwaq.export import contract as io
from dreamwaq.learning.config import runner_cfg
from dreamwaq.learning.estimators import NormalizedEstimator
from dreamwaq.learning.policy import inference_policy
from dreamwaq.robot import a1
from dreamwaq.runs import check_checkpoint, read_checkpoint
from dreamwaq.tasks.registry import TASKS, TaskSpec

_ACTOR_WEIGHT = "mlp.0.weight"
"""The actor's first layer: its width is the task's actor input (unique per task)."""


def load_deployment(task: TaskSpec, checkpoint: Path) -> nn.Module:
  """The deterministic policy of ``checkpoint`` (a ``model_N.pt`` of ``task``), on CPU.

  A file that is not a checkpoint, one of another task or of another checkpoint
  format is a ValueError naming the problem.
  """
  saved = read_checkpoint(checkpoint)
  actor_state = saved["actor_state_dict"]
  trained = _trained_task(actor_state)
  if trained != task.name:
    what = f"an {trained} checkpoint" if trained else "a checkpoint of no known task"
    raise ValueError(f"{checkpoint} is {what}, not {task.name}")
  check_checkpoint(saved, checkpoint, task.name)
  actor = _actor(task)
  estimator = NormalizedEstimator(task.estimator) if task.estimator else None
  try:
    actor.load_state_dict(actor_state)
    if estimator is not None:
      estimator.load_state_dict(saved["estimator_state_dict"])
  except (KeyError, RuntimeError) as e:
    reason = str(e).strip().splitlines()[0]
    raise ValueError(f"{checkpoint} does not fit {task.name} ({reason})") from None
  return inference_policy(actor, estimator, oracle=task.kind == "oracle")


def example_inputs(task: TaskSpec, batch: int = 1) -> tuple[torch.Tensor, ...]:
  """Zeros shaped like the contract's inputs, in its order."""
  sizes = io.policy_contract(task)["inputs"]
  return tuple(torch.zeros(batch, n) for n in sizes.values())


def outputs(
  module: nn.Module, inputs: tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, ...]:
  """The module's outputs as a tuple in the contract's order (one or two tensors)."""
  out = module(*inputs)
  return out if isinstance(out, tuple) else (out,)


def _trained_task(actor_state: dict[str, torch.Tensor]) -> str | None:
  """The task whose actor input width the checkpoint's actor has."""
  weight = actor_state.get(_ACTOR_WEIGHT)
  if weight is None or weight.ndim != 2:
    return None
  return next((t.name for t in TASKS.values() if t.policy_input == weight.shape[1]), None)


def _actor(task: TaskSpec) -> MLPModel:
  """An untrained actor shaped as training builds it (the runner config's fields)."""
  cfg = runner_cfg(task).actor
  obs = TensorDict({"actor": torch.zeros(1, task.policy_input)}, batch_size=[1])
  return MLPModel(
    obs,
    {"actor": ["actor"]},
    "actor",
    len(a1.JOINT_NAMES),
    hidden_dims=cfg.hidden_dims,
    activation=cfg.activation,
    obs_normalization=cfg.obs_normalization,
    distribution_cfg=dict(cfg.distribution_cfg or {}) or None,
  )
