"""The ``compare`` report's figures: curves of several runs on shared axes, and
per-terrain bars (PNG, by the path's suffix)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dreamwaq.evaluation.curves import Curve


def _pyplot():
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  return plt


def plot_curves(curves: dict[str, Curve], ylabel: str, title: str, path: Path) -> Path:
  """One line per run (label → curve) over training iterations."""
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
  for label, curve in curves.items():
    ax.plot(curve.iterations, curve.values, label=label, linewidth=1.2)
  ax.set_xlabel("iteration")
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize="small")
  return _save(fig, path)


def plot_bars(
  values: dict[str, dict[str, float | None]],
  ylabel: str,
  title: str,
  path: Path,
  ylim: tuple[float, float] | None = None,
) -> Path:
  """Grouped bars: a group per terrain type, a bar per run (label → terrain → value;
  a missing value leaves a gap)."""
  plt = _pyplot()
  groups = list(dict.fromkeys(k for per_run in values.values() for k in per_run))
  width = 0.8 / max(len(values), 1)
  fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(groups)), 4), layout="constrained")
  x = np.arange(len(groups))
  for i, (label, per_run) in enumerate(values.items()):
    heights = [np.nan if per_run.get(g) is None else per_run[g] for g in groups]
    ax.bar(x + (i - (len(values) - 1) / 2) * width, heights, width, label=label)
  ax.set_xticks(x, [g.replace("_", " ") for g in groups])
  ax.set_ylabel(ylabel)
  if ylim is not None:
    ax.set_ylim(*ylim)
  ax.set_title(title)
  ax.grid(axis="y", alpha=0.3)
  ax.legend(fontsize="small")
  return _save(fig, path)


def _save(fig, path: Path) -> Path:
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(path, dpi=90)
  _pyplot().close(fig)
  return path
