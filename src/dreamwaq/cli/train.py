"""``dreamwaq train``: train a task's policy (and estimator) with PPO.

User mistakes raise ValueError / FileNotFoundError, which ``dreamwaq`` prints as
one line (exit 2).

Runs land in ``<log_root>/<experiment>/<YYYY-MM-DD_HH-MM-SS>[_<run_name>]/``
with ``model_<N>.pt`` checkpoints, TensorBoard events and ``params/`` beside.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dreamwaq.runs import find_checkpoint

if TYPE_CHECKING:
  from mjlab.rl import RslRlVecEnvWrapper

  from dreamwaq.learning.runner import DreamWaqRunner


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("train", help="train a task with PPO (and its estimator)")
  p.add_argument("--task", required=True, help="a task of `dreamwaq list`")
  p.add_argument(
    "--headless",
    action="store_true",
    help="accepted as in legged_gym; training never opens a viewer",
  )
  p.add_argument("--num_envs", type=int, default=4096)
  p.add_argument("--max_iterations", type=int, help="iterations to run (default: 1500)")
  p.add_argument("--seed", type=int, help="default: 42 (plus the rank on several GPUs)")
  p.add_argument(
    "--device", help="default: cuda:0 when there is a GPU, else cpu (tests only)"
  )
  p.add_argument(
    "--resume", action="store_true", help="continue a run of the same experiment"
  )
  p.add_argument("--load_run", help="run folder to resume (default: the latest)")
  p.add_argument("--checkpoint", type=int, help="iteration to resume (default: the latest)")
  p.add_argument("--run_name", default="", help="suffix of the run folder")
  p.add_argument(
    "--experiment_name", help="log folder (default: the task's, e.g. rough_a1_waq)"
  )
  p.add_argument("--logger", choices=("tensorboard", "wandb"), default="tensorboard")
  p.add_argument("--log_root", default="logs")
  p.set_defaults(run=run)


@dataclass
class TrainSession:
  """A built env and runner, ready to ``learn``; tests inspect it before training."""

  runner: DreamWaqRunner
  env: RslRlVecEnvWrapper
  log_dir: Path
  iterations: int


def run(args: argparse.Namespace) -> int:
  session = start(args)
  session.runner.learn(session.iterations, init_at_random_ep_len=True)
  session.env.close()
  print(f"[dreamwaq train] done: {session.log_dir}")
  return 0


def start(args: argparse.Namespace) -> TrainSession:
  """Validate the arguments, build the env and runner, load a checkpoint to resume."""
  from dreamwaq.learning.config import runner_cfg
  from dreamwaq.tasks.registry import get_task

  task = get_task(args.task)
  for flag in ("num_envs", "max_iterations"):
    value = getattr(args, flag)
    if value is not None and value <= 0:
      raise ValueError(f"--{flag} must be positive, got {value}")
  rank = int(os.environ.get("RANK", "0"))
  agent = runner_cfg(task)
  agent.seed = (agent.seed if args.seed is None else args.seed) + rank
  agent.max_iterations = args.max_iterations or agent.max_iterations
  agent.experiment_name = args.experiment_name or agent.experiment_name
  agent.run_name = args.run_name
  agent.logger = args.logger
  experiment_dir = Path(args.log_root) / agent.experiment_name
  resume = None
  if args.resume:
    resume = _checkpoint(experiment_dir, args.load_run, args.checkpoint)
    agent.resume, agent.load_run, agent.load_checkpoint = (
      True,
      resume.parent.name,
      resume.name,
    )
  device = _device(args.device)
  stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
  log_dir = experiment_dir / (f"{stamp}_{args.run_name}" if args.run_name else stamp)

  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.rl import RslRlVecEnvWrapper
  from mjlab.utils.os import dump_yaml

  from dreamwaq.learning.runner import DreamWaqRunner

  env_cfg = task.env_cfg()
  env_cfg.scene.num_envs = args.num_envs
  env_cfg.seed = agent.seed
  env = RslRlVecEnvWrapper(ManagerBasedRlEnv(env_cfg, device=device))
  if rank == 0:
    dump_yaml(log_dir / "params" / "env.yaml", asdict(env_cfg))
    dump_yaml(log_dir / "params" / "agent.yaml", asdict(agent))
    dump_yaml(
      log_dir / "params" / "train.yaml",
      {"task": task.name, "num_envs": args.num_envs, "device": device, "argv": sys.argv},
    )
  train_cfg = asdict(agent)
  if args.logger == "wandb":  # rsl_rl's current form; the plain string is deprecated.
    train_cfg["logger"] = {
      "class_name": "WandbLogWriter",
      "project_name": agent.wandb_project,
    }
  runner = DreamWaqRunner(env, train_cfg, str(log_dir), device)
  runner.add_git_repo_to_log(__file__)
  if resume is not None:
    runner.load(str(resume), map_location=device)
    print(
      f"[dreamwaq train] resumed {resume} at iteration {runner.current_learning_iteration}"
    )
  return TrainSession(runner, env, log_dir, agent.max_iterations)


def _device(requested: str | None) -> str:
  """The GPU of this rank when there is one; CPU only with a warning."""
  import torch

  if int(os.environ.get("WORLD_SIZE", "1")) > 1:
    return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
  if requested is None:
    requested = "cuda:0" if torch.cuda.is_available() else "cpu"
  if requested.startswith("cuda") and not torch.cuda.is_available():
    raise ValueError(f"--device {requested}: no CUDA device is available")
  if requested == "cpu":
    print("[dreamwaq train] warning: training on CPU is for tests only", file=sys.stderr)
  return requested


def _checkpoint(experiment_dir: Path, load_run: str | None, iteration: int | None) -> Path:
  """The checkpoint to resume (latest run and iteration when not given)."""
  try:
    return find_checkpoint(experiment_dir, load_run, iteration)
  except FileNotFoundError as e:
    raise FileNotFoundError(f"nothing to resume: {e}") from None
