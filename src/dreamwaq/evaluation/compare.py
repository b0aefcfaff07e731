"""``dreamwaq compare``: several runs side by side, from what each run folder holds:
TensorBoard events (reward and terrain-level curves) and ``eval.json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamwaq.evaluation.curves import CURVE_TAGS, Curve, read_curves
from dreamwaq.evaluation.plots import plot_bars, plot_curves
from dreamwaq.evaluation.report import (
  EVAL_JSON,
  compare_markdown,
  headline_condition,
  per_terrain_mean,
)
from dreamwaq.runs import TrainingTime, training_time

REPORT = "report.md"


@dataclass(frozen=True)
class RunSummary:
  label: str
  run_dir: Path
  task: str | None
  curves: dict[str, Curve]
  """Curve name of ``CURVE_TAGS`` → curve."""
  evaluation: dict[str, Any] | None
  """The run's ``eval.json``, if it has one."""
  training: TrainingTime
  """Its wall-clock training, every session of it."""

  def condition(self) -> dict[str, Any] | None:
    """The evaluated condition the bars and the push table use."""
    return None if self.evaluation is None else headline_condition(self.evaluation)


def resolve_run(name: str, log_root: Path) -> Path:
  """A run folder: a path, or a run name under ``<log_root>/<experiment>/``."""
  path = Path(name)
  if path.is_dir():
    return path
  matches = sorted(d for d in Path(log_root).glob(f"*/{name}") if d.is_dir())
  if not matches:
    raise FileNotFoundError(f"no run {name!r} (neither a folder nor in {log_root}/*/)")
  if len(matches) > 1:
    found = ", ".join(str(m) for m in matches)
    raise ValueError(f"run {name!r} is ambiguous ({found}); pass its path")
  return matches[0]


def load_runs(
  run_dirs: Sequence[Path], eval_files: Sequence[Path] | None = None
) -> list[RunSummary]:
  """Each run's curves and evaluation, labelled by task (and folder when tasks repeat).
  ``eval_files`` (one per run, in order) replace the ``eval.json`` in each run folder:
  evaluations written elsewhere with ``dreamwaq eval --out``."""
  if eval_files is None:
    files = [run_dir / EVAL_JSON for run_dir in run_dirs]  # A run may have none.
  else:
    if len(eval_files) != len(run_dirs):
      raise ValueError(f"--evals: {len(eval_files)} file(s) for {len(run_dirs)} run(s)")
    files = [Path(file) for file in eval_files]
    for file in files:
      if not file.is_file():
        raise FileNotFoundError(f"--evals: no file {file}")
  loaded = []
  for run_dir, file in zip(run_dirs, files, strict=True):
    evaluation = json.loads(file.read_text()) if file.is_file() else None
    task = evaluation["task"] if evaluation else _trained_task(run_dir)
    curves = read_curves(run_dir)
    loaded.append((run_dir, task, curves, evaluation))
  tasks = [task for _, task, _, _ in loaded]
  unique = None not in tasks and len(set(tasks)) == len(tasks)
  return [
    RunSummary(
      task if unique else f"{task or '?'} {run_dir.name}",
      run_dir,
      task,
      c,
      e,
      training_time(run_dir),
    )
    for run_dir, task, c, e in loaded
  ]


def write_comparison(runs: Sequence[RunSummary], out: Path) -> list[Path]:
  """Plots and ``report.md`` in ``out``; the files written, report last."""
  out.mkdir(parents=True, exist_ok=True)
  written: dict[str, Path] = {}
  for name, tag, ylabel in (
    ("rewards", CURVE_TAGS["reward"], "mean episode return"),
    ("terrain_levels", CURVE_TAGS["terrain_level"], "mean terrain level (row)"),
  ):
    curves = {r.label: r.curves[tag] for r in runs if tag in r.curves}
    if curves:
      written[name] = plot_curves(curves, ylabel, tag, out / f"{name}.png")
  evaluated = [r for r in runs if r.evaluation is not None]
  for name, key, ylabel, scale, ylim in (
    ("success", "success_rate", "success (%)", 100.0, (0.0, 100.0)),
    ("tracking", "lin_vel_error_mps", "linear tracking error (m/s)", 1.0, None),
  ):
    values = {
      r.label: {
        kind: None if v is None else scale * v
        for kind, v in per_terrain_mean(r.condition(), key).items()
      }
      for r in evaluated
    }
    if values:
      title = f"{ylabel}, mean over the evaluated rows"
      written[name] = plot_bars(values, ylabel, title, out / f"{name}.png", ylim)
  report = out / REPORT
  report.write_text(compare_markdown(runs, {k: p.name for k, p in written.items()}))
  return [*written.values(), report]


def _trained_task(run_dir: Path) -> str | None:
  """The task in ``params/train.yaml`` (``dreamwaq train`` writes it)."""
  import yaml

  path = run_dir / "params" / "train.yaml"
  if not path.is_file():
    return None
  try:
    return yaml.safe_load(path.read_text()).get("task")
  except (yaml.YAMLError, AttributeError):
    return None
