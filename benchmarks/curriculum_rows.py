"""Where a run's robots stand in the terrain curriculum: the share on each row, per type.

A checkpoint keeps every env's row and column (the curriculum term's state, saved so a
resume continues it). Under legged_gym's rule a population promoted after every episode
spends time on row k in proportion to k + 1 (past the top row, a random row), a mean of
6.0 on 10 rows. That is not a ceiling: robots held on the top rows (neither promoted nor
demoted) rarely go back to a random row, and lift the mean above 6; demotions lower it.
This prints the checkpoint's shares beside the all-promoted ones, so a mean level shows
which type and which rows make it.

    python benchmarks/curriculum_rows.py CHECKPOINT [CHECKPOINT ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dreamwaq.learning.runner import CURRICULUM_STATE
from dreamwaq.runs import HEADER, env_settings, read_checkpoint
from dreamwaq.tasks.terrain import column_types


def row_shares(checkpoint: Path) -> dict[str, dict]:
  """Per terrain type (and ``all``): robots, mean row, and the % of robots on each row."""
  infos = read_checkpoint(checkpoint).get("infos") or {}
  state = infos.get(CURRICULUM_STATE)
  if not state:
    raise ValueError(f"{checkpoint} holds no curriculum state (an eval or play run?)")
  s = env_settings(infos.get(HEADER) or {})
  kinds = np.array(column_types(s.terrain_cols, s.terrain_types))
  levels = state["terrain_levels"].numpy()
  types = kinds[state["terrain_types"].numpy()]
  out = {}
  for name in ["all", *dict.fromkeys(kinds)]:
    rows = levels if name == "all" else levels[types == name]
    share = np.bincount(rows, minlength=s.terrain_rows) / len(rows) * 100
    out[name] = {
      "robots": len(rows),
      "mean_level": round(float(rows.mean()), 3),
      "row_pct": [round(float(x), 1) for x in share],
    }
  return out


def all_promoted(rows: int) -> list[float]:
  """% of time on each row of a robot promoted after every episode."""
  k = np.arange(1, rows + 1)
  return [round(float(x), 1) for x in k / k.sum() * 100]


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("checkpoints", nargs="+", type=Path)
  parser.add_argument("--json", type=Path, help="also write the shares here")
  args = parser.parse_args()
  try:
    result = {str(c): row_shares(c) for c in args.checkpoints}
  except (OSError, ValueError) as e:
    parser.error(str(e))
  rows = len(next(iter(result.values()))["all"]["row_pct"])
  top = all_promoted(rows)
  top_mean = sum(k * x for k, x in enumerate(top)) / 100
  head = " ".join(f"{r:>5d}" for r in range(rows))
  for path, shares in result.items():
    print(f"{path}\n  {'row':<14}{head}   mean")
    print(f"  {'all promoted':<14}{' '.join(f'{x:5.1f}' for x in top)}   {top_mean:.2f}")
    for name, v in shares.items():
      pct = " ".join(f"{x:5.1f}" for x in v["row_pct"])
      print(f"  {name:<14}{pct}   {v['mean_level']:.2f} ({v['robots']} robots)")
  if args.json:
    args.json.write_text(
      json.dumps({"all_promoted_row_pct": top, **result}, indent=1) + "\n"
    )


if __name__ == "__main__":
  main()
