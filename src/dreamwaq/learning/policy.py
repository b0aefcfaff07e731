"""Deterministic inference: mean action, z = μ, every statistic folded in."""

from __future__ import annotations

import copy

import torch
from rsl_rl.models import MLPModel
from torch import nn

from dreamwaq.learning.estimators import NormalizedEstimator
from dreamwaq.tasks import layout


class EstimatorPolicy(nn.Module):
  """Raw 5-frame history → mean action, for tasks with an estimator.

  o_t is the newest history frame (the env's ``actor`` group is defined so),
  which makes the history the only input a deployed robot has to provide.
  """

  def __init__(self, estimator: NormalizedEstimator, actor: MLPModel) -> None:
    super().__init__()
    self.estimator = copy.deepcopy(estimator).eval()
    self.actor = actor.as_jit()

  def forward(self, history: torch.Tensor) -> torch.Tensor:
    estimate = self.estimator(history, sample=False)
    o_t = self.estimator.obs_normalizer(history[..., -layout.PROPRIO_DIM :])
    return self.actor(torch.cat([o_t, estimate], dim=-1))


def inference_policy(actor: MLPModel, estimator: NormalizedEstimator | None) -> nn.Module:
  """The policy as one module: history → action with an estimator, else actor obs → action."""
  if estimator is None:
    return actor.as_jit().eval()
  return EstimatorPolicy(estimator, actor).eval()
