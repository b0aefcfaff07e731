"""Evaluation conditions: the training randomisation, and its extremes (paper Table II).

An extreme re-runs the env's own randomisation term on some robots with its range
collapsed to one end (foot friction 0.2, payload +2 kg); every other randomisation
stays as in training. Several conditions thus share one env, robots side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from mjlab.envs import ManagerBasedRlEnv
from mjlab.managers.event_manager import RecomputeLevel

from dreamwaq.tasks.env_cfg import A1EnvSettings

FRICTION_EVENT = "foot_friction"
PAYLOAD_EVENT = "payload"
"""Names of the randomisation terms in ``tasks/env_cfg.py``'s events."""


@dataclass(frozen=True)
class Condition:
  name: str
  label: str
  event_ranges: tuple[tuple[str, tuple[float, float]], ...] = ()
  """(event term, range) pairs that replace the training ranges."""


def _conditions() -> dict[str, Condition]:
  train = A1EnvSettings()
  friction = train.friction_range[0]
  payload = train.payload_range[1]
  return {
    c.name: c
    for c in (
      Condition("nominal", "training randomisation"),
      Condition(
        "low_friction", f"friction {friction:g}", ((FRICTION_EVENT, (friction, friction)),)
      ),
      Condition(
        "heavy_payload", f"payload +{payload:g} kg", ((PAYLOAD_EVENT, (payload, payload)),)
      ),
    )
  }


CONDITIONS: dict[str, Condition] = _conditions()


def get_condition(name: str) -> Condition:
  try:
    return CONDITIONS[name]
  except KeyError:
    choices = ", ".join(CONDITIONS)
    raise ValueError(f"unknown condition {name!r}; choose from {choices}") from None


def apply_condition(
  env: ManagerBasedRlEnv, env_ids: torch.Tensor, condition: Condition
) -> None:
  """Re-draw the condition's randomisation terms for ``env_ids`` with its ranges,
  then recompute the model constants that depend on them (as the event manager does)."""
  level = RecomputeLevel.none
  for term, ranges in condition.event_ranges:
    cfg = env.event_manager.get_term_cfg(term)
    cfg.func(env, env_ids, **{**cfg.params, "ranges": ranges})
    level = max(level, getattr(cfg.func, "recompute", RecomputeLevel.none))
  if level != RecomputeLevel.none:
    env.sim.recompute_constants(level)
