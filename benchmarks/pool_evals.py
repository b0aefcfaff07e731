"""Pool `dreamwaq eval` readings of one checkpoint over several seeds (terrain draws) into
one row per checkpoint: success % per terrain group and push survival, each weighted by
its robots. One seed's tiles differ by ~4 points from the next's, so a reading against a
target wants several pooled.

  python benchmarks/pool_evals.py LABEL=EVAL_JSON[,EVAL_JSON...] ... [--condition nominal] [--se]

Prints a markdown table: per terrain type, success % on each evaluated row (the row's
parameter in the header), then push survival % at the paper's level (robots alive at the
end in brackets), and the robots per cell. ``--se`` adds to each success and survival
figure its standard error over the readings (their spread / √n). The seeds draw
different tiles, whose difficulty can differ beyond the binomial noise of their robots;
the readings' spread holds both, where a binomial interval holds only the robots'. From
a handful of readings it is itself rough: with seven, its own standard error is about
30 % of it (1 / √(2 (n − 1))).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path


def standard_error(readings: list[float]) -> float:
  """The standard error of the mean of ``readings`` (NaN for fewer than two)."""
  if len(readings) < 2:
    return math.nan
  return statistics.stdev(readings) / math.sqrt(len(readings))


def pool(evals: list[dict], condition: str) -> dict:
  """Robot-weighted success per (terrain, row) and push survival over ``evals``, and
  the standard error of each over the readings."""
  cells: dict[tuple[str, int], list[float]] = {}
  readings: dict[tuple[str, int], list[float]] = {}
  labels: dict[tuple[str, int], str] = {}
  push = [0.0, 0.0, 0.0]  # survival × robots, alive robots, robots
  push_readings: list[float] = []
  for e in evals:
    cond = e["conditions"][condition]
    for terrain, group in cond["terrain"].items():
      for r in group["rows"]:
        key = (terrain, r["row"])
        cell = cells.setdefault(key, [0.0, 0.0])
        cell[0] += r["success_rate"] * r["robots"]
        cell[1] += r["robots"]
        readings.setdefault(key, []).append(100 * r["success_rate"])
        p = r["parameter"]
        labels[key] = f"{p['value']:.1f} {p['unit']}"
    if cond["push"]:
      level = cond["push"]["paper_level_mps"]
      entry = next(x for x in cond["push"]["levels"] if x["level_mps"] == level)
      push[0] += entry["survival_pct"] * entry["robots"]
      push[1] += entry["alive_rate"] * entry["robots"]
      push[2] += entry["robots"]
      push_readings.append(entry["survival_pct"])
  return {
    "success_pct": {k: 100 * s / n for k, (s, n) in cells.items()},
    "success_se": {k: standard_error(v) for k, v in readings.items()},
    "robots": {k: int(n) for k, (_, n) in cells.items()},
    "parameters": labels,
    "push": (push[0] / push[2], 100 * push[1] / push[2]) if push[2] else None,
    "push_se": standard_error(push_readings),
  }


def _pct(value: float, se: float, with_se: bool) -> str:
  return f"{value:.1f} ± {se:.1f}" if with_se and not math.isnan(se) else f"{value:.1f}"


def table(rows: dict[str, dict], with_se: bool = False) -> str:
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
      cells = [_pct(r["success_pct"][k], r["success_se"][k], with_se) for k in keys]
      cols.append(" / ".join(c for k, c in zip(keys, cells, strict=True) if k[0] == t))
    if r["push"]:
      cols.append(f"{_pct(r['push'][0], r['push_se'], with_se)} ({r['push'][1]:.1f})")
    else:
      cols.append("–")
    cols.append(str(min(r["robots"].values())))
    lines.append("| " + " | ".join(cols) + " |")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("groups", nargs="+", metavar="LABEL=EVAL_JSON[,EVAL_JSON...]")
  parser.add_argument("--condition", default="nominal")
  parser.add_argument("--se", action="store_true", help="standard errors over the readings")
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
  print(table(rows, with_se=args.se))
  return 0


if __name__ == "__main__":
  sys.exit(main())
