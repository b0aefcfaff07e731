"""How does a policy fall on stairs? Every fall of an evaluation rollout, dissected.

``dreamwaq eval`` says how often robots fall; this says how. It rolls a checkpoint out
on one terrain type and row of the evaluation grid (the eval's env, tiles and seeds)
and prints, per fall, the termination term that fired, roll and pitch, the travel
direction relative to the stair edge being crossed, the trunk's lowest height over the
terrain, and which leg parts (hip, thigh, calf: not feet) touched the terrain in the
0.5 s before, with the time of the first such touch, and the command in force; then
falls per minute alive under each kind of command (sideways, turning, fast); then the same leg-contact
rates over all robots' time alive, for comparison, and how high the front feet
swing (the 95th percentile of each robot's front-foot height over the terrain below). A policy that trips over step
edges shows leg contacts before most falls and rarely otherwise.

    python benchmarks/fall_anatomy.py --task a1_waq --load_run src/dreamwaq/pretrained/a1_waq \
      --terrain stairs_up --row 5 --num_envs 48 --command 0.5 0 0 --out fall.json
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mjlab.rl import RslRlVecEnvWrapper
from mjlab.sensor import ContactMatch, ContactSensorCfg

from dreamwaq.cli.export import add_checkpoint_args, checkpoint_path
from dreamwaq.evaluation.grid import grid_env_cfg, place_robots, row_parameter
from dreamwaq.export.deployed import load_deployment
from dreamwaq.play.session import Act, open_env, policy_actor
from dreamwaq.robot import a1
from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.registry import get_task
from dreamwaq.tasks.rewards import FOOT_HEIGHT_SENSOR, base_height_over_terrain
from dreamwaq.tasks.terrain import TERRAIN_TYPES

LEG_PARTS = ("hip", "thigh", "calf")
LEG_SENSOR = "fall_anatomy_leg_contact"
"""Not the env's own ``leg_contact`` (thighs and calves, when ``leg_collision`` is on)."""
LOOKBACK_S = 0.5


def leg_contact_sensor() -> ContactSensorCfg:
  """Contacts of every hip, thigh and calf geom with the terrain."""
  return ContactSensorCfg(
    name=LEG_SENSOR,
    primary=ContactMatch(mode="geom", pattern=a1.leg_geoms(LEG_PARTS), entity="robot"),
    secondary=ContactMatch(mode="body", pattern="terrain"),
    fields=("found",),
    reduce="none",
    num_slots=1,
  )


def approach_angle_deg(offset: np.ndarray, travel: np.ndarray) -> float:
  """Angle (0 = square on, 90 = along the edge) between the travel direction and
  the normal of the pyramid's step edge at ``offset`` from the tile's centre."""
  axis = 0 if abs(offset[0]) >= abs(offset[1]) else 1
  speed = float(np.linalg.norm(travel))
  if speed < 1e-6:
    return float("nan")
  return math.degrees(math.acos(min(1.0, abs(travel[axis]) / speed)))


@dataclass
class Records:
  """Per step t and robot i, the state before step t; ``falls``: one dict per first fall."""

  dt: float
  contacts: np.ndarray  # [T, n, legs × parts] leg part touched the terrain in step t
  height: np.ndarray  # [T, n] trunk height over the terrain (m)
  foot_height: np.ndarray  # [T, n, legs] foot height over the terrain below (m)
  command: np.ndarray  # [T, n, 3] the command in force (m/s, m/s, rad/s)
  falls: list[dict]

  def alive(self) -> np.ndarray:
    """[T, n] steps before each robot's first fall."""
    steps, n = self.height.shape
    end = {f["robot"]: round(f["time_s"] / self.dt) for f in self.falls}
    return np.arange(steps)[:, None] < np.array([end.get(i, steps) for i in range(n)])


