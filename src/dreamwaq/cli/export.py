"""``dreamwaq export``: a checkpoint's deterministic policy as ``<run>/exported/``
``policy.onnx``, ``policy.pt`` (TorchScript) and ``policy.json`` (the contract)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser(
    "export", help="export a checkpoint as ONNX, TorchScript and policy.json"
  )
  add_checkpoint_args(p)
  p.add_argument("--out", type=Path, help="output folder (default: <run>/exported)")
  p.set_defaults(run=run)


def add_checkpoint_args(p: argparse.ArgumentParser) -> None:
  """The seed's way to name a checkpoint: task, run folder, iteration."""
  p.add_argument("--task", required=True, help="a task of `dreamwaq list`")
  p.add_argument(
    "--load_run",
    help="run folder in <log_root>/<experiment>/, or its path (default: the latest)",
  )
  p.add_argument(
    "--checkpoint", type=int, help="iteration N of model_N.pt (default: the latest)"
  )
  p.add_argument(
    "--experiment_name", help="log folder (default: the task's, e.g. rough_a1_waq)"
  )
  p.add_argument("--log_root", type=Path, default=Path("logs"))


def checkpoint_path(args: argparse.Namespace) -> Path:
  """The ``model_N.pt`` the arguments name."""
  from dreamwaq.runs import find_checkpoint
  from dreamwaq.tasks.registry import get_task

  experiment = args.experiment_name or get_task(args.task).experiment
  return find_checkpoint(args.log_root / experiment, args.load_run, args.checkpoint)


def run(args: argparse.Namespace) -> int:
  from dreamwaq.export.export import export_policy
  from dreamwaq.tasks.registry import get_task

  task = get_task(args.task)
  checkpoint = checkpoint_path(args)
  exported = export_policy(task, checkpoint, args.out)
  print(f"[dreamwaq export] {task.name} from {checkpoint}")
  for path in (exported.onnx, exported.torchscript, exported.contract):
    print(f"wrote {path}")
  return 0
