"""Training runs on disk: ``<log_root>/<experiment>/<run>/model_<N>.pt``.

``train --resume``, ``export`` and ``play`` find checkpoints here, the seed's way:
the latest run and iteration unless named. A run folder copied from another machine
works when put in the experiment folder, or when ``load_run`` is its path.

A checkpoint carries a header (``infos["dreamwaq"]``): the checkpoint format, the
dreamwaq version, the task, the run's settings and the env settings it trained with.
A checkpoint of another task or format is refused by name, before anything is built
from it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dreamwaq import __version__

if TYPE_CHECKING:
  from dreamwaq.tasks.env_cfg import A1EnvSettings

CHECKPOINT = re.compile(r"model_(\d+)\.pt")
"""Complete checkpoints only: a temporary ``model_N.pt.tmp`` does not match."""

CHECKPOINT_FORMAT = 1
"""What a checkpoint holds; bump it when that changes so old files are refused, not
misread. Format 1: rsl_rl's and the estimator's state, the terrain curriculum, the
random generators, the step counters and this header."""
HEADER = "dreamwaq"
"""The header's key in a checkpoint's ``infos``."""
HISTORY = Path("params") / "history.jsonl"
"""One JSON line per start, resume and early stop of training, inherited on resume."""


def iterations(run_dir: Path) -> list[int]:
  """Iterations of the complete checkpoints of a run."""
  return [int(m.group(1)) for f in run_dir.iterdir() if (m := CHECKPOINT.fullmatch(f.name))]


def checkpoints(experiment_dir: Path, load_run: str | None = None) -> list[Path]:
  """Complete checkpoints, newest first: of ``load_run``, or of every run (latest run
  first), so a damaged newest file can fall back to the one before it."""
  if load_run is None:
    if not experiment_dir.is_dir():
      raise FileNotFoundError(f"no runs in {experiment_dir}")
    runs = sorted(
      (d for d in experiment_dir.iterdir() if d.is_dir() and iterations(d)), reverse=True
    )
    if not runs:
      raise FileNotFoundError(f"no checkpoints in {experiment_dir}")
  else:
    run_dir = experiment_dir / load_run  # An absolute path is taken as it is.
    if not run_dir.is_dir() and Path(load_run).is_dir():
      run_dir = Path(load_run)  # A path from here: a run kept outside the log root.
    if not run_dir.is_dir():
      raise FileNotFoundError(f"no run {load_run!r} in {experiment_dir}")
    if not iterations(run_dir):
      raise FileNotFoundError(f"no checkpoints in {run_dir}")
    runs = [run_dir]
  return [run / f"model_{i}.pt" for run in runs for i in sorted(iterations(run))[::-1]]


def find_checkpoint(
  experiment_dir: Path, load_run: str | None = None, iteration: int | None = None
) -> Path:
  """``model_<iteration>.pt`` of a run (latest run and iteration when not given)."""
  latest = checkpoints(experiment_dir, load_run)[0]
  if iteration is None:
    return latest
  saved = iterations(latest.parent)
  if iteration not in saved:
    raise FileNotFoundError(
      f"no model_{iteration}.pt in {latest.parent} (saved: {sorted(saved)})"
    )
  return latest.parent / f"model_{iteration}.pt"


def read_checkpoint(path: Path) -> dict[str, Any]:
  """A checkpoint's contents on the CPU; a missing, damaged or foreign file is an
  error naming it."""
  import torch

  if not Path(path).is_file():
    raise FileNotFoundError(f"no checkpoint at {path}")
  try:
    saved = torch.load(path, map_location="cpu", weights_only=False)
  except Exception as e:  # noqa: BLE001 (torch/pickle/zip errors of a damaged file)
    # The first sentence: torch adds a paragraph of advice to a damaged zip's error.
    reason = str(e).strip().splitlines()[0].split(". ")[0] if str(e).strip() else ""
    raise ValueError(
      f"{path} is not a readable checkpoint ({reason or type(e).__name__})"
    ) from None
  if not isinstance(saved, dict) or "actor_state_dict" not in saved:
    raise ValueError(f"{path} is not a dreamwaq checkpoint (no actor_state_dict)")
  return saved


def checkpoint_header(
  task: str,
  num_envs: int,
  seed: int,
  until: int,
  agent: dict[str, Any],
  env: dict[str, Any],
) -> dict[str, Any]:
  """What a checkpoint records to be resumed, evaluated and exported the same way: the
  run's task, env count, seed, the iteration count it trains to (``until``), the runner
  config and the env settings (``A1EnvSettings`` as a dict)."""
  return {
    "format": CHECKPOINT_FORMAT,
    "version": __version__,
    "task": task,
    "num_envs": num_envs,
    "seed": seed,
    "until": until,
    "agent": agent,
    "env": env,
  }


def env_settings(header: dict[str, Any]) -> A1EnvSettings:
  """The env settings a checkpoint's header says it trained with; the defaults for
  headers written before they were recorded (2026-12-01), which trained with them."""
  from dreamwaq.tasks.env_cfg import A1EnvSettings

  return A1EnvSettings.from_dict(header.get("env") or {})


def trained_settings(path: Path) -> A1EnvSettings:
  """The env settings ``model_N.pt`` at ``path`` trained with: what play, eval and
  export build their env and contract from."""
  header = (read_checkpoint(path).get("infos") or {}).get(HEADER)
  return env_settings(header if isinstance(header, dict) else {})


def check_checkpoint(saved: dict[str, Any], path: Path, task: str) -> dict[str, Any]:
  """The header of ``saved`` when it is a ``task`` checkpoint of this format."""
  header = (saved.get("infos") or {}).get(HEADER)
  if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
    written = (
      f"format {header.get('format')} (dreamwaq {header.get('version')})"
      if isinstance(header, dict)
      else "no format (an earlier dreamwaq)"
    )
    raise ValueError(
      f"{path} has checkpoint {written}; dreamwaq {__version__} reads format "
      f"{CHECKPOINT_FORMAT}: retrain, or use the dreamwaq that wrote it"
    )
  if header["task"] != task:
    raise ValueError(f"{path} is an {header['task']} checkpoint, not {task}")
  return header


def append_history(run_dir: Path, event: str, **fields: Any) -> None:
  """Add one event (time-stamped) to the run's ``params/history.jsonl``."""
  path = run_dir / HISTORY
  path.parent.mkdir(parents=True, exist_ok=True)
  record = {"event": event, "time": datetime.now().isoformat(timespec="seconds")} | fields
  with path.open("a") as f:
    f.write(json.dumps(record, default=str) + "\n")