def record(vec: RslRlVecEnvWrapper, act: Act, steps: int) -> Records:
  """Run ``steps`` policy steps and dissect each robot's first fall."""
  env = vec.unwrapped
  robot = env.scene["robot"].data
  sensor = env.scene[LEG_SENSOR]
  terms = env.termination_manager.active_terms
  origin = env.scene.terrain.env_origins[:, :2].cpu().numpy()
  back = round(LOOKBACK_S / env.step_dt)
  n = env.num_envs
  contacts = np.zeros((steps, n, len(a1.LEGS) * len(LEG_PARTS)), dtype=bool)
  position = np.zeros((steps, n, 3))
  gravity = np.zeros((steps, n, 3))
  height = np.zeros((steps, n))
  foot_height = np.zeros((steps, n, len(a1.LEGS)))
  command = np.zeros((steps, n, 3))
  twist = env.command_manager.get_term(COMMAND_NAME)
  parts = [f"{leg}_{part}" for leg in a1.LEGS for part in LEG_PARTS]
  falls, fallen = [], np.zeros(n, dtype=bool)
  obs, _ = vec.reset()
  for t in range(steps):
    actions, _ = act(obs)
    # The state before the step: a robot that falls in it is respawned by the step.
    position[t] = robot.root_link_pos_w.cpu().numpy()
    gravity[t] = robot.projected_gravity_b.cpu().numpy()
    height[t] = base_height_over_terrain(env).cpu().numpy()
    foot_height[t] = env.scene[FOOT_HEIGHT_SENSOR].data.heights.cpu().numpy()
    command[t] = twist.vel_command_b.cpu().numpy()
    obs, _, _, _ = vec.step(actions)
    contacts[t] = (sensor.data.found > 0).cpu().numpy()
    fired = {name: env.termination_manager.get_term(name).cpu().numpy() for name in terms}
    done = env.termination_manager.terminated.cpu().numpy()
    for i in np.flatnonzero(done & ~fallen):
      fallen[i] = True  # First fall only.
      lo = max(0, t - back)
      here = position[t, i]
      window = contacts[lo : t + 1, i]
      first = np.flatnonzero(window.any(axis=1))
      g = gravity[t, i]
      falls.append({
        "robot": int(i), "time_s": round(t * env.step_dt, 2),
        "terms": [name for name in terms if fired[name][i]],
        "roll_deg": round(math.degrees(math.atan2(g[1], -g[2])), 1),
        "pitch_deg": round(math.degrees(math.atan2(-g[0], -g[2])), 1),
        "min_height_m": round(float(height[lo : t + 1, i].min()), 3),
        "approach_deg": round(
          approach_angle_deg(here[:2] - origin[i], here[:2] - position[lo, i, :2]), 1
        ),
        "distance_m": round(float(np.linalg.norm(here[:2] - origin[i])), 2),
        "command": [round(float(c), 2) for c in command[t, i]],
        "leg_contacts": [p for p, hit in zip(parts, window.any(axis=0)) if hit],
        "first_leg_contact_before_s": (
          round((t - lo - first[0]) * env.step_dt, 2) if first.size else None
        ),
      })  # fmt: skip
  return Records(env.step_dt, contacts, height, foot_height, command, falls)


COMMAND_KINDS = {
  "forward v_x > 0.5 m/s": lambda c: c[..., 0] > 0.5,
  "backward v_x < -0.5 m/s": lambda c: c[..., 0] < -0.5,
  "|v_x| <= 0.5 m/s": lambda c: np.abs(c[..., 0]) <= 0.5,
  "sideways |v_y| > 0.5 m/s": lambda c: np.abs(c[..., 1]) > 0.5,
  "|v_y| <= 0.5 m/s": lambda c: np.abs(c[..., 1]) <= 0.5,
  "turning |w_z| > 0.5 rad/s": lambda c: np.abs(c[..., 2]) > 0.5,
  "|w_z| <= 0.5 rad/s": lambda c: np.abs(c[..., 2]) <= 0.5,
  "fast |v_xy| > 0.7 m/s": lambda c: np.linalg.norm(c[..., :2], axis=-1) > 0.7,
  "|v_xy| <= 0.7 m/s": lambda c: np.linalg.norm(c[..., :2], axis=-1) <= 0.7,
}
"""Overlapping kinds of command; each row of the summary counts the time alive and the
falls under it."""


def falls_by_command(rec: Records) -> dict:
  """Per kind of command: minutes alive under it, the falls under it (and by
  termination term), falls per minute."""
  alive = rec.alive()
  out = {}
  for kind, matches in COMMAND_KINDS.items():
    under = matches(rec.command)
    minutes = float((under & alive).sum() * rec.dt / 60.0)
    falls = [f for f in rec.falls if under[round(f["time_s"] / rec.dt), f["robot"]]]
    out[kind] = {
      "minutes_alive": round(minutes, 1),
      "falls": len(falls),
      "by_term": dict(Counter("+".join(f["terms"]) for f in falls)),
      "falls_per_min": round(len(falls) / minutes, 3) if minutes else None,
    }
  return out


