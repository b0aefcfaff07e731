"""Ship a trained checkpoint inside the package, as ``dreamwaq.pretrained`` reads it.

    python benchmarks/ship_pretrained.py RUN_DIR/model_N.pt --task a1_waq \\
      --gpu "1 x NVIDIA H100 80GB HBM3" --eval RUN_DIR/eval.json

writes ``src/dreamwaq/pretrained/<task>/`` (``$DREAMWAQ_PRETRAINED_DIR/<task>/`` when
set), replacing what was shipped for the task: the checkpoint without its optimiser
state (``dreamwaq.learning.ppo.slim``: a fine-tuning resume starts fresh optimisers at
the saved learning rates), its export as ``dreamwaq export --load_run <that folder>``
writes it, and ``card.json``: how it was trained (iteration, env steps, date, GPU,
command, the commands of its fine-tuning stages, wall-clock training time of all its
sessions) and, with ``--eval``, the headline numbers of that checkpoint's ``dreamwaq
eval``. The folder is built beside the old one and swapped in whole, so a failure leaves
the old one shipped.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from dreamwaq import pretrained
from dreamwaq.evaluation.report import hardest_label, headline_condition, per_terrain_mean
from dreamwaq.export.export import export_policy
from dreamwaq.runs import (
  check_checkpoint,
  read_checkpoint,
  read_history,
  training_time,
  write_slim,
)
from dreamwaq.tasks.registry import get_task

TRAIN_PARAMS = Path("params") / "train.yaml"
"""Where ``dreamwaq train`` records the command line of a run."""


def ship(
  checkpoint: Path,
  task_name: str,
  gpu: str | None = None,
  command: str | None = None,
  evaluation: Path | None = None,
) -> Path:
  """Write the task's pretrained folder from ``checkpoint``; its path. Everything is
  checked before anything is written."""
  task = get_task(task_name)
  checkpoint = checkpoint.resolve()
  saved = read_checkpoint(checkpoint)
  header = check_checkpoint(saved, checkpoint, task.name)
  trained = training_time(checkpoint.parent)  # Kernel compilation and env build excluded.
  gpu = gpu or ", ".join(trained.gpus)
  if not gpu:
    raise ValueError(f"{checkpoint.parent}'s history records no GPU; pass --gpu")
  card = {
    "task": task.name,
    "checkpoint": checkpoint.name,
    "run": checkpoint.parent.name,
    "iteration": saved["iter"],
    "env_steps": int(saved["infos"]["counters"]["timesteps"]),
    "num_envs": header["num_envs"],
    "seed": header["seed"],
    "dreamwaq_version": header["version"],
    "date": date.fromtimestamp(checkpoint.stat().st_mtime).isoformat(),
    "gpu": gpu,
    "training_time_s": trained.seconds,
    "training_iterations": trained.iterations,
    "command": command or _train_command(checkpoint.parent),
    "stages": _training_stages(checkpoint.parent),
    "eval": _headline(evaluation, checkpoint, task.name) if evaluation else None,
  }
  root = pretrained.root()
  root.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory(prefix=f".{task.name}-", dir=root) as tmp:
    staged = Path(tmp) / task.name  # Named as shipped: the export records the name.
    staged.mkdir()
    write_slim(checkpoint, staged / checkpoint.name)
    export_policy(task, staged / checkpoint.name, staged)
    (staged / pretrained.CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    shipped = root / task.name
    shutil.rmtree(shipped, ignore_errors=True)
    staged.rename(shipped)
  return shipped


def _train_command(run_dir: Path) -> str:
  """The command line that started the run: its history's first ``start``, which a
  resume does not repeat (else the one ``dreamwaq train`` recorded in the folder)."""
  import yaml

  starts = [e["argv"] for e in read_history(run_dir) if e["event"] == "start"]
  path = run_dir / TRAIN_PARAMS
  if starts:
    return _command(starts[0])
  if path.is_file():
    return _command(yaml.safe_load(path.read_text())["argv"])
  raise FileNotFoundError(f"no {path} to take the training command from; pass --command")


def _training_stages(run_dir: Path) -> list[dict[str, Any]]:
  """The recipe of a fine-tuned policy: the command of the start and of every resume
  that changed the env settings (``--env``), each with the iteration it began at. A
  resume without ``--env`` keeps the checkpoint's settings, so it stays in its stage."""
  stages: list[dict[str, Any]] = []
  env = None
  for event in read_history(run_dir):
    if event["event"] not in ("start", "resume"):
      continue
    changes = (event.get("args") or {}).get("env") or None
    if not stages or event["event"] == "start" or (changes and changes != env):
      stages.append(
        {"from_iteration": event["iteration"], "command": _command(event["argv"])}
      )
      env = changes
  return stages


def _command(argv: list[str]) -> str:
  """``argv`` as one shell line, the program by name: the training machine's paths mean
  nothing here."""
  program = Path(argv[0])
  return shlex.join([program.name if program.is_absolute() else argv[0], *argv[1:]])


def _headline(path: Path, checkpoint: Path, task: str) -> dict[str, Any]:
  """``eval.json``'s headline numbers; it must have measured this very checkpoint."""
  results = json.loads(path.read_text())
  measured = Path(results.get("checkpoint", ""))
  if results["task"] != task or measured.parts[-2:] != checkpoint.parts[-2:]:
    raise ValueError(
      f"{path} measured {results['task']} {measured}, not {task} {checkpoint}"
    )
  condition = headline_condition(results)
  push = condition["push"] or {}

  def percent(values: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else round(100 * v, 1) for k, v in values.items()}

  return {
    "condition": condition["label"],
    "config": results["config"],
    "device": results.get("device"),
    "success_pct_mean_over_rows": percent(per_terrain_mean(condition, "success_rate")),
    "hardest_row_success_80pct": {
      kind: hardest_label(entry) for kind, entry in condition["terrain"].items()
    },
    "lin_vel_error_mps": per_terrain_mean(condition, "lin_vel_error_mps"),
    "vel_est_rmse_mps": per_terrain_mean(condition, "vel_est_rmse_mps"),
    "max_push_mps": push.get("max_push_mps"),
    "survival_pct_at_paper_push": push.get("survival_pct_at_paper_level"),
  }


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("checkpoint", type=Path, help="RUN_DIR/model_N.pt")
  parser.add_argument("--task", required=True)
  parser.add_argument(
    "--gpu",
    help="what it trained on, e.g. '1 x NVIDIA H100 80GB HBM3' (default: what the run's "
    "history recorded)",
  )
  parser.add_argument("--eval", type=Path, help="that checkpoint's eval.json")
  parser.add_argument("--command", help=f"default: the argv in RUN_DIR/{TRAIN_PARAMS}")
  args = parser.parse_args(argv)
  try:
    shipped = ship(args.checkpoint, args.task, args.gpu, args.command, args.eval)
  except (ValueError, FileNotFoundError) as e:
    print(f"ship_pretrained: error: {e}", file=sys.stderr)
    return 2
  for path in sorted(shipped.iterdir()):
    print(f"wrote {path} ({path.stat().st_size / 2**20:.2f} MB)")
  return 0


if __name__ == "__main__":
  sys.exit(main())
