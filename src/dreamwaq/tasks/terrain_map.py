"""A height map of the generated terrain grid, for people to look at (no renderer needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mujoco
import numpy as np
from mjlab.terrains import TerrainEntity, TerrainEntityCfg

from dreamwaq.tasks.terrain import TILE_SIZE, dreamwaq_terrain_cfg, terrain_type_of


def compile_terrain(
  types: Sequence[str] | None = None, rows: int = 10, cols: int = 20, seed: int = 0
) -> tuple[mujoco.MjModel, list[str]]:
  """The terrain alone as a MuJoCo model, and the sub-terrain name of each column."""
  gen = dreamwaq_terrain_cfg(types, num_rows=rows, num_cols=cols, seed=seed)
  terrain = TerrainEntity(
    TerrainEntityCfg(terrain_type="generator", terrain_generator=gen), "cpu"
  )
  return terrain.spec.compile(), list(gen.sub_terrains)


def height_map(model: mujoco.MjModel, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Top surface height z[y, x] of the terrain's boxes and heightfields (m).

  Rasterises the geoms directly: boxes by their (axis-aligned) footprint, height
  fields by bilinear lookup of their elevation data.
  """
  z = np.full((len(y), len(x)), -np.inf)
  for g in range(model.ngeom):
    pos, size = model.geom_pos[g], model.geom_size[g]
    kind = model.geom_type[g]
    if kind == mujoco.mjtGeom.mjGEOM_HFIELD:
      h = model.geom_dataid[g]
      half = model.hfield_size[h][:2]
    elif kind == mujoco.mjtGeom.mjGEOM_BOX:
      half = size[:2]
    else:
      continue
    # Only the grid window under this geom's (axis-aligned) footprint.
    i0, i1 = (
      np.searchsorted(x, pos[0] - half[0]),
      np.searchsorted(x, pos[0] + half[0], "right"),
    )
    j0, j1 = (
      np.searchsorted(y, pos[1] - half[1]),
      np.searchsorted(y, pos[1] + half[1], "right"),
    )
    if i0 >= i1 or j0 >= j1:
      continue
    window = z[j0:j1, i0:i1]
    if kind == mujoco.mjtGeom.mjGEOM_BOX:
      np.maximum(window, pos[2] + size[2], out=window)
      continue
    nrow, ncol = model.hfield_nrow[h], model.hfield_ncol[h]
    top, adr = model.hfield_size[h][2], model.hfield_adr[h]
    data = model.hfield_data[adr : adr + nrow * ncol].reshape(nrow, ncol)
    # MuJoCo: rows run along y, columns along x, from −size to +size.
    col = ((x[i0:i1] - pos[0] + half[0]) / (2 * half[0]) * (ncol - 1))[None, :]
    row = ((y[j0:j1] - pos[1] + half[1]) / (2 * half[1]) * (nrow - 1))[:, None]
    c0 = np.floor(col).astype(int).clip(0, ncol - 2)
    r0 = np.floor(row).astype(int).clip(0, nrow - 2)
    fc, fr = col - c0, row - r0
    elev = (
      data[r0, c0] * (1 - fc) * (1 - fr) + data[r0, c0 + 1] * fc * (1 - fr)
      + data[r0 + 1, c0] * (1 - fc) * fr + data[r0 + 1, c0 + 1] * fc * fr
    )  # fmt: skip
    np.maximum(window, pos[2] + elev * top, out=window)
  return np.where(np.isfinite(z), z, 0.0)


def plot_terrain_grid(
  out: Path, types: Sequence[str] | None, rows: int, cols: int, seed: int
) -> Path:
  """Write a PNG of the grid: height colour map, one tile per row (difficulty) and column."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  model, names = compile_terrain(types, rows, cols, seed)
  # The grid is centred at the origin: rows along x, columns along y (mjlab).
  x = np.arange(-rows * TILE_SIZE / 2, rows * TILE_SIZE / 2, 0.05)
  y = np.arange(-cols * TILE_SIZE / 2, cols * TILE_SIZE / 2, 0.05)
  z = height_map(model, x, y)
  fig, ax = plt.subplots(figsize=(max(8, cols * 0.7), max(5, rows * 0.6)))
  im = ax.imshow(
    z.T, origin="lower", cmap="terrain", aspect="equal",
    extent=(y[0], y[-1], x[0], x[-1]),
  )  # fmt: skip
  ax.set_xticks([y[0] + (c + 0.5) * TILE_SIZE for c in range(cols)])
  ax.set_xticklabels([terrain_type_of(n).replace("_", "\n") for n in names], fontsize=6)
  ax.set_yticks([x[0] + (r + 0.5) * TILE_SIZE for r in range(rows)])
  ax.set_yticklabels([f"row {r}" for r in range(rows)], fontsize=7)
  for k in range(1, cols):
    ax.axvline(y[0] + k * TILE_SIZE, color="k", lw=0.3)
  for k in range(1, rows):
    ax.axhline(x[0] + k * TILE_SIZE, color="k", lw=0.3)
  ax.set_ylabel("difficulty row (0 easiest)")
  ax.set_title(f"DreamWaQ terrain: {rows} rows × {cols} columns of {TILE_SIZE:g} m tiles")
  fig.colorbar(im, ax=ax, label="height (m)", shrink=0.8)
  fig.tight_layout()
  out.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(out, dpi=110)
  plt.close(fig)
  return out
