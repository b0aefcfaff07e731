"""``dreamwaq train``: train a task's policy (and estimator) with PPO.

User mistakes raise ValueError / FileNotFoundError, which ``dreamwaq`` prints as
one line (exit 2), before the env is built. A run that stops early (SIGINT or
SIGTERM: after saving the iteration in progress once it is done; a NaN/Inf or a
checkpoint that cannot be written: keeping the last good checkpoint) prints one
line and exits 128 + the signal, or 1.

Runs land in ``<log_root>/<experiment>/<YYYY-MM-DD_HH-MM-SS>[_<run_name>]/``
with ``model_<N>.pt`` checkpoints, TensorBoard events and ``params/`` beside
(``history.jsonl``: each start, resume and early stop of the run and its parents).

``--gpus N`` trains N ranks data-parallel (``dreamwaq.cli.multi_gpu``); rank 0
alone writes the run folder, and each rank trains with seed + rank.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dreamwaq.cli import multi_gpu
from dreamwaq.cli.main import say
from dreamwaq.runs import (
  append_history,
  check_checkpoint,
  checkpoints,
  env_settings,
  find_checkpoint,
  read_checkpoint,
)

if TYPE_CHECKING:
  from mjlab.rl import RslRlVecEnvWrapper

  from dreamwaq.learning.config import DreamWaqRunnerCfg
  from dreamwaq.learning.runner import DreamWaqRunner
  from dreamwaq.tasks.env_cfg import A1EnvSettings
  from dreamwaq.tasks.registry import TaskSpec

NUM_ENVS = 4096
MIN_FREE_MB = 256
"""Free space a run needs to start: about a full run's checkpoints at 4096 envs."""


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("train", help="train a task with PPO (and its estimator)")
  p.add_argument("--task", required=True, help="a task of `dreamwaq list`")
  p.add_argument(
    "--headless",
    action="store_true",
    help="accepted as in legged_gym; training never opens a viewer",
  )
  p.add_argument(
    "--num_envs", type=int, help=f"default: {NUM_ENVS}, or the resumed checkpoint's"
  )
  p.add_argument(
    "--max_iterations",
    type=int,
    help="iterations to run (default: 1500; resuming: what the resumed run had left)",
  )
  p.add_argument(
    "--seed",
    type=int,
    help="default: 42, or the resumed checkpoint's (plus the rank on several GPUs)",
  )
  p.add_argument(
    "--device", help="default: cuda:0 when there is a GPU, else cpu (tests only)"
  )
  p.add_argument(
    "--gpus",
    type=int,
    help="train on this many GPUs of this machine, data-parallel, --num_envs each "
    "(default: 1; under torchrun: its process count)",
  )
  # The run folder a `--gpus N` launcher chose, for its ranks (rank 0 writes it).
  p.add_argument("--run_dir", help=argparse.SUPPRESS)
  p.add_argument(
    "--resume", action="store_true", help="continue a run of the same experiment"
  )
  p.add_argument("--load_run", help="run folder to resume (default: the latest)")
  p.add_argument(
    "--checkpoint",
    type=int,
    help="iteration to resume (default: the latest readable one)",
  )
  p.add_argument("--run_name", default="", help="suffix of the run folder")
  p.add_argument(
    "--experiment_name", help="log folder (default: the task's, e.g. rough_a1_waq)"
  )
  p.add_argument(
    "--env",
    action="append",
    default=[],
    metavar="FIELD=VALUE",
    help="change a field of the env settings (A1EnvSettings, e.g. push_interval_s=4, "
    "actuation_delay_steps=0,3) or a reward weight (rewards.foot_clearance=-1); recorded "
    "in every checkpoint, and play, eval and export use it; a resumed run keeps its own "
    "unless changed again",
  )
  p.add_argument("--logger", choices=("tensorboard", "wandb"), default="tensorboard")
  p.add_argument("--log_root", default="logs")
  p.add_argument(
    "--nan_guard",
    action="store_true",
    help="mjlab's NaN guard: when the physics turns NaN/Inf, dump the simulator's "
    "last states to <run>/nan_dumps (checks every physics step: slower)",
  )
  p.set_defaults(run=run)


