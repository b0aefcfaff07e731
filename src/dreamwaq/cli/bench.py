"""``dreamwaq bench``: env, inference and training throughput, beside mjlab's Go1."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("bench", help="measure env / inference / training steps per second")
  p.add_argument("--task", nargs="+", default=["a1_waq"], help="dreamwaq tasks to measure")
  p.add_argument("--num_envs", type=int, nargs="+", default=[4096, 8192])
  p.add_argument("--steps", type=int, default=200, help="env steps timed per mode")
  p.add_argument("--iterations", type=int, default=10, help="training iterations timed")
  p.add_argument(
    "--no_stock", action="store_true", help="skip mjlab's Mjlab-Velocity-Rough-Unitree-Go1"
  )
  p.add_argument("--device", help="default: cuda:0 when there is a GPU, else cpu")
  p.add_argument(
    "--out", type=Path, default=Path("bench.json"), help="rewritten after each measurement"
  )
  p.add_argument(
    "--resume",
    action="store_true",
    help="keep what --out holds (same device, --steps, --iterations); measure the rest",
  )
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  import torch

  from dreamwaq.benchmark import STOCK_TASK, run_benchmarks
  from dreamwaq.tasks.registry import get_task

  for task in args.task:
    get_task(task)
  for flag in ("num_envs", "steps", "iterations"):
    values = getattr(args, flag)
    if min(values if isinstance(values, list) else [values]) <= 0:
      raise ValueError(f"--{flag} must be positive")
  device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
  tasks = list(args.task) + ([] if args.no_stock else [STOCK_TASK])
  report = run_benchmarks(
    tasks, args.num_envs, device, args.steps, args.iterations, args.out, args.resume
  )
  print(
    f"{'task':<34} {'envs':>6} {'env/s':>10} {'infer/s':>10} {'train/s':>10}  vs stock (train)"
  )
  for r in report["results"]:
    ratio = r.get("ratio_to_stock", {}).get("training_steps_per_s")
    print(
      f"{r['task']:<34} {r['num_envs']:>6} {r['env_steps_per_s']:>10,.0f} "
      f"{r['inference_steps_per_s']:>10,.0f} {r['training_steps_per_s']:>10,.0f}  "
      + (f"{ratio:.2f}×" if ratio else "")
    )
  print(f"wrote {args.out} ({report['machine'].get('gpu', device)})")
  return 0
