"""The evaluation suite (``dreamwaq eval``): per condition, terrain type and row, and
per push level, the metrics of ``metrics.DEFINITIONS``, as a JSON-ready dict.

Two rollouts, whatever the number of groups: one env holds every (condition, terrain
type, row) group of robots on the terrain grid, one every (condition, push level)
group on flat ground. Each env is seeded with ``seed`` when built: the same seed gives
the same numbers on the CPU (GPU contact solving may differ in the last bits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from mjlab.rl import RslRlVecEnvWrapper
from torch import nn

from dreamwaq.evaluation.conditions import CONDITIONS, apply_condition, get_condition
from dreamwaq.evaluation.grid import (
  EVAL_TILE_SIZE,
  grid_env_cfg,
  place_robots,
  row_parameter,
)
from dreamwaq.evaluation.metrics import (
  DEFINITIONS,
  Trajectory,
  hardest_row,
  max_push,
  summarize,
)
from dreamwaq.evaluation.push import (
  DEFAULT_PUSH_LEVELS,
  PAPER_PUSH_LEVEL,
  PUSH_DEFINITION,
  push_env_cfg,
)
from dreamwaq.evaluation.rollout import rollout
from dreamwaq.export.sim2sim import Command
from dreamwaq.play.scene import level_difficulty
from dreamwaq.play.session import Act, open_env, policy_actor
from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.registry import TaskSpec
from dreamwaq.tasks.terrain import TERRAIN_TYPES

ALL_ROWS: tuple[int, ...] = tuple(range(A1EnvSettings().terrain_rows))


@dataclass(frozen=True)
class EvalConfig:
  robots: int = 32
  """Robots per group: per (condition, terrain type, row), per (condition, push level)."""
  duration_s: float = 20.0
  """Episode length (s); the paper's episodes last 20 s."""
  seed: int = 0
  rows: tuple[int, ...] = ALL_ROWS
  """Rows of the training grid (0 easiest … 9 hardest)."""
  fields: int = 1
  """Tiles per (terrain type, row), each its own draw of obstacles and noise; a group's
  robots are spread evenly over them (``grid.place_robots``)."""
  terrains: tuple[str, ...] = tuple(TERRAIN_TYPES)
  conditions: tuple[str, ...] = tuple(CONDITIONS)
  push_levels: tuple[float, ...] = DEFAULT_PUSH_LEVELS
  """Push levels searched (m/s); the paper's level is always added; empty: no push test."""
  command: Command | None = None
  """A fixed (v_x, v_y, yaw rate); None: training's U[−1, 1] commands, resampled at 10 s."""
  heading: bool = False
  """Random commands as training draws them: yaw rate steered toward a random heading
  (by the trained settings' ``heading_stiffness``). False: yaw rate ~ U[−1, 1], the
  protocol of ``docs/results.md``: robots walk arcs and meet stair risers at an angle."""

  def checked(self) -> EvalConfig:
    """The config with rows and levels sorted and deduplicated; ValueError for a
    value that does not fit."""
    if self.robots <= 0:
      raise ValueError(f"--num_envs must be positive, got {self.robots}")
    if self.duration_s <= 0:
      raise ValueError(f"--duration must be positive, got {self.duration_s}")
    if not 1 <= self.fields <= self.robots:
      raise ValueError(f"--fields must be between 1 and --num_envs, got {self.fields}")
    if not self.rows or not self.terrains or not self.conditions:
      raise ValueError("choose at least one row, terrain type and condition")
    for row in self.rows:
      level_difficulty(row)  # ValueError outside the grid.
    for kind in self.terrains:
      if kind not in TERRAIN_TYPES:
        choices = ", ".join(TERRAIN_TYPES)
        raise ValueError(f"unknown terrain type {kind!r}; choose from {choices}")
    for name in self.conditions:
      get_condition(name)
    if self.heading and self.command is not None:
      raise ValueError("--heading steers random commands; it cannot go with --command")
    if any(level <= 0 for level in self.push_levels):
      raise ValueError("--push_levels must be positive (m/s)")
    levels = set(self.push_levels) | ({PAPER_PUSH_LEVEL} if self.push_levels else set())
    return replace(
      self,
      rows=tuple(sorted(set(self.rows))),
      terrains=tuple(dict.fromkeys(self.terrains)),
      conditions=tuple(dict.fromkeys(self.conditions)),
      push_levels=tuple(sorted(levels)),
    )


@dataclass(frozen=True)
class _Groups:
  """Robot groups of one env, ``robots`` consecutive robots each; a key's first
  entry is the group's condition."""

  robots: int
  keys: tuple[tuple, ...]

  def ids(self, index: int) -> slice:
    return slice(index * self.robots, (index + 1) * self.robots)

  def of_condition(self, condition: str) -> list[int]:
    """Every robot of the groups of ``condition``."""
    first = [i * self.robots for i, key in enumerate(self.keys) if key[0] == condition]
    return [start + k for start in first for k in range(self.robots)]

  @property
  def num_envs(self) -> int:
    return len(self.keys) * self.robots


