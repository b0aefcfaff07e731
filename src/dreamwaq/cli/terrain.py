"""``dreamwaq terrain --out terrain.png``: a picture of the generated terrain grid."""

from __future__ import annotations

import argparse
from pathlib import Path

from dreamwaq.tasks.terrain import TERRAIN_TYPES


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("terrain", help="plot the terrain grid (height map by row and column)")
  p.add_argument("--out", type=Path, default=Path("terrain.png"), help="PNG to write")
  p.add_argument("--types", nargs="+", choices=list(TERRAIN_TYPES), help="only these types")
  p.add_argument("--rows", type=int, default=10)
  p.add_argument("--cols", type=int, default=20)
  p.add_argument("--seed", type=int, default=0)
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  from dreamwaq.tasks.terrain_map import plot_terrain_grid

  if args.rows < 1 or args.cols < 1:
    raise ValueError("--rows and --cols must be at least 1")
  path = plot_terrain_grid(args.out, args.types, args.rows, args.cols, args.seed)
  print(f"wrote {path}")
  return 0
