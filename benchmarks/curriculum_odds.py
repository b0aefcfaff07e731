"""Odds of promotion and demotion for a robot that tracks its commands perfectly.

The terrain curriculum (legged_gym's rule) promotes a robot that ends its episode more
than half a tile from where it started and demotes one that covered less than half of
its commanded distance. Whether a *perfect* walker can climb depends on how commands are
drawn: yaw rates from U[-1, 1] make robots walk arcs that end near the start. This
integrates the commanded planar motion (no physics) for many robots and prints, per
command mode, P(up), P(down), the median end distance, and the mean terrain level the
curriculum settles at with those odds on every row.

    python benchmarks/curriculum_odds.py [--robots 200000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import numpy as np

from dreamwaq.tasks.commands import DreamWaqVelocityCommandCfg
from dreamwaq.tasks.env_cfg import DECIMATION, EPISODE_LENGTH_S, PHYSICS_DT, A1EnvSettings


def end_distances(
  heading: bool, robots: int, rng: np.random.Generator, s: A1EnvSettings
) -> tuple[np.ndarray, np.ndarray]:
  """Distance from the start after one episode, and the last command's planar speed."""
  dt = PHYSICS_DT * DECIMATION
  steps_per_command = round(s.command_resample_s / dt)
  psi = rng.uniform(-np.pi, np.pi, robots)
  pos = np.zeros((robots, 2))
  r = s.command_range
  for k in range(round(EPISODE_LENGTH_S / dt)):
    if k % steps_per_command == 0:
      v = rng.uniform(-r, r, (robots, 2))
      v[np.linalg.norm(v, axis=1) < DreamWaqVelocityCommandCfg.min_lin_vel] = 0.0
      yaw_rate = rng.uniform(-r, r, robots)
      target = rng.uniform(-np.pi, np.pi, robots)
    if heading:
      error = np.remainder(target - psi + np.pi, 2 * np.pi) - np.pi
      yaw_rate = np.clip(s.heading_stiffness * error, -r, r)
    psi = psi + yaw_rate * dt
    c, sn = np.cos(psi), np.sin(psi)
    pos += np.stack([c * v[:, 0] - sn * v[:, 1], sn * v[:, 0] + c * v[:, 1]], 1) * dt
  return np.linalg.norm(pos, axis=1), np.linalg.norm(v, axis=1)


def settled_level(
  p_up: float | Sequence[float], p_down: float | Sequence[float], rows: int
) -> float:
  """Mean row of the stationary distribution: up, down or stay each episode; past the
  top row, a random row (legged_gym). The odds are one for every row, or one per row."""
  up = np.broadcast_to(np.asarray(p_up, dtype=float), (rows,))
  down = np.broadcast_to(np.asarray(p_down, dtype=float), (rows,))
  chain = np.zeros((rows, rows))
  for k in range(rows):
    if k < rows - 1:
      chain[k, k + 1] += up[k]
    else:
      chain[k] += up[k] / rows
    chain[k, max(k - 1, 0)] += down[k]
    chain[k, k] += 1.0 - up[k] - down[k]
  values, vectors = np.linalg.eig(chain.T)
  p = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
  return float((p / p.sum()) @ np.arange(rows))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--robots", type=int, default=200_000)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()
  s = A1EnvSettings()
  rng = np.random.default_rng(args.seed)
  result = {}
  for mode, heading in (("yaw_rate", False), ("heading", True)):
    distance, speed = end_distances(heading, args.robots, rng, s)
    up = distance > s.terrain_tile_size / 2
    down = (distance < speed * EPISODE_LENGTH_S * 0.5) & ~up
    result[mode] = {
      "p_up": round(float(up.mean()), 3),
      "p_down": round(float(down.mean()), 3),
      "median_distance_m": round(float(np.median(distance)), 2),
      "settled_mean_level": round(settled_level(up.mean(), down.mean(), s.terrain_rows), 2),
    }
  print(json.dumps(result, indent=2))


if __name__ == "__main__":
  main()
