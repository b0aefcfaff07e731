"""Pretrained policies shipped inside the package, one folder per task:
``dreamwaq/pretrained/<task>/``, so ``play`` and ``sim2sim`` work right after install.

A folder is a run folder as ``dreamwaq train`` writes one, so every command that takes
``--load_run PATH`` takes it: ``model_<N>.pt`` (the training checkpoint without its
optimiser state, for fine-tuning with ``train --resume --load_run PATH``), its export
as ``dreamwaq export`` writes it (``policy.onnx``, ``policy.pt``, ``policy.json``) and
``card.json`` (how it was trained and measured). ``benchmarks/ship_pretrained.py``
writes a folder, the card last: a folder without a card is not shipped.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

ENV_VAR = "DREAMWAQ_PRETRAINED_DIR"
"""A folder that replaces the package's (tests; a developer trying a policy before
shipping it)."""
CARD_FILE = "card.json"


def root() -> Path:
  """The folder holding one folder per shipped task."""
  override = os.environ.get(ENV_VAR)
  return Path(override) if override else Path(str(resources.files(__name__)))


def available() -> list[str]:
  """The tasks with a shipped policy."""
  base = root()
  if not base.is_dir():
    return []
  return sorted(d.name for d in base.iterdir() if (d / CARD_FILE).is_file())


def folder(task: str) -> Path:
  """The shipped folder of ``task``; FileNotFoundError naming what is shipped."""
  shipped = available()
  if task not in shipped:
    raise FileNotFoundError(
      f"no pretrained policy for {task}; shipped: {', '.join(shipped) or 'none'}"
    )
  return root() / task


def checkpoint(task: str) -> Path:
  """The shipped training checkpoint of ``task`` (``model_<N>.pt``)."""
  from dreamwaq.runs import find_checkpoint

  run = folder(task)
  return find_checkpoint(run.parent, run.name)


def policy(task: str) -> Path:
  """The shipped ``policy.onnx`` of ``task`` (``policy.json`` beside it)."""
  from dreamwaq.export.export import ONNX_FILE

  return folder(task) / ONNX_FILE
