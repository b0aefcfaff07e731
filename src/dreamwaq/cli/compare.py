"""``dreamwaq compare RUN RUN ...``: runs side by side in a Markdown report with PNG
plots: reward and terrain-level curves (TensorBoard events), per-terrain success and
tracking error (each run's ``eval.json``), push robustness beside the paper's Table III."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("compare", help="report comparing runs: curves, eval bars, Table III")
  p.add_argument(
    "runs", nargs="+", metavar="RUN",
    help="run folder, or its name under <log_root>/<experiment>/",
  )  # fmt: skip
  p.add_argument("--log_root", type=Path, default=Path("logs"))
  p.add_argument("--out", type=Path, default=Path("compare"), help="report folder")
  p.add_argument(
    "--evals", type=Path, nargs="+", metavar="EVAL_JSON",
    help="eval.json per run, in the runs' order (default: each run folder's own)",
  )  # fmt: skip
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  from dreamwaq.evaluation.compare import load_runs, resolve_run, write_comparison

  run_dirs = [resolve_run(name, args.log_root) for name in args.runs]
  runs = load_runs(run_dirs, args.evals)
  for r in runs:
    has = [what for what, ok in (("curves", r.curves), ("eval.json", r.evaluation)) if ok]
    print(
      f"[dreamwaq compare] {r.label}: {r.run_dir} ({', '.join(has) or 'nothing to show'})"
    )
  for path in write_comparison(runs, args.out):
    print(f"wrote {path}")
  return 0