def summarize(rec: Records) -> dict:
  """Falls by cause and leg contacts before them, beside the same contacts, trunk
  heights and swing heights over all robots' time alive."""
  falls, alive = rec.falls, rec.alive()
  steps, n = alive.shape
  back = round(LOOKBACK_S / rec.dt)
  per_part = rec.contacts.reshape(steps, n, len(a1.LEGS), len(LEG_PARTS)).any(axis=2)
  # Chance that a 0.5 s window of a robot's time alive holds a leg contact, per part.
  window_rate = {
    part: float(np.mean([
      per_part[w * back:(w + 1) * back, i, k].any()
      for i in range(n) for w in range(max(1, steps // back))
      if alive[min(steps - 1, w * back + back - 1), i]
    ]))
    for k, part in enumerate(LEG_PARTS)
  }  # fmt: skip
  before_fall = {
    part: float(np.mean([any(c.endswith(part) for c in f["leg_contacts"]) for f in falls]))
    if falls else None
    for part in LEG_PARTS
  }  # fmt: skip
  angles = [f["approach_deg"] for f in falls if not math.isnan(f["approach_deg"])]
  alive_height = rec.height[alive]
  front = [a1.LEGS.index(leg) for leg in ("FL", "FR")]
  apex = [np.percentile(rec.foot_height[alive[:, i], i][:, front], 95) for i in range(n)]
  return {
    "falls": len(falls),
    "falls_by_term": dict(Counter("+".join(f["terms"]) for f in falls)),
    "leg_contact_before_fall": before_fall,
    "leg_contact_per_0.5s_alive": window_rate,
    "front_foot_apex_m_median": round(float(np.median(apex)), 3),
    "trunk_height_m": {
      "alive_median": round(float(np.median(alive_height)), 3),
      "alive_p05": round(float(np.percentile(alive_height, 5)), 3),
      "falls_min_median": round(float(np.median([f["min_height_m"] for f in falls])), 3)
      if falls else None,
    },
    "falls_by_command": falls_by_command(rec),
    "approach_deg_of_falls": {
      "median": float(np.median(angles)) if angles else None,
      "under_30": sum(a < 30 for a in angles), "30_to_60": sum(30 <= a < 60 for a in angles),
      "over_60": sum(a >= 60 for a in angles),
    },
  }  # fmt: skip


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  add_checkpoint_args(parser)
  parser.add_argument("--terrain", choices=list(TERRAIN_TYPES), default="stairs_up")
  parser.add_argument("--row", type=int, default=5)
  parser.add_argument("--num_envs", type=int, default=48)
  parser.add_argument("--duration", type=float, default=20.0)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--command", type=float, nargs=3, metavar=("VX", "VY", "WZ"))
  parser.add_argument("--out", type=Path, help="write the falls and summary as JSON")
  args = parser.parse_args()

  task = get_task(args.task)
  command = tuple(args.command) if args.command else None
  policy = load_deployment(task, checkpoint_path(args))
  cfg = grid_env_cfg(task, [args.terrain], [args.row], args.num_envs, args.seed, command)
  cfg.scene.sensors = (*cfg.scene.sensors, leg_contact_sensor())
  vec = open_env(cfg, "cpu")
  place_robots(vec.unwrapped, [(args.terrain, args.row)] * args.num_envs, args.row)
  steps = round(args.duration / vec.unwrapped.step_dt)
  rec = record(vec, policy_actor(task, policy, "cpu"), steps)
  vec.close()
  summary = {
    "task": task.name, "terrain": args.terrain, "row": args.row,
    "parameter": row_parameter(args.terrain, args.row).__dict__,
    "command": command, "robots": args.num_envs, "duration_s": args.duration,
    **summarize(rec),
  }  # fmt: skip
  for f in rec.falls:
    print(json.dumps(f))
  print(json.dumps(summary, indent=1))
  if args.out:
    args.out.write_text(
      json.dumps({"summary": summary, "falls": rec.falls}, indent=1) + "\n"
    )


if __name__ == "__main__":
  main()
