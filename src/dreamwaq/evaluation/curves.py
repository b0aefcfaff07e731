"""Training curves from a run's TensorBoard event files: every file of its folder and
of the folders it resumed, so a run trained over several sessions reads as one curve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dreamwaq.learning.runner import TERRAIN_LEVEL
from dreamwaq.runs import lineage

REWARD = "Train/mean_reward"
"""rsl_rl's mean episode return over the last finished episodes."""
CURVE_TAGS: dict[str, str] = {"reward": REWARD, "terrain_level": TERRAIN_LEVEL}
FINAL_WINDOW = 50
"""Iterations a run's final value is averaged over ("the mean terrain level by the end
of training"): one iteration's value moves with the episodes that happened to end in it."""


@dataclass(frozen=True)
class Curve:
  iterations: np.ndarray
  values: np.ndarray

  def final(self, window: int = FINAL_WINDOW) -> float:
    """The mean of the last ``window`` logged values."""
    return float(self.values[-window:].mean())

  def ending_at(self, iteration: int, window: int = FINAL_WINDOW) -> float:
    """The mean over the ``window`` iterations ending at ``iteration``: a run's level at
    a mark, to set beside another run's at the same mark."""
    logged = (self.iterations > iteration - window) & (self.iterations <= iteration)
    if not logged.any():
      raise ValueError(
        f"no iteration logged in {iteration - window + 1}-{iteration} (the run logged "
        f"{self.iterations.min()}-{self.iterations.max()})"
      )
    return float(self.values[logged].mean())


def read_curves(
  run_dir: Path, tags: Sequence[str] = tuple(CURVE_TAGS.values())
) -> dict[str, Curve]:
  """The scalars ``tags`` logged by the run, its earlier folders included
  (``runs.lineage``: a resume trains in a new folder); tags never logged are left out."""
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  points: dict[str, dict[int, float]] = {}
  for folder in lineage(Path(run_dir)):
    if not any(folder.glob("events.out.tfevents.*")):
      continue
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    logged = set(events.Tags().get("scalars", ()))
    for tag in (t for t in tags if t in logged):
      # A step logged twice (a resume repeats none, a restart may): the latest wins.
      points.setdefault(tag, {}).update((e.step, e.value) for e in events.Scalars(tag))
  curves = {}
  for tag in (t for t in tags if t in points):
    steps = sorted(points[tag])
    curves[tag] = Curve(np.array(steps), np.array([points[tag][s] for s in steps]))
  return curves