def inherit_history(parent_run: Path, run_dir: Path) -> None:
  """A resumed run's history starts with the history of the run it resumes."""
  if (parent_run / HISTORY).is_file():
    (run_dir / HISTORY).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(parent_run / HISTORY, run_dir / HISTORY)


def read_history(run_dir: Path) -> list[dict[str, Any]]:
  """The events of the run's ``params/history.jsonl``, oldest first (none if it has
  none; a torn last line, from a run killed while writing it, is left out)."""
  path = run_dir / HISTORY
  if not path.is_file():
    return []
  events = []
  for line in path.read_text().splitlines():
    try:
      events.append(json.loads(line))
    except json.JSONDecodeError:
      continue
  return events


def lineage(run_dir: Path) -> list[Path]:
  """The folders a run trained in, oldest first, ending with ``run_dir``: each resume
  writes a new folder beside the one it resumed (history's ``resumed_from``). Found by
  name beside ``run_dir``, so a run copied to another machine keeps its chain; folders
  not there are left out."""
  names = [
    Path(e["resumed_from"]).parent.name
    for e in read_history(run_dir)
    if e.get("resumed_from")
  ]
  earlier = (run_dir.parent / n for n in dict.fromkeys(names) if n != run_dir.name)
  return [d for d in earlier if d.is_dir()] + [run_dir]


@dataclass(frozen=True)
class TrainingTime:
  """Wall-clock training of a run, all its resumes included, from its history. Each
  ``start``/``resume`` event is written once the env is built, so building it and
  compiling Warp's kernels are not counted."""

  seconds: float
  """Summed over the sessions that closed (``stopped`` or ``done``)."""
  iterations: int
  """Trained in those sessions."""
  unclosed: int
  """Sessions with no closing event (killed, or still running): not counted."""
  gpus: tuple[str, ...]
  """What the sessions trained on (``"1 x NVIDIA H200"``), as recorded; none on CPU
  or before dreamwaq recorded it."""


def training_time(run_dir: Path) -> TrainingTime:
  """How long the run trained, from its ``params/history.jsonl``."""
  seconds, iterations, unclosed, opened = 0.0, 0, 0, None
  gpus: dict[str, None] = {}
  for event in read_history(run_dir):
    if event["event"] in ("start", "resume"):
      unclosed += opened is not None
      opened = event
      if event.get("gpu"):
        gpus[event["gpu"]] = None
    elif event["event"] in ("stopped", "done") and opened is not None:
      took = datetime.fromisoformat(event["time"]) - datetime.fromisoformat(opened["time"])
      seconds += took.total_seconds()
      iterations += event["iteration"] - opened["iteration"] + 1
      opened = None
  return TrainingTime(seconds, iterations, unclosed + (opened is not None), tuple(gpus))


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
  """``write`` into ``path.tmp``, flush it to disk and rename it into place: a crash
  leaves the old file or the new one, never half of one. A failed write (a full disk)
  removes the temporary file and raises its OSError."""
  tmp = f"{path}.tmp"
  try:
    with open(tmp, "wb") as f:
      write(f)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
    directory = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
      os.fsync(directory)  # The rename itself survives a power cut.
    finally:
      os.close(directory)
  except OSError:
    Path(tmp).unlink(missing_ok=True)
    raise


def write_slim(source: Path, target: Path) -> None:
  """Write the checkpoint ``source`` without its optimiser state to ``target``
  (``dreamwaq.learning.ppo.slim``)."""
  import torch

  from dreamwaq.learning.ppo import slim

  slimmed = slim(read_checkpoint(source))
  write_atomically(target, lambda f: torch.save(slimmed, f))
