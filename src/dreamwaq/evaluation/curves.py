"""Training curves from a run's TensorBoard event files (every file of the folder,
so a resumed run reads as one curve)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dreamwaq.learning.runner import TERRAIN_LEVEL

REWARD = "Train/mean_reward"
"""rsl_rl's mean episode return over the last finished episodes."""
CURVE_TAGS: dict[str, str] = {"reward": REWARD, "terrain_level": TERRAIN_LEVEL}


@dataclass(frozen=True)
class Curve:
  iterations: np.ndarray
  values: np.ndarray


def read_curves(
  run_dir: Path, tags: Sequence[str] = tuple(CURVE_TAGS.values())
) -> dict[str, Curve]:
  """The scalars ``tags`` logged in ``run_dir`` (tags never logged are left out)."""
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  if not any(Path(run_dir).glob("events.out.tfevents.*")):
    return {}
  events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
  events.Reload()
  logged = set(events.Tags().get("scalars", ()))
  curves = {}
  for tag in tags:
    if tag in logged:
      points = {e.step: e.value for e in events.Scalars(tag)}  # A resumed step: the latest.
      steps = np.array(sorted(points))
      curves[tag] = Curve(steps, np.array([points[s] for s in steps]))
  return curves
