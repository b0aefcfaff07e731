"""Choose one of several evaluated checkpoints by a rule fixed before reading them.

Made to run on the GPU machine between a selection call and a confirmation call: a
machine idle for 30 s is given back, too short for a person to read a table.

The rule: among the checkpoints whose run's mean terrain level over the 50 iterations
ending at them is at least ``--min-level``, the one whose lowest pooled success over
``--groups`` (TERRAIN:ROW) is highest. Each checkpoint's readings (seeds) are pooled by
``pool_evals.pool``. The chosen checkpoint is confirmed on other seeds (tiles it was not
chosen on): its reading on the seeds it was chosen on is biased upwards.

  python benchmarks/select_checkpoint.py EVAL_JSON ... [--min-level 6] \\
      [--groups stairs_up:5 discrete:5] [--runs ROOT]

Prints a line per checkpoint, then the chosen iteration alone on the last line (``none``
and exit 3 when no checkpoint reaches the level). ``--runs ROOT``: read the runs' curves
from ROOT/<experiment>/<run folder>/ instead of the paths the evaluations recorded (the
GPU machine's /root/runs/...), e.g. ``benchmarks/carry``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from pool_evals import pool  # benchmarks/pool_evals.py, beside this script

from dreamwaq.evaluation.curves import Curve, read_curves
from dreamwaq.learning.runner import TERRAIN_LEVEL
from dreamwaq.runs import CHECKPOINT


def group_key(text: str) -> tuple[str, int]:
  """``stairs_up:5`` -> ("stairs_up", 5)."""
  terrain, sep, row = text.partition(":")
  if not sep or not row.isdigit():
    raise argparse.ArgumentTypeError(f"{text!r} is not TERRAIN:ROW")
  return terrain, int(row)


@functools.cache
def level_curve(run: Path) -> Curve:
  """A run folder's mean terrain level, with its earlier folders: read once, as the
  checkpoints of one run share it (a run's events take seconds to read)."""
  return read_curves(run, [TERRAIN_LEVEL])[TERRAIN_LEVEL]


def candidates(
  evals: list[dict], groups: list[tuple[str, int]], runs: Path | None
) -> list[dict]:
  """Per checkpoint (in the order first seen): its iteration, run level and pooled
  success on each group."""
  by_checkpoint: dict[str, list[dict]] = {}
  for e in evals:
    by_checkpoint.setdefault(e["checkpoint"], []).append(e)
  rows = []
  for checkpoint, readings in by_checkpoint.items():
    path = Path(checkpoint)
    match = CHECKPOINT.fullmatch(path.name)
    if match is None:
      raise ValueError(f"{checkpoint} is not a model_N.pt")
    iteration = int(match.group(1))
    run = runs / path.parent.parent.name / path.parent.name if runs else path.parent
    if not run.is_dir():
      raise ValueError(f"no run folder {run} to read {path.name}'s terrain level from")
    success = pool(readings, "nominal")["success_pct"]
    missing = [g for g in groups if g not in success]
    if missing:
      raise ValueError(
        f"{checkpoint} was not evaluated on {missing[0][0]} row {missing[0][1]}"
      )
    level = level_curve(run).ending_at(iteration)
    rows.append(
      {
        "run": run.name,
        "iteration": iteration,
        "seeds": len(readings),
        "level": level,
        "success": {g: success[g] for g in groups},
        "lowest": min(success[g] for g in groups),
      }
    )
  return rows


def choose(rows: list[dict], min_level: float) -> dict | None:
  """The rule: the highest lowest success among the rows at ``min_level`` or above."""
  eligible = [r for r in rows if r["level"] >= min_level]
  return max(eligible, key=lambda r: r["lowest"]) if eligible else None


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("evals", nargs="+", type=Path, metavar="EVAL_JSON")
  parser.add_argument("--min-level", type=float, default=6.0)
  parser.add_argument(
    "--groups", nargs="+", type=group_key, default=[("stairs_up", 5), ("discrete", 5)]
  )
  parser.add_argument("--runs", type=Path, default=None)
  args = parser.parse_args(argv)
  try:
    evals = [json.loads(p.read_text()) for p in args.evals]
    rows = candidates(evals, args.groups, args.runs)
  except (OSError, json.JSONDecodeError, KeyError, ValueError) as err:
    print(f"select_checkpoint: {err}", file=sys.stderr)
    return 2
  for r in rows:
    cells = " ".join(f"{t}:{row} {v:.1f}" for (t, row), v in r["success"].items())
    print(
      f"{r['run']} {r['iteration']}: level {r['level']:.3f}, {r['seeds']} reading(s), "
      f"{cells}, lowest {r['lowest']:.1f}"
    )
  chosen = choose(rows, args.min_level)
  print(chosen["iteration"] if chosen else "none")
  return 0 if chosen else 3


if __name__ == "__main__":
  sys.exit(main())
