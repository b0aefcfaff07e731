"""Deterministic inference: mean action, z = μ, every statistic folded in.

Defined once: training's ``inference_policy``, ``play`` and ``export`` all run these
modules, with the contract's inputs and outputs.
"""

from __future__ import annotations

import copy

import torch
from rsl_rl.models import MLPModel
from torch import nn

from dreamwaq.learning.estimators import NormalizedEstimator
from dreamwaq.tasks import layout


class EstimatorDeployment(nn.Module):
  """(obs, obs_history) → (actions, est_vel in m/s), for tasks with an estimator.

  ``obs`` is o_t, which must be the newest frame of ``obs_history`` (the env's
  ``actor`` group is defined so, and the policy was trained on it).
  """

  def __init__(self, estimator: NormalizedEstimator, actor: MLPModel) -> None:
    super().__init__()
    self.estimator = estimator.eval()
    self.actor = actor.as_jit().eval()

  def forward(
    self, obs: torch.Tensor, obs_history: torch.Tensor
  ) -> tuple[torch.Tensor, torch.Tensor]:
    estimate = self.estimator(obs_history, sample=False)
    o_t = self.estimator.obs_normalizer(obs)
    actions = self.actor(torch.cat([o_t, estimate], dim=-1))
    velocity = self.estimator.velocity_normalizer.inverse(estimate[..., : layout.VEL_DIM])
    return actions, velocity


class OracleDeployment(nn.Module):
  """(obs, privileged) → actions: the oracle's actor reads [o_t, v_t, d_t, h_t]."""

  def __init__(self, actor: MLPModel) -> None:
    super().__init__()
    self.actor = actor.as_jit().eval()

  def forward(self, obs: torch.Tensor, privileged: torch.Tensor) -> torch.Tensor:
    return self.actor(torch.cat([obs, privileged], dim=-1))


def inference_policy(
  actor: MLPModel, estimator: NormalizedEstimator | None, oracle: bool = False
) -> nn.Module:
  """The deployed policy module of a task (the contract's inputs, in order).

  Works on copies: the training estimator keeps its mode and statistics.
  """
  if estimator is not None:
    return EstimatorDeployment(copy.deepcopy(estimator), actor).eval()
  return OracleDeployment(actor).eval() if oracle else actor.as_jit().eval()