def evaluate(
  task: TaskSpec,
  policy: nn.Module,
  config: EvalConfig,
  device: str,
  settings: A1EnvSettings | None = None,
  log: Callable[[str], None] = print,
) -> dict[str, Any]:
  """Run the suite with ``policy`` (the deployed module of ``task``) in envs built from
  the ``settings`` it trained with (default: the task's)."""
  config = config.checked()
  settings = settings or A1EnvSettings()
  act = policy_actor(task, policy, device)
  terrain = _terrain(task, act, config, settings, device, log)
  push = _push(task, act, config, settings, device, log) if config.push_levels else {}
  return {
    "task": task.name,
    "config": asdict(config),
    "trained_env_changes": settings.changes(),
    "definitions": DEFINITIONS | {"push": PUSH_DEFINITION},
    "conditions": {
      name: {
        "label": CONDITIONS[name].label,
        "terrain": terrain[name],
        "push": push.get(name),
      }
      for name in config.conditions
    },
  }


def _run(
  vec: RslRlVecEnvWrapper,
  act: Act,
  config: EvalConfig,
  groups: _Groups,
  what: str,
  log: Callable[[str], None],
  tile_size: float | None = None,
) -> Trajectory:
  """Apply each group's condition, roll out, close the env."""
  env = vec.unwrapped
  for name in config.conditions:
    ids = torch.tensor(groups.of_condition(name), device=env.device)
    apply_condition(env, ids, CONDITIONS[name])
  steps = max(1, round(config.duration_s / env.step_dt))
  start = time.perf_counter()
  traj = rollout(vec, act, steps, tile_size)
  vec.close()
  log(
    f"{what}: {env.num_envs} robots × {steps} steps in {time.perf_counter() - start:.1f} s"
  )
  return traj


def _terrain(
  task: TaskSpec,
  act: Act,
  config: EvalConfig,
  settings: A1EnvSettings,
  device: str,
  log: Callable[[str], None],
) -> dict[str, Any]:
  keys = [
    (c, k, r) for c in config.conditions for k in config.terrains for r in config.rows
  ]
  groups = _Groups(config.robots, tuple(keys))
  cfg = grid_env_cfg(
    task,
    config.terrains,
    config.rows,
    groups.num_envs,
    config.seed,
    config.command,
    settings=settings,
    heading=config.heading,
    fields=config.fields,
  )
  vec = open_env(cfg, device)
  tiles = [(kind, row) for _, kind, row in groups.keys for _ in range(config.robots)]
  place_robots(vec.unwrapped, tiles, first_row=config.rows[0])
  traj = _run(vec, act, config, groups, "terrain", log, EVAL_TILE_SIZE)
  results: dict[str, Any] = {c: {} for c in config.conditions}
  for i, (condition, kind, row) in enumerate(groups.keys):
    entry = results[condition].setdefault(kind, {"rows": []})
    entry["rows"].append(
      {
        "row": row,
        "difficulty": level_difficulty(row),
        "parameter": asdict(row_parameter(kind, row)),
        **asdict(summarize(traj.select(groups.ids(i)))),
      }
    )
  for per_type in results.values():
    for kind, entry in per_type.items():
      rows = entry["rows"]
      best = hardest_row([r["row"] for r in rows], [r["success_rate"] for r in rows])
      entry["hardest_row"] = best
      entry["hardest_parameter"] = (
        None if best is None else asdict(row_parameter(kind, best))
      )
  return results


def _push(
  task: TaskSpec,
  act: Act,
  config: EvalConfig,
  settings: A1EnvSettings,
  device: str,
  log: Callable[[str], None],
) -> dict[str, Any]:
  keys = [(c, level) for c in config.conditions for level in config.push_levels]
  groups = _Groups(config.robots, tuple(keys))
  levels = [level for _, level in groups.keys for _ in range(config.robots)]
  cfg = push_env_cfg(task, levels, config.seed, config.command, settings, config.heading)
  vec = open_env(cfg, device)
  traj = _run(vec, act, config, groups, "push", log)
  results: dict[str, Any] = {}
  for i, (condition, level) in enumerate(groups.keys):
    entry = results.setdefault(condition, {"levels": []})
    entry["levels"].append(
      {"level_mps": level, **asdict(summarize(traj.select(groups.ids(i))))}
    )
  for entry in results.values():
    per_level = entry["levels"]
    entry["max_push_mps"] = max_push(
      [e["level_mps"] for e in per_level], [e["alive_rate"] for e in per_level]
    )
    entry["paper_level_mps"] = PAPER_PUSH_LEVEL
    entry["survival_pct_at_paper_level"] = next(
      e["survival_pct"] for e in per_level if e["level_mps"] == PAPER_PUSH_LEVEL
    )
  return results
