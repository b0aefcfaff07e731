"""Pool `dreamwaq eval` readings of one checkpoint over several seeds (terrain draws) into
one row per checkpoint: success % per terrain group and push survival, each weighted by
its robots. One seed's tiles differ by ~4 points from the next's, so a reading against a
target wants several pooled.

  python benchmarks/pool_evals.py LABEL=EVAL_JSON[,EVAL_JSON...] ... [--condition nominal]

Prints a markdown table: per terrain type, success % on each evaluated row (the row's
parameter in the header), then push survival % at the paper's level (robots alive at the
end in brackets), and the robots per cell.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def pool(evals: list[dict], condition: str) -> dict:
  """Robot-weighted success per (terrain, row) and push survival over ``evals``."""
  cells: dict[tuple[str, int], list[float]] = {}
  labels: dict[tuple[str, int], str] = {}
  push = [0.0, 0.0, 0.0]  # survival × robots, alive robots, robots
  for e in evals:
    cond = e["conditions"][condition]
    for terrain, group in cond["terrain"].items():
      for r in group["rows"]:
        key = (terrain, r["row"])
        cell = cells.setdefault(key, [0.0, 0.0])
        cell[0] += r["success_rate"] * r["robots"]
        cell[1] += r["robots"]
        p = r["parameter"]
        labels[key] = f"{p['value']:.1f} {p['unit']}"
    if cond["push"]:
      level = cond["push"]["paper_level_mps"]
      entry = next(x for x in cond["push"]["levels"] if x["level_mps"] == level)
      push[0] += entry["survival_pct"] * entry["robots"]
      push[1] += entry["alive_rate"] * entry["robots"]
      push[2] += entry["robots"]
  return {
    "success_pct": {k: 100 * s / n for k, (s, n) in cells.items()},
    "robots": {k: int(n) for k, (_, n) in cells.items()},
    "parameters": labels,
    "push": (push[0] / push[2], 100 * push[1] / push[2]) if push[2] else None,
  }


def table(rows: dict[str, dict]) -> str:
  """The markdown table of pooled readings, one line per label."""
  keys = list(next(iter(rows.values()))["success_pct"])  # the eval's order
  terrains = list(dict.fromkeys(t for t, _ in keys))
  params = next(iter(rows.values()))["parameters"]
  head = ["checkpoint"]
  for t in terrains:
    head.append(f"{t} ({' / '.join(params[k] for k in keys if k[0] == t)})")
  head += ["push survival % (alive)", "robots per cell"]
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  for label, r in rows.items():
    cols = [label]
    for t in terrains:
      cols.append(" / ".join(f"{r['success_pct'][k]:.1f}" for k in keys if k[0] == t))
    cols.append(f"{r['push'][0]:.1f} ({r['push'][1]:.1f})" if r["push"] else "–")
    cols.append(str(min(r["robots"].values())))
    lines.append("| " + " | ".join(cols) + " |")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("groups", nargs="+", metavar="LABEL=EVAL_JSON[,EVAL_JSON...]")
  parser.add_argument("--condition", default="nominal")
  args = parser.parse_args(argv)
  rows = {}
  for group in args.groups:
    label, sep, files = group.partition("=")
    if not sep or not files:
      print(f"pool_evals: {group!r} is not LABEL=EVAL_JSON[,...]", file=sys.stderr)
      return 2
    evals = []
    for f in files.split(","):
      try:
        evals.append(json.loads(Path(f).read_text()))
      except (OSError, json.JSONDecodeError) as err:
        print(f"pool_evals: cannot read {f}: {err}", file=sys.stderr)
        return 2
    try:
      rows[label] = pool(evals, args.condition)
    except KeyError as err:
      print(f"pool_evals: {label}: no {err} in the eval", file=sys.stderr)
      return 2
  groups = {label: set(r["success_pct"]) for label, r in rows.items()}
  if len({frozenset(g) for g in groups.values()}) > 1:
    print("pool_evals: the checkpoints were evaluated on different groups", file=sys.stderr)
    return 2
  print(table(rows))
  return 0


if __name__ == "__main__":
  sys.exit(main())