@dataclass
class TrainSession:
  """A built env and runner, ready to ``learn``; tests inspect it before training."""

  runner: DreamWaqRunner
  env: RslRlVecEnvWrapper
  log_dir: Path
  iterations: int


@dataclass(frozen=True)
class Plan:
  """What a run will be, decided and checked before anything is built or launched."""

  task: TaskSpec
  agent: DreamWaqRunnerCfg
  resume: ResumePoint | None
  num_envs: int
  seed: int
  """The run's seed (rank r trains with seed + r)."""
  ranks: int
  device: str
  log_dir: Path
  settings: A1EnvSettings
  """The env settings: the resumed checkpoint's or the defaults, with ``--env``."""


@dataclass(frozen=True)
class ResumePoint:
  """A checked checkpoint to resume: its file, header and saved iteration."""

  path: Path
  header: dict[str, Any]
  iteration: int

  @property
  def remaining(self) -> int:
    """Iterations the resumed run had left to reach its planned count."""
    return self.header["until"] - (self.iteration + 1)


def run(args: argparse.Namespace) -> int:
  import torch

  from dreamwaq.learning.runner import TrainingStopped

  plan = prepare(args)
  if plan.ranks > 1 and not multi_gpu.is_rank():
    return multi_gpu.launch(args, plan.log_dir, plan.ranks)
  session = build(args, plan)
  try:
    with _stop_on_signals(session.runner):
      session.runner.learn(session.iterations, init_at_random_ep_len=True)
  except TrainingStopped as e:
    _record_end(session, "stopped", exit_code=e.exit_code, reason=str(e))
    say(f"dreamwaq train: {e}")
    return e.exit_code
  finally:
    session.env.close()
    if torch.distributed.is_initialized():
      torch.distributed.destroy_process_group()
  _record_end(session, "done", exit_code=0)
  print(f"[dreamwaq train] done: {session.log_dir}")
  return 0


def start(args: argparse.Namespace) -> TrainSession:
  """Validate the arguments, the checkpoint to resume and the log folder; then build
  the env and runner and load the checkpoint."""
  return build(args, prepare(args))


def prepare(args: argparse.Namespace) -> Plan:
  """Check the arguments, the checkpoint to resume, the log folder and the devices,
  and choose the run folder: all before the env is built or ranks are started."""
  from dreamwaq.learning.config import runner_cfg
  from dreamwaq.tasks.env_cfg import A1EnvSettings
  from dreamwaq.tasks.registry import get_task

  task = get_task(args.task)
  for flag in ("num_envs", "max_iterations"):
    value = getattr(args, flag)
    if value is not None and value <= 0:
      raise ValueError(f"--{flag} must be positive, got {value}")
  ranks = multi_gpu.world_size(args.gpus)
  rank_device = multi_gpu.rank_device(args.device, ranks) if ranks > 1 else None
  rank = _rank()
  agent = runner_cfg(task)
  agent.experiment_name = args.experiment_name or agent.experiment_name
  agent.run_name = args.run_name
  agent.logger = args.logger
  experiment_dir = Path(args.log_root) / agent.experiment_name
  resume = _resume_point(experiment_dir, args, task.name) if args.resume else None
  settings = (env_settings(resume.header) if resume else A1EnvSettings()).overridden(
    args.env
  )
  num_envs = _num_envs(args.num_envs, resume)
  seed = agent.seed if resume is None else resume.header["seed"]
  seed = seed if args.seed is None else args.seed
  agent.seed = seed + rank
  agent.max_iterations = args.max_iterations or (
    _remaining(resume) if resume else agent.max_iterations
  )
  if resume is not None:
    agent.resume, agent.load_run, agent.load_checkpoint = (
      True,
      resume.path.parent.name,
      resume.path.name,
    )
  _check_log_root(experiment_dir)
  device = rank_device or _device(args.device)
  stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
  log_dir = (
    Path(args.run_dir)
    if args.run_dir
    else experiment_dir / (f"{stamp}_{args.run_name}" if args.run_name else stamp)
  )
  return Plan(task, agent, resume, num_envs, seed, ranks, device, log_dir, settings)


