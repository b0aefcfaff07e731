"""Training runs on disk: ``<log_root>/<experiment>/<run>/model_<N>.pt``.

``train --resume``, ``export`` and ``play`` find checkpoints here, the seed's way:
the latest run and iteration unless named. A run folder copied from another machine
works when put in the experiment folder, or when ``load_run`` is its path.
"""

from __future__ import annotations

import re
from pathlib import Path

CHECKPOINT = re.compile(r"model_(\d+)\.pt")
"""Complete checkpoints only: a temporary ``model_N.pt.tmp`` does not match."""


def iterations(run_dir: Path) -> list[int]:
  """Iterations of the complete checkpoints of a run."""
  return [int(m.group(1)) for f in run_dir.iterdir() if (m := CHECKPOINT.fullmatch(f.name))]


def find_checkpoint(
  experiment_dir: Path, load_run: str | None = None, iteration: int | None = None
) -> Path:
  """``model_<iteration>.pt`` of a run (latest run and iteration when not given)."""
  if load_run is None:
    if not experiment_dir.is_dir():
      raise FileNotFoundError(f"no runs in {experiment_dir}")
    runs = sorted(d for d in experiment_dir.iterdir() if d.is_dir() and iterations(d))
    if not runs:
      raise FileNotFoundError(f"no checkpoints in {experiment_dir}")
    run_dir = runs[-1]
  else:
    run_dir = experiment_dir / load_run  # An absolute path is taken as it is.
    if not run_dir.is_dir():
      raise FileNotFoundError(f"no run {load_run!r} in {experiment_dir}")
  saved = iterations(run_dir)
  if not saved:
    raise FileNotFoundError(f"no checkpoints in {run_dir}")
  if iteration is None:
    iteration = max(saved)
  elif iteration not in saved:
    raise FileNotFoundError(
      f"no model_{iteration}.pt in {run_dir} (saved: {sorted(saved)})"
    )
  return run_dir / f"model_{iteration}.pt"
