"""Runs' training curves at marks, to set runs side by side at the same iterations.

Each value is the mean over the 50 iterations ending at the mark (`Curve.ending_at`): one
iteration's value moves with the episodes that happened to end in it. A run reads with
the folders it resumed, so a fine-tune's marks can be before its own first iteration.

    python benchmarks/level_windows.py RUN_DIR [RUN_DIR ...] --marks N [N ...] [--tags TAG ...]

Per run: the mean terrain level, overall and per terrain type, then each ``--tags`` curve
(e.g. ``Episode_Termination/base_contact``), at every mark the run reached.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from dreamwaq.evaluation.curves import read_curves
from dreamwaq.learning.runner import TERRAIN_LEVEL
from dreamwaq.tasks.terrain import TERRAIN_TYPES

LEVEL_TAGS = [TERRAIN_LEVEL] + [f"Curriculum/terrain_levels/{t}" for t in TERRAIN_TYPES]


def windows(
  run_dir: Path, marks: Sequence[int], tags: Sequence[str] = ()
) -> dict[str, dict[int, float]]:
  """Per tag the run logged (the levels first, then ``tags``): its value at each mark
  within the iterations it logged."""
  curves = read_curves(run_dir, [*LEVEL_TAGS, *tags])
  return {
    tag: {m: c.ending_at(m) for m in marks if c.iterations.min() <= m <= c.iterations.max()}
    for tag in (*LEVEL_TAGS, *tags)
    if (c := curves.get(tag)) is not None
  }


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("runs", nargs="+", type=Path, help="run folders")
  parser.add_argument("--marks", nargs="+", type=int, required=True)
  parser.add_argument("--tags", nargs="*", default=[], help="other scalars to read")
  args = parser.parse_args()
  for run in args.runs:
    if not run.is_dir():
      parser.error(f"no run folder {run}")
    for tag, values in windows(run, args.marks, args.tags).items():
      print(run.name, tag, {m: round(v, 4) for m, v in values.items()})


if __name__ == "__main__":
  main()
