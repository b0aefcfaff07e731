"""The observation layout, defined once (spec §2).

Training terms, the estimator, export, ``policy.json`` and the sim-to-sim
observation builder all read these tuples; nothing else lists the parts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObsPart:
  name: str
  size: int
  noise: float
  """Half-width of the uniform noise added per step while training (0: none)."""
  unit: str


PROPRIO: tuple[ObsPart, ...] = (
  ObsPart("base_ang_vel", 3, 0.2, "rad/s, body frame"),
  ObsPart("projected_gravity", 3, 0.05, "unit vector, body frame"),
  ObsPart("commands", 3, 0.0, "v_x, v_y (m/s), yaw rate (rad/s)"),
  ObsPart("joint_pos", 12, 0.01, "rad, minus the default pose"),
  ObsPart("joint_vel", 12, 1.5, "rad/s"),
  ObsPart("last_action", 12, 0.0, "the action applied at the previous step"),
)
"""o_t, the 45-number proprioceptive observation, in order (paper and repro agree)."""

HEIGHT_SCAN_SIZE = (1.6, 1.0)
"""Extent (x, y) of the yaw-aligned height grid around the base (m)."""
HEIGHT_SCAN_RESOLUTION = 0.1
HEIGHT_SCAN_POINTS = 17 * 11
HEIGHT_CLIP = 1.0
"""Terrain heights (base height minus terrain height) are clipped to ±HEIGHT_CLIP m."""

PRIVILEGED: tuple[ObsPart, ...] = (
  ObsPart("base_lin_vel", 3, 0.1, "m/s, body frame (true)"),
  ObsPart("disturbance", 3, 0.0, "m/s, world frame: the last push, held until the next"),
  ObsPart("height_scan", HEIGHT_SCAN_POINTS, 0.1, "m: base height minus terrain height"),
)
"""v_t, d_t, h_t: what the critic (and the oracle actor) sees beyond o_t."""

HISTORY_LENGTH = 5
OBS_CLIP = 100.0

PROPRIO_DIM = sum(p.size for p in PROPRIO)
PRIVILEGED_DIM = sum(p.size for p in PRIVILEGED)
HISTORY_DIM = HISTORY_LENGTH * PROPRIO_DIM
CRITIC_DIM = PROPRIO_DIM + PRIVILEGED_DIM
LATENT_DIM = 16
VEL_DIM = 3


def noise_vector(parts: tuple[ObsPart, ...]) -> tuple[float, ...]:
  """Per-element noise half-widths of consecutive parts."""
  return tuple(p.noise for p in parts for _ in range(p.size))


def part(parts: tuple[ObsPart, ...], name: str) -> ObsPart:
  """The part of that name."""
  try:
    return next(p for p in parts if p.name == name)
  except StopIteration:
    raise KeyError(name) from None


def part_slice(parts: tuple[ObsPart, ...], name: str) -> slice:
  """Where a named part lies in the concatenation of ``parts``."""
  start = 0
  for p in parts:
    if p.name == name:
      return slice(start, start + p.size)
    start += p.size
  raise KeyError(name)
