"""The DreamWaQ terrain mix (spec §7) built from mjlab's terrain generator."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np
from mjlab.terrains import (
  BoxInvertedPyramidStairsTerrainCfg,
  BoxPyramidStairsTerrainCfg,
  HfDiscreteObstaclesTerrainCfg,
  HfPyramidSlopedTerrainCfg,
  TerrainGeneratorCfg,
)
from mjlab.terrains.terrain_generator import SubTerrainCfg, TerrainOutput

TERRAIN_TYPES: dict[str, float] = {
  "smooth_slope": 0.10,
  "rough_slope": 0.10,
  "stairs_up": 0.35,
  "stairs_down": 0.25,
  "discrete": 0.20,
}
"""Terrain types and their share of the grid's columns (spec §7)."""

MAX_SLOPE_DEG = 22.0
STEP_HEIGHT_RANGE = (0.05, 0.20)
"""Stair riser (m) from the easiest row to the hardest."""
STEP_WIDTH = 0.31
OBSTACLE_HEIGHT_RANGE = (0.05, 0.20)
ROUGH_NOISE = 0.05
"""Half-width (m) of the uniform noise on rough slopes."""
TILE_SIZE = 8.0
OBSTACLES_PER_TILE = 20
PLATFORM = 3.0


@dataclass(kw_only=True)
class HfRoughPyramidSlopedTerrainCfg(HfPyramidSlopedTerrainCfg):
  """A pyramid slope with uniform height noise on top (legged_gym's rough slope).

  mjlab has the two parts as separate sub-terrains; this adds the noise to the
  slope's heightfield after mjlab builds it.
  """

  noise: float = ROUGH_NOISE
  noise_step: float = 0.005

  def function(
    self, difficulty: float, spec: mujoco.MjSpec, rng: np.random.Generator
  ) -> TerrainOutput:
    out = super().function(difficulty, spec, rng)
    terrain_geom = out.geometries[0]
    field, geom = terrain_geom.hfield, terrain_geom.geom
    assert field is not None and geom is not None
    shape = (field.nrow, field.ncol)
    heights = np.asarray(field.userdata, dtype=np.float64).reshape(shape) * field.size[2]
    heights += geom.pos[2]
    levels = np.arange(-self.noise, self.noise + 1e-9, self.noise_step)
    heights += rng.choice(levels, size=shape)
    low, span = heights.min(), max(np.ptp(heights), 1e-6)
    field.userdata = ((heights - low) / span).astype(np.float32).flatten().tolist()
    field.size = [field.size[0], field.size[1], span, span * self.base_thickness_ratio]
    geom.pos = [geom.pos[0], geom.pos[1], low]
    out.origin[2] = heights[shape[0] // 2, shape[1] // 2]
    return out


def past_tile_edge(offset_xy: np.ndarray, tile_size: float) -> np.ndarray:
  """Whether a point ``offset_xy`` (m, [..., 2]) from a tile's centre is past the edge of
  that square tile: the rule of ``eval``'s tile exits and ``sim2sim``'s respawns."""
  return np.abs(offset_xy).max(axis=-1) > tile_size / 2


def _sub_terrain(kind: str, inverted: bool, tile_size: float) -> SubTerrainCfg:
  """One column's generator for a terrain type; ``inverted`` picks the pit form.
  Obstacles keep their density (20 per 8 m × 8 m tile) on tiles of another size."""
  slope = (0.0, math.tan(math.radians(MAX_SLOPE_DEG)))
  if kind == "smooth_slope":
    return HfPyramidSlopedTerrainCfg(
      slope_range=slope, platform_width=PLATFORM, border_width=0.25, inverted=inverted
    )
  if kind == "rough_slope":
    return HfRoughPyramidSlopedTerrainCfg(
      slope_range=slope, platform_width=PLATFORM, border_width=0.25, inverted=inverted
    )
  if kind == "stairs_up":  # A pit: the robot starts at the bottom and climbs out.
    return BoxInvertedPyramidStairsTerrainCfg(
      step_height_range=STEP_HEIGHT_RANGE,
      step_width=STEP_WIDTH,
      platform_width=PLATFORM,
      border_width=1.0,
    )
  if kind == "stairs_down":  # A pyramid: the robot starts on top and walks down.
    return BoxPyramidStairsTerrainCfg(
      step_height_range=STEP_HEIGHT_RANGE,
      step_width=STEP_WIDTH,
      platform_width=PLATFORM,
      border_width=1.0,
    )
  if kind == "discrete":
    return HfDiscreteObstaclesTerrainCfg(
      obstacle_width_range=(1.0, 2.0),
      obstacle_height_range=OBSTACLE_HEIGHT_RANGE,
      num_obstacles=round(OBSTACLES_PER_TILE * (tile_size / TILE_SIZE) ** 2),
      platform_width=PLATFORM,
      border_width=0.25,
    )
  raise ValueError(f"unknown terrain type {kind!r}; choose from {', '.join(TERRAIN_TYPES)}")


def column_types(num_cols: int, types: Sequence[str] | None = None) -> list[str]:
  """The terrain type of each column: the types' shares of ``num_cols``, in order.

  Largest remainders, then every type gets at least one column when there are enough.
  """
  shares = {t: TERRAIN_TYPES[t] for t in types} if types else dict(TERRAIN_TYPES)
  ideal = np.array(list(shares.values())) / sum(shares.values()) * num_cols
  counts = np.floor(ideal + 1e-9).astype(int)
  counts[np.argsort(-(ideal - counts), kind="stable")[: num_cols - counts.sum()]] += 1
  while num_cols >= len(counts) and (counts == 0).any():
    counts[np.argmax(counts)] -= 1
    counts[np.argmin(counts)] += 1
  return [kind for kind, n in zip(shares, counts, strict=True) for _ in range(int(n))]


def dreamwaq_terrain_cfg(
  types: Sequence[str] | None = None,
  num_rows: int = 10,
  num_cols: int = 20,
  difficulty_range: tuple[float, float] = (0.0, 1.0),
  seed: int | None = None,
  tile_size: float = TILE_SIZE,
) -> TerrainGeneratorCfg:
  """10 difficulty rows × 20 columns of 8 m tiles (``tile_size``); difficulty grows
  with the row.

  ``types`` restricts the grid to some terrain types (their shares renormalised);
  ``difficulty_range`` narrows the rows' difficulties (the last row is the hardest).
  Slope columns alternate between pyramid (walk down first) and pit (walk up first).
  """
  for t in types or ():
    if t not in TERRAIN_TYPES:
      raise ValueError(
        f"unknown terrain type {t!r}; choose from {', '.join(TERRAIN_TYPES)}"
      )
  kinds = column_types(num_cols, types)
  sub_terrains: dict[str, SubTerrainCfg] = {}
  for col, kind in enumerate(kinds):
    cfg = _sub_terrain(kind, inverted=kinds[:col].count(kind) % 2 == 1, tile_size=tile_size)
    cfg.proportion = 1.0 / num_cols
    sub_terrains[f"{kind}_{col}"] = cfg
  return TerrainGeneratorCfg(
    size=(tile_size, tile_size),
    border_width=20.0,
    num_rows=num_rows,
    num_cols=num_cols,
    curriculum=True,
    difficulty_range=difficulty_range,
    sub_terrains=sub_terrains,
    seed=seed,
    add_lights=True,
  )


def terrain_type_of(sub_terrain_name: str) -> str:
  """The terrain type a generated column belongs to (its name without the index)."""
  return sub_terrain_name.rsplit("_", 1)[0]
