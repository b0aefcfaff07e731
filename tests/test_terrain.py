"""The generated grid holds the five DreamWaQ terrain types, harder row by row."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from dreamwaq.cli.main import main
from dreamwaq.tasks.terrain import (
  TERRAIN_TYPES,
  TILE_SIZE,
  column_types,
  dreamwaq_terrain_cfg,
  terrain_type_of,
)
from dreamwaq.tasks.terrain_map import compile_terrain, height_map


def test_columns_follow_the_type_shares():
  counts = Counter(column_types(20))
  assert counts == {
    "smooth_slope": 2,
    "rough_slope": 2,
    "stairs_up": 7,
    "stairs_down": 5,
    "discrete": 4,
  }
  assert column_types(3, ["stairs_up"]) == ["stairs_up"] * 3


def test_all_five_types_with_difficulty_increasing_by_row():
  rows = 4
  model, names = compile_terrain(rows=rows, cols=5, seed=0)
  assert [terrain_type_of(n) for n in names] == list(TERRAIN_TYPES)
  x = np.arange(-rows * TILE_SIZE / 2, rows * TILE_SIZE / 2, 0.05)
  y = np.arange(-5 * TILE_SIZE / 2, 5 * TILE_SIZE / 2, 0.05)
  z = height_map(model, x, y)
  reliefs = {}
  for col, name in enumerate(names):
    relief = reliefs[terrain_type_of(name)] = []
    for row in range(rows):
      tile = z[(y >= y[0] + col * TILE_SIZE) & (y < y[0] + (col + 1) * TILE_SIZE)][
        :, (x >= x[0] + row * TILE_SIZE) & (x < x[0] + (row + 1) * TILE_SIZE)
      ]
      relief.append(np.ptp(tile))
    assert all(b > a for a, b in itertools.pairwise(relief)), (name, relief)
  # The hardest row: 20 cm risers over four steps; 20 cm obstacles as bumps and pits.
  assert reliefs["stairs_up"][-1] > 0.75 and reliefs["stairs_down"][-1] > 0.75
  assert 0.3 < reliefs["discrete"][-1] <= 0.41


def test_terrain_command_writes_a_png(tmp_path):
  out = tmp_path / "grid.png"
  assert main(["terrain", "--out", str(out), "--rows", "2", "--cols", "5"]) == 0
  assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_larger_tiles_keep_the_obstacle_density():
  """Evaluation tiles are 3 × 8 m; obstacles per m² stay those of training."""
  (train,) = dreamwaq_terrain_cfg(("discrete",), 1, 1).sub_terrains.values()
  cfg = dreamwaq_terrain_cfg(("discrete",), 1, 1, tile_size=3 * TILE_SIZE)
  (evaluation,) = cfg.sub_terrains.values()
  assert cfg.size == (24.0, 24.0)
  assert evaluation.num_obstacles / 24.0**2 == train.num_obstacles / TILE_SIZE**2
