"""Runner, PPO and estimator configs per task (spec §9–§11), as mjlab dataclasses.

rsl_rl builds every class from these by name: the actor and critic are its own
``MLPModel``; the algorithm is :class:`dreamwaq.learning.ppo.DreamWaqPPO`, whose
extra fields (``estimator``) become constructor arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mjlab.rl import RslRlModelCfg, RslRlOnPolicyRunnerCfg, RslRlPpoAlgorithmCfg

from dreamwaq.tasks.registry import TaskSpec

POLICY_INPUT = "policy_input"
"""Observation group the algorithm adds for estimator tasks: the actor's actual
input [o_t, v̂ or v, z], normalised, stored in the rollout so PPO's update sees
exactly what the actor acted on."""

HIDDEN_DIMS = (512, 256, 128)


@dataclass
class EstimatorCfg:
  """How the estimator is trained (spec §9; repro values, tunable)."""

  name: Literal["cenet", "estnet"] = "cenet"
  adaboot: bool = True
  learning_rate: float = 1e-3
  """The repro's 1e-2 diverged on our runs (docs/training-notes.md)."""
  lr_factor: float = 0.8
  """ReduceLROnPlateau factor, stepped once per update on the mean estimator loss."""
  lr_patience: int = 100
  min_learning_rate: float = 1e-4
  beta_init: float = 1.0
  beta_growth: float = 1.01
  """β is multiplied by this once per update (per rollout), up to ``beta_max``."""
  beta_max: float = 4.0
  num_learning_epochs: int = 5
  num_mini_batches: int = 4


@dataclass
class DreamWaqPpoCfg(RslRlPpoAlgorithmCfg):
  entropy_coef: float = 0.01
  estimator: EstimatorCfg | None = None
  resume_learning_rate: bool = True
  """A resume continues at the checkpoint's learning rates (PPO's, the estimator's).
  False: at this config's ``learning_rate`` and ``estimator.learning_rate``, for a
  fine-tune that sets its own (e.g. a last stage at a low fixed rate)."""
  class_name: str = "dreamwaq.learning.ppo:DreamWaqPPO"


@dataclass
class DreamWaqRunnerCfg(RslRlOnPolicyRunnerCfg):
  algorithm: DreamWaqPpoCfg = field(default_factory=DreamWaqPpoCfg)
  max_iterations: int = 1500
  save_interval: int = 50
  logger: Literal["wandb", "tensorboard"] = "tensorboard"
  wandb_project: str = "dreamwaq"
  class_name: str = "dreamwaq.learning.runner:DreamWaqRunner"


def runner_cfg(task: TaskSpec) -> DreamWaqRunnerCfg:
  """The training config of a task: its experiment, actor input and estimator."""
  estimator = EstimatorCfg(name=task.estimator) if task.estimator else None
  return DreamWaqRunnerCfg(
    experiment_name=task.experiment,
    obs_groups={
      "actor": (POLICY_INPUT,) if estimator else ("actor",),
      "critic": ("critic",),
    },
    actor=RslRlModelCfg(
      hidden_dims=HIDDEN_DIMS,
      # Estimator tasks normalise o_t with the estimator's statistics already.
      obs_normalization=estimator is None,
      distribution_cfg={
        "class_name": "GaussianDistribution",
        "init_std": 1.0,
        "std_type": "scalar",
      },
    ),
    critic=RslRlModelCfg(hidden_dims=HIDDEN_DIMS, obs_normalization=True),
    algorithm=DreamWaqPpoCfg(estimator=estimator),
  )