def build(args: argparse.Namespace, plan: Plan) -> TrainSession:
  """This process's env and runner (one rank's, on several GPUs), the checkpoint
  loaded; rank 0 writes the run's parameters and history."""
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.rl import RslRlVecEnvWrapper
  from mjlab.utils.nan_guard import NanGuardCfg
  from mjlab.utils.os import dump_yaml

  from dreamwaq.learning.runner import DreamWaqRunner
  from dreamwaq.runs import checkpoint_header, inherit_history

  task, agent, resume, num_envs, device, log_dir = (
    plan.task, plan.agent, plan.resume, plan.num_envs, plan.device, plan.log_dir
  )  # fmt: skip
  env_cfg = task.env_cfg(plan.settings)
  env_cfg.scene.num_envs = num_envs
  env_cfg.seed = agent.seed
  if args.nan_guard:
    env_cfg.sim.nan_guard = NanGuardCfg(enabled=True, output_dir=str(log_dir / "nan_dumps"))
  env = RslRlVecEnvWrapper(ManagerBasedRlEnv(env_cfg, device=device))
  first = resume.iteration + 1 if resume else 0
  header = checkpoint_header(
    task.name,
    num_envs,
    plan.seed,
    first + agent.max_iterations,
    asdict(agent),
    asdict(plan.settings),
  )
  train_cfg = asdict(agent)
  if args.logger == "wandb":  # rsl_rl's current form; the plain string is deprecated.
    train_cfg["logger"] = {
      "class_name": "WandbLogWriter",
      "project_name": agent.wandb_project,
    }
  runner = DreamWaqRunner(env, train_cfg, str(log_dir), device, header=header)
  runner.add_git_repo_to_log(__file__)
  if resume is not None:
    try:
      runner.load(str(resume.path), map_location=device)
    except (KeyError, RuntimeError) as e:  # A header that lies about the contents.
      reason = str(e).strip().splitlines()[0]
      raise ValueError(f"{resume.path} does not fit {task.name} ({reason})") from None
    print(
      f"[dreamwaq train] resumed {resume.path} at iteration "
      f"{runner.current_learning_iteration}"
    )
  if _rank() == 0:
    dump_yaml(log_dir / "params" / "env.yaml", asdict(env_cfg))
    dump_yaml(log_dir / "params" / "agent.yaml", asdict(agent))
    dump_yaml(
      log_dir / "params" / "train.yaml",
      {
        "task": task.name,
        "num_envs": num_envs,
        "gpus": plan.ranks,
        "device": device,
        "argv": sys.argv,
        "env_changes": plan.settings.changes(),
      },
    )
    if resume is not None:
      inherit_history(resume.path.parent, log_dir)
    append_history(
      log_dir,
      "resume" if resume else "start",
      argv=sys.argv,
      args={k: v for k, v in vars(args).items() if k not in ("run", "command")},
      host=os.uname().nodename,
      gpu=_gpu_name(device, plan.ranks),
      pid=os.getpid(),
      resumed_from=resume.path if resume else None,
      iteration=first,
      iterations=agent.max_iterations,
    )
  return TrainSession(runner, env, log_dir, agent.max_iterations)


def _resume_point(experiment_dir: Path, args: argparse.Namespace, task: str) -> ResumePoint:
  """The checkpoint to resume, read and checked before the env is built: the one
  named, or the newest readable one (a damaged newer file is reported and skipped)."""
  named = args.checkpoint is not None
  if named:
    candidates = [_checkpoint(experiment_dir, args.load_run, args.checkpoint)]
  else:
    try:
      candidates = checkpoints(experiment_dir, args.load_run)
    except FileNotFoundError as e:
      raise FileNotFoundError(f"nothing to resume: {e}") from None
  damaged: list[str] = []
  for path in candidates:
    try:
      saved = read_checkpoint(path)
    except ValueError as e:
      if named:
        raise
      damaged.append(str(e))
      continue
    for problem in damaged:
      say(f"[dreamwaq train] warning: skipping {problem}")
    return ResumePoint(path, check_checkpoint(saved, path, task), saved["iter"])
  raise ValueError(
    f"nothing to resume: none of {len(damaged)} checkpoints is readable; {damaged[0]}"
  )


