"""The evaluation terrain: the task's play env on a grid of the chosen terrain types
(``fields`` columns each) and difficulty rows (those of the training grid), every robot
held on its own tile (play envs have no curriculum).

Each tile is its own draw of the generator: obstacle layouts and rough-slope noise
differ between the columns of one type. Over 13.3 cm obstacles one policy read 73, 87,
76 and 75 % on four single draws (256 robots each), so a group spread over several
fields reads the terrain type, not one layout of it.

The tiles are three times the training's 8 m: at the commands' speeds (up to 1.4 m/s)
a robot crosses an 8 m tile in a few seconds, so over a 20 s episode it would be
measured mostly on its neighbours (other rows and terrain types). Slopes, steps and
obstacle heights and densities per row are the training's.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
from mjlab.envs import ManagerBasedRlEnv, ManagerBasedRlEnvCfg

from dreamwaq.export.sim2sim import Command
from dreamwaq.play.scene import fix_command, level_difficulty
from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.registry import TaskSpec
from dreamwaq.tasks.terrain import TILE_SIZE, dreamwaq_terrain_cfg, terrain_type_of

EVAL_TILE_SIZE = 3 * TILE_SIZE
"""Side of an evaluation tile (m)."""


@dataclass(frozen=True)
class RowParameter:
  """What makes a row of a terrain type hard: slope, stair or obstacle height."""

  name: str
  value: float
  unit: str


def row_parameter(terrain: str, row: int) -> RowParameter:
  """The terrain generator's parameter at ``row`` of the training grid, read from
  the sub-terrain config (mjlab interpolates each range linearly in difficulty)."""
  (sub,) = dreamwaq_terrain_cfg((terrain,), num_rows=1, num_cols=1).sub_terrains.values()
  d = level_difficulty(row)

  def at(low_high: tuple[float, float]) -> float:
    return low_high[0] + d * (low_high[1] - low_high[0])

  if hasattr(sub, "slope_range"):
    return RowParameter("slope", math.degrees(math.atan(at(sub.slope_range))), "°")
  if hasattr(sub, "step_height_range"):
    return RowParameter("step height", 100.0 * at(sub.step_height_range), "cm")
  if hasattr(sub, "obstacle_height_range"):
    return RowParameter("obstacle height", 100.0 * at(sub.obstacle_height_range), "cm")
  raise ValueError(f"no difficulty parameter known for {type(sub).__name__}")


def grid_env_cfg(
  task: TaskSpec,
  terrains: Sequence[str],
  rows: Sequence[int],
  num_envs: int,
  seed: int,
  command: Command | None = None,
  play: bool = True,
  tile_size: float = EVAL_TILE_SIZE,
  settings: A1EnvSettings | None = None,
  heading: bool | None = None,
  fields: int = 1,
) -> ManagerBasedRlEnvCfg:
  """The play env (or, for checks against it, the training env) on rows
  min(rows)…max(rows) of the training grid, ``fields`` columns per terrain type (each
  a separate draw of its obstacles and noise, slopes all pyramids), with fixed
  commands or (None) the training's random ones (yaw commanded as ``heading`` says,
  see ``make_a1_env_cfg``); otherwise as ``settings`` (the ones the policy trained
  with; default: the task's)."""
  low, high = min(rows), max(rows)
  settings = replace(
    settings or A1EnvSettings(),
    terrain_types=tuple(terrains),
    terrain_cols=len(terrains),
    terrain_rows=high - low + 1,
    terrain_tile_size=tile_size,
    difficulty_range=(level_difficulty(low), level_difficulty(high)),
  )
  cfg = task.env_cfg(settings, play=play, heading=heading)
  cfg.scene.num_envs = num_envs
  cfg.seed = seed
  if command is not None:
    fix_command(cfg, task, command)
  if fields > 1:
    _repeat_columns(cfg, fields)
  return cfg


def _repeat_columns(cfg: ManagerBasedRlEnvCfg, fields: int) -> None:
  """Give every terrain type of the grid ``fields`` columns of the same settings
  (mjlab builds one column per sub-terrain and draws each tile from one random stream,
  so the columns differ in their obstacles and noise)."""
  generator = cfg.scene.terrain.terrain_generator
  num_cols = len(generator.sub_terrains) * fields
  generator.sub_terrains = {
    f"{terrain_type_of(name)}_{k * fields + i}": replace(sub, proportion=1.0 / num_cols)
    for k, (name, sub) in enumerate(generator.sub_terrains.items())
    for i in range(fields)
  }
  generator.num_cols = num_cols


def place_robots(
  env: ManagerBasedRlEnv, tiles: Sequence[tuple[str, int]], first_row: int
) -> None:
  """Put robot i on a tile of terrain type ``tiles[i][0]`` and training row
  ``tiles[i][1]`` (the env's grid starts at ``first_row``); it respawns there. The
  robots of one (type, row) take that type's columns in turn, so a group is spread
  evenly over its fields."""
  terrain = env.scene.terrain
  names = list(terrain.cfg.terrain_generator.sub_terrains)
  columns: defaultdict[str, list[int]] = defaultdict(list)
  for col, name in enumerate(names):
    columns[terrain_type_of(name)].append(col)
  seen: Counter[tuple[str, int]] = Counter()
  cols_of_robots = []
  for kind, row in tiles:
    cols_of_robots.append(columns[kind][seen[kind, row] % len(columns[kind])])
    seen[kind, row] += 1
  device = terrain.terrain_levels.device
  rows = torch.tensor([row - first_row for _, row in tiles], device=device)
  cols = torch.tensor(cols_of_robots, device=device)
  terrain.terrain_levels[:] = rows
  terrain.terrain_types[:] = cols
  terrain.env_origins[:] = terrain.terrain_origins[rows, cols]
