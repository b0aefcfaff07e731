"""Metrics as pure functions of recorded trajectories (numpy, physical units).

A ``Trajectory`` holds, for every policy step t and robot e, the state the policy
acted on and whether the step ended in a fall. A robot's data count up to and
including the step in which it first fell; what follows (mjlab respawns it) is
ignored, so each robot contributes one episode. On a terrain grid a robot's data also
end where it first stands outside its own tile: the tile next to it is another
terrain (a harder row, another type, or the rim's drop), not the one being measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SUCCESS_DISTANCE_FRACTION = 0.5
"""A robot succeeds if it does not fall and its path covers at least this share of
the commanded path (legged_gym's curriculum demotes robots below half)."""
HARDEST_ROW_SUCCESS = 0.8
PUSH_ALIVE_FRACTION = 0.5

DEFINITIONS: dict[str, str] = {
  "fall": "the env ends the episode early: trunk (base) contact, or the body tipped over",
  "left_tile_rate": (
    "share of robots that walked off their own tile before falling or the end; their "
    "records end there (terrain grids only)"
  ),
  "alive_rate": "share of robots that did not fall while measured",
  "success_rate": (
    "share of robots that did not fall and whose base path covered at least "
    f"{SUCCESS_DISTANCE_FRACTION:.0%} of the commanded path ∫‖v*_xy‖dt"
  ),
  "distance_m": (
    "mean over robots of the base's horizontal path length until the fall, leaving the "
    "tile, or the end (m)"
  ),
  "commanded_distance_m": "mean over robots of ∫‖v*_xy‖dt over the same time (m)",
  "lin_vel_error_mps": (
    "mean of ‖v*_xy − v_xy‖ (body frame) over every robot-step before a fall (m/s)"
  ),
  "yaw_rate_error_radps": "mean of |ω*_z − ω_z| over the same robot-steps (rad/s)",
  "vel_est_rmse_mps": (
    "√(mean ‖v̂ − v‖²) of the estimated vs true body velocity (3 axes) over the same "
    "robot-steps (m/s; tasks with an estimator)"
  ),
  "time_to_fall_s": "mean time of the fall over the robots that fell (s; none if none fell)",
  "survival_pct": "mean over robots of time alive / time measured × 100",
  "hardest_row": (
    f"the highest row r such that success_rate ≥ {HARDEST_ROW_SUCCESS:.0%} on r and on "
    "every evaluated row below it"
  ),
  "max_push_mps": (
    f"the largest push level L such that ≥ {PUSH_ALIVE_FRACTION:.0%} of the robots are "
    "alive at the end of the episode at L and at every smaller evaluated level"
  ),
}
"""What each reported number means; the reports print these."""


@dataclass(frozen=True)
class Trajectory:
  """Per-step records of E robots over T policy steps of ``dt`` seconds."""

  dt: float
  command: np.ndarray
  """[T, E, 3] v*_x, v*_y (m/s), ω*_z (rad/s), body frame."""
  lin_vel: np.ndarray
  """[T, E, 3] base linear velocity (m/s), body frame."""
  yaw_rate: np.ndarray
  """[T, E] base yaw rate ω_z (rad/s), body frame."""
  position: np.ndarray
  """[T, E, 2] base x, y (m), world frame."""
  fell: np.ndarray
  """[T, E] the robot fell during step t (the state at t is its last)."""
  est_vel: np.ndarray | None = None
  """[T, E, 3] estimated base linear velocity (m/s), body frame; None: no estimator."""
  off_tile: np.ndarray | None = None
  """[T, E] the state at t stands outside the robot's own tile; None: no tiles."""

  @property
  def steps(self) -> int:
    return self.fell.shape[0]

  def select(self, robots: Sequence[int] | slice) -> Trajectory:
    """The same records for a subset of robots."""
    pick = (slice(None), robots)
    est = None if self.est_vel is None else self.est_vel[pick]
    off = None if self.off_tile is None else self.off_tile[pick]
    return Trajectory(
      self.dt, self.command[pick], self.lin_vel[pick], self.yaw_rate[pick],
      self.position[pick], self.fell[pick], est, off,
    )  # fmt: skip


@dataclass(frozen=True)
class GroupMetrics:
  """One group of robots (a terrain cell or a push level); see ``DEFINITIONS``."""

  robots: int
  alive_rate: float
  success_rate: float
  distance_m: float
  commanded_distance_m: float
  lin_vel_error_mps: float
  yaw_rate_error_radps: float
  vel_est_rmse_mps: float | None
  time_to_fall_s: float | None
  survival_pct: float
  left_tile_rate: float | None = None


def fall_step(fell: np.ndarray) -> np.ndarray:
  """[E] index of each robot's first fall, or T when it never fell."""
  fell = np.asarray(fell, dtype=bool)
  return np.where(fell.any(axis=0), fell.argmax(axis=0), fell.shape[0])


def alive_mask(fell: np.ndarray) -> np.ndarray:
  """[T, E] the records that count: up to and including the step of the first fall."""
  steps = np.arange(np.shape(fell)[0])[:, None]
  return steps <= fall_step(fell)[None, :]


def summarize(traj: Trajectory) -> GroupMetrics:
  """Every metric of ``DEFINITIONS`` for the robots of ``traj`` (at least one)."""
  alive = alive_mask(traj.fell)
  first_fall = fall_step(traj.fell)
  # Only states before the fall: a fallen robot respawns at its tile's centre.
  off = np.zeros_like(alive) if traj.off_tile is None else traj.off_tile & alive
  first_off = fall_step(off)
  left = first_off < traj.steps
  alive &= np.arange(traj.steps)[:, None] < first_off[None, :]
  fell = first_fall < np.minimum(first_off, traj.steps)
  moved = np.linalg.norm(np.diff(traj.position, axis=0), axis=-1)  # [T-1, E]
  distance = np.sum(moved * (alive[:-1] & alive[1:]), axis=0)
  speed_cmd = np.linalg.norm(traj.command[..., :2], axis=-1)
  commanded = np.sum(speed_cmd * alive, axis=0) * traj.dt
  success = ~fell & (distance >= SUCCESS_DISTANCE_FRACTION * commanded)
  lin_err = np.linalg.norm(traj.command[..., :2] - traj.lin_vel[..., :2], axis=-1)
  yaw_err = np.abs(traj.command[..., 2] - traj.yaw_rate)
  measured = np.where(left, first_off, traj.steps) * traj.dt
  time_alive = np.where(fell, (first_fall + 1) * traj.dt, measured)
  est_rmse = None
  if traj.est_vel is not None:
    squared = np.sum(np.square(traj.est_vel - traj.lin_vel), axis=-1)
    est_rmse = float(np.sqrt(squared[alive].mean()))
  return GroupMetrics(
    robots=int(traj.fell.shape[1]),
    alive_rate=float(np.mean(~fell)),
    success_rate=float(np.mean(success)),
    distance_m=float(distance.mean()),
    commanded_distance_m=float(commanded.mean()),
    lin_vel_error_mps=float(lin_err[alive].mean()),
    yaw_rate_error_radps=float(yaw_err[alive].mean()),
    vel_est_rmse_mps=est_rmse,
    time_to_fall_s=float(time_alive[fell].mean()) if fell.any() else None,
    survival_pct=float(100.0 * np.mean(time_alive / np.maximum(measured, traj.dt))),
    left_tile_rate=None if traj.off_tile is None else float(np.mean(left)),
  )


def last_passing(values: Sequence[float], scores: Sequence[float], threshold: float):
  """The largest of ascending ``values`` whose score, and every smaller value's, is
  at least ``threshold``; None when the smallest already fails."""
  best = None
  for value, score in sorted(zip(values, scores, strict=True)):
    if score < threshold:
      break
    best = value
  return best


def hardest_row(rows: Sequence[int], success_rates: Sequence[float]) -> int | None:
  """See ``DEFINITIONS["hardest_row"]``."""
  return last_passing(rows, success_rates, HARDEST_ROW_SUCCESS)


def max_push(levels: Sequence[float], alive_rates: Sequence[float]) -> float | None:
  """See ``DEFINITIONS["max_push_mps"]``."""
  return last_passing(levels, alive_rates, PUSH_ALIVE_FRACTION)