def _checkpoint(experiment_dir: Path, load_run: str | None, iteration: int | None) -> Path:
  """The checkpoint to resume (latest run and iteration when not given)."""
  try:
    return find_checkpoint(experiment_dir, load_run, iteration)
  except FileNotFoundError as e:
    raise FileNotFoundError(f"nothing to resume: {e}") from None


def _num_envs(requested: int | None, resume: ResumePoint | None) -> int:
  """The env count; a resumed run keeps its own (its curriculum and AdaBoot are per env)."""
  if resume is None:
    return requested or NUM_ENVS
  saved = resume.header["num_envs"]
  if requested is not None and requested != saved:
    raise ValueError(
      f"{resume.path} was trained with {saved} envs, not {requested}: "
      f"resume with --num_envs {saved} or without --num_envs"
    )
  return saved


def _remaining(resume: ResumePoint) -> int:
  """What the resumed run had left; none left is an error, not an empty run."""
  if resume.remaining <= 0:
    raise ValueError(
      f"{resume.path} is the last iteration ({resume.iteration}) its run planned: "
      "pass --max_iterations N to train N more"
    )
  return resume.remaining


def _check_log_root(experiment_dir: Path) -> None:
  """Fail now, not after building the env, when the run cannot be written: a full
  disk or a read-only folder (a disk that fills up later stops training at a save)."""
  existing = next(p for p in (experiment_dir, *experiment_dir.parents) if p.exists())
  free_mb = shutil.disk_usage(existing).free // 2**20
  if free_mb < MIN_FREE_MB:
    raise ValueError(
      f"--log_root: {experiment_dir} has {free_mb} MB free; a run needs at least "
      f"{MIN_FREE_MB} MB for its checkpoints and logs"
    )
  try:
    experiment_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=experiment_dir):
      pass
  except OSError as e:
    raise ValueError(
      f"--log_root: cannot write to {experiment_dir} ({e.strerror or e})"
    ) from None


@contextlib.contextmanager
def _stop_on_signals(runner: DreamWaqRunner) -> Iterator[None]:
  """SIGINT and SIGTERM ask the runner to save and stop once the current iteration is
  done (a half-done iteration is not a state to save); a second signal acts at once,
  as before (the last checkpoint on disk is complete either way)."""
  previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

  def request_stop(signum: int, frame: object) -> None:
    runner.stop_signal = signum
    for s, handler in previous.items():
      signal.signal(s, handler)
    say(
      f"[dreamwaq train] {signal.Signals(signum).name}: saving and stopping after this "
      "iteration (send it again to quit without saving)"
    )

  for s in previous:
    signal.signal(s, request_stop)
  try:
    yield
  finally:
    for s, handler in previous.items():
      signal.signal(s, handler)


def _record_end(session: TrainSession, event: str, **fields: Any) -> None:
  """Close the run's history with how it ended (a SIGKILL leaves no such line)."""
  if _rank() == 0:
    append_history(
      session.log_dir,
      event,
      iteration=session.runner.current_learning_iteration,
      checkpoint=session.runner.last_checkpoint,
      **fields,
    )


def _rank() -> int:
  """This process's rank (0 without torchrun); rank 0 writes the run folder."""
  return int(os.environ.get("RANK", "0"))


def _gpu_name(device: str, ranks: int) -> str | None:
  """What the run trains on, as ``"2 x NVIDIA H200"`` (None on the CPU): training time
  means little without it."""
  import torch

  if not device.startswith("cuda"):
    return None
  return f"{ranks} x {torch.cuda.get_device_name(torch.device(device))}"


def _device(requested: str | None) -> str:
  """The GPU when there is one; CPU only with a warning."""
  import torch

  if requested is None:
    requested = "cuda:0" if torch.cuda.is_available() else "cpu"
  if requested.startswith("cuda") and not torch.cuda.is_available():
    raise ValueError(f"--device {requested}: no CUDA device is available")
  if requested == "cpu":
    say("[dreamwaq train] warning: training on CPU is for tests only")
  return requested
