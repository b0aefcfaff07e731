"""``dreamwaq train --gpus N``: N ranks on this machine, one GPU each, trained
data-parallel by rsl_rl (each rank simulates its own envs; the gradients of the
actor, critic and estimator are averaged over NCCL every minibatch).

The ranks are started the way mjlab's own ``train`` starts several GPUs, with
torchrunx; a user may start them instead with ``torchrun --nproc_per_node N -m
dreamwaq.cli.main train ...``, where each process sees ``WORLD_SIZE`` and trains as
one rank. Either way ``NCCL_NVLS_ENABLE`` defaults to 0 (the runner sets it).

Signals: Ctrl+C, or a SIGTERM sent to the process group, reaches every rank directly;
the ranks agree on it and stop after the same iteration, rank 0 saving it. The
launcher and torchrunx's agent ignore SIGINT and SIGTERM meanwhile (the agent would
otherwise kill the ranks at once), so a SIGTERM to the launcher alone does nothing.

Tests have no GPUs: with ``DREAMWAQ_GLOO=1``, ``--gpus N --device cpu`` starts N CPU
ranks that talk over gloo: the same launch and training code, slowly.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from dreamwaq.cli.main import say

GLOO = "DREAMWAQ_GLOO"
"""Environment variable: ``1`` lets several ranks train on the CPU over gloo (tests)."""
HOST = "localhost"


def is_rank() -> bool:
  """Whether this process is one of several ranks (started by torchrun or torchrunx)."""
  return int(os.environ.get("WORLD_SIZE", "1")) > 1


def world_size(gpus: int | None) -> int:
  """How many ranks train: the launcher's ``WORLD_SIZE`` in a rank, else ``--gpus``."""
  if gpus is not None and gpus < 1:
    raise ValueError(f"--gpus must be positive, got {gpus}")
  launched = int(os.environ.get("WORLD_SIZE", "1"))
  if launched > 1 and gpus not in (None, launched):
    raise ValueError(
      f"--gpus {gpus}: this process is one of {launched} ranks started by torchrun; "
      "leave --gpus out"
    )
  return launched if launched > 1 else gpus or 1


def rank_device(requested: str | None, ranks: int) -> str:
  """This rank's GPU, ``cuda:<LOCAL_RANK>`` (rank 0's in the launcher), once it is
  known that there are enough; the CPU only for tests (``DREAMWAQ_GLOO=1``)."""
  if requested == "cpu" and os.environ.get(GLOO) == "1":
    return "cpu"
  if requested is not None:
    raise ValueError(
      f"--device {requested}: with {ranks} ranks, rank r trains on cuda:r of the "
      "visible GPUs; leave --device out"
    )
  import torch

  here = int(os.environ.get("LOCAL_WORLD_SIZE", ranks))  # Ranks on this machine.
  visible = torch.cuda.device_count()
  if visible < here:
    raise ValueError(f"{here} ranks need {here} GPUs; {visible} visible")
  return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"


def launch(args: argparse.Namespace, run_dir: Path, ranks: int) -> int:
  """Train ``ranks`` ranks of this command on this machine with torchrunx, as mjlab
  does, and wait for them. Rank 0's output is printed here; every rank's is logged
  under ``<run>/torchrunx/``. Returns rank 0's exit code (the ranks stop together)."""
  import torchrunx

  logs = run_dir / "torchrunx"
  print(f"[dreamwaq train] {ranks} ranks; the log of each: {logs}", flush=True)
  launcher = torchrunx.Launcher(
    hostnames=[HOST],
    workers_per_host=ranks,
    backend=None,  # rsl_rl's runner starts the process group.
    # torchrunx's agent handles no SIGINT/SIGTERM: it keeps ignoring them (below).
    extra_env_vars={"TORCHELASTIC_SIGNALS_TO_HANDLE": "SIGHUP"},
  )
  launcher.set_logging_handlers(partial(_log_handlers, logs, ranks))
  rank_args = argparse.Namespace(**{**vars(args), "gpus": ranks, "run_dir": str(run_dir)})
  with _ignore_stop_signals():
    try:
      result = launcher.run(_rank_main, rank_args, sys.argv)
    except (torchrunx.WorkerFailedError, torchrunx.AgentFailedError) as e:
      reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
      say(f"dreamwaq train: error: a rank died ({reason}); see {logs}")
      return 1
  return int(result.rank(0))


def _rank_main(args: argparse.Namespace, argv: list[str]) -> int:
  """One rank (a torchrunx worker): ``dreamwaq train`` as on one GPU, handling the
  signals again that it inherited ignored from the launcher; the run's history
  records the launcher's command line."""
  from dreamwaq.cli.main import run_command, setup_environment

  signal.signal(signal.SIGINT, signal.default_int_handler)
  signal.signal(signal.SIGTERM, signal.SIG_DFL)
  # torchrunx forwards every log record of the rank, the libraries' debug logs too.
  logging.getLogger().setLevel(logging.INFO)
  sys.argv = argv
  setup_environment()
  return run_command(args)


@contextlib.contextmanager
def _ignore_stop_signals() -> Iterator[None]:
  """SIGINT and SIGTERM ignored while the ranks run: inherited by torchrunx's agent."""
  previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
  try:
    yield
  finally:
    for s, handler in previous.items():
      signal.signal(s, handler)


class _Console(logging.Handler):
  """A rank's lines as it wrote them: its stdout (torchrunx logs it at INFO) on
  stdout, its stderr (at ERROR) and warnings on stderr."""

  def emit(self, record: logging.LogRecord) -> None:
    stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
    stream.write(f"{record.getMessage()}\n")
    stream.flush()


def _log_handlers(logs: Path, ranks: int) -> list[logging.Handler]:
  """torchrunx's handlers: rank 0 on this terminal, every rank and agent in ``logs``."""
  from torchrunx.utils.log_handling import file_handlers, get_handler_filter

  console = _Console()
  console.addFilter(get_handler_filter(HOST, 0))
  return [console, *file_handlers([HOST], [ranks], log_dir=logs, log_level=logging.INFO)]
