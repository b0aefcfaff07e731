"""Tiny trained runs shared by the export, play and sim2sim tests: trained once per
test session (this module is imported once), on the CPU, into a temporary log root."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dreamwaq.cli import train
from dreamwaq.cli.main import build_parser
from dreamwaq.export.export import export_policy
from dreamwaq.tasks.registry import get_task

from .envs import SMALL_TERRAIN_FLAGS

ITERATIONS = 2
"""Enough for running statistics far from their initial zeros and ones."""


@dataclass(frozen=True)
class TinyRun:
  log_root: Path
  checkpoint: Path
  session: train.TrainSession
  """The trained runner, kept in memory: the reference the exports must reproduce."""


@functools.cache
def _log_root() -> Path:
  root = Path(tempfile.mkdtemp(prefix="dreamwaq-runs-"))
  atexit.register(shutil.rmtree, root, ignore_errors=True)
  return root


def tiny_flags(task: str) -> list[str]:
  """``dreamwaq train`` flags of ``tiny_run(task)`` but ``--log_root``: the same run,
  bit for bit, where it is started again (as in tests/test_reliability.py)."""
  return ["--task", task, "--headless", "--num_envs", "8", "--seed", "3",
          "--max_iterations", str(ITERATIONS), "--device", "cpu",
          *SMALL_TERRAIN_FLAGS]  # fmt: skip


@functools.cache
def tiny_run(task: str) -> TinyRun:
  """``task`` trained for ``ITERATIONS`` iterations on 8 envs."""
  argv = ["train", *tiny_flags(task), "--log_root", str(_log_root())]
  session = train.start(build_parser().parse_args(argv))
  session.runner.learn(session.iterations, init_at_random_ep_len=True)
  checkpoint = session.log_dir / f"model_{ITERATIONS - 1}.pt"
  assert checkpoint.is_file()
  return TinyRun(_log_root(), checkpoint, session)


@functools.cache
def exported_policy(task: str) -> Path:
  """``policy.onnx`` exported from ``tiny_run(task)``."""
  return export_policy(get_task(task), tiny_run(task).checkpoint).onnx
