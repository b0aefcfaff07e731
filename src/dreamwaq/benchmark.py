"""Throughput the way Isaac Lab reports it: env only, with policy inference, with training.

Each task is measured in the same process, one after another, so that a ratio
between dreamwaq's task and mjlab's stock Go1 rough task holds on a noisy machine (a
``--resume``d run continues on the same machine, in a new process).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from dreamwaq.runs import write_atomically

STOCK_TASK = "Mjlab-Velocity-Rough-Unitree-Go1"
"""mjlab's own rough-terrain quadruped task, the reference for ratios."""


@dataclass
class BenchResult:
  task: str
  num_envs: int
  steps_per_iteration: int
  env_steps_per_s: float
  inference_steps_per_s: float
  training_steps_per_s: float
  build_s: float
  """Env and runner construction, kernel compilation included (first use only)."""
  peak_gpu_memory_gib: float | None


def _sync(device: str) -> None:
  if device.startswith("cuda"):
    torch.cuda.synchronize(device)


def _timed(device: str, steps: int, fn: Callable[[], None]) -> float:
  """Seconds for ``steps`` calls of ``fn`` (after one warm-up call)."""
  fn()
  _sync(device)
  start = time.perf_counter()
  for _ in range(steps):
    fn()
  _sync(device)
  return time.perf_counter() - start


def _build(task: str, num_envs: int, device: str, log_dir: str):
  """(wrapped env, runner) for a dreamwaq task or an mjlab registry task."""
  from mjlab.envs import ManagerBasedRlEnv
  from mjlab.rl import RslRlVecEnvWrapper

  if task.startswith("a1_"):
    from dreamwaq.learning.config import runner_cfg
    from dreamwaq.learning.runner import DreamWaqRunner
    from dreamwaq.tasks.registry import get_task

    spec = get_task(task)
    env_cfg, agent, runner_cls = spec.env_cfg(), runner_cfg(spec), DreamWaqRunner
  else:
    import mjlab.tasks  # noqa: F401  (registers mjlab's tasks)
    from mjlab.rl import MjlabOnPolicyRunner
    from mjlab.tasks.registry import list_tasks, load_env_cfg, load_rl_cfg, load_runner_cls

    if task not in list_tasks():
      raise ValueError(f"unknown task {task!r}: neither a dreamwaq task nor mjlab's")
    env_cfg, agent = load_env_cfg(task), load_rl_cfg(task)
    runner_cls = load_runner_cls(task) or MjlabOnPolicyRunner
    agent.logger = "tensorboard"
  env_cfg.scene.num_envs = num_envs
  env = RslRlVecEnvWrapper(ManagerBasedRlEnv(env_cfg, device=device))
  runner = runner_cls(env, asdict(agent), log_dir, device)
  return env, runner


def bench_task(
  task: str, num_envs: int, device: str, steps: int = 100, iterations: int = 5
) -> BenchResult:
  """Measure one task at one env count."""
  if device.startswith("cuda"):
    torch.zeros(1, device=device)  # Initialise CUDA before touching its memory stats.
    torch.cuda.reset_peak_memory_stats(device)
  start = time.perf_counter()
  with tempfile.TemporaryDirectory() as log_dir:
    env, runner = _build(task, num_envs, device, log_dir)
    build_s = time.perf_counter() - start
    num_actions = env.num_actions
    obs = env.get_observations().to(device)

    def env_step() -> None:
      env.step(2.0 * torch.rand(num_envs, num_actions, device=device) - 1.0)

    runner.alg.eval_mode()

    def inference_step() -> None:
      nonlocal obs
      with torch.inference_mode():
        obs, *_ = env.step(runner.alg.act(obs))

    env_s = _timed(device, steps, env_step)
    infer_s = _timed(device, steps, inference_step)
    runner.learn(1)  # Warm-up: the first update allocates and compiles.
    _sync(device)
    t0 = time.perf_counter()
    runner.learn(iterations)
    _sync(device)
    train_s = time.perf_counter() - t0
    steps_per_it = runner.cfg["num_steps_per_env"]
    env.close()
  memory = (
    torch.cuda.max_memory_allocated(device) / 2**30 if device.startswith("cuda") else None
  )
  return BenchResult(
    task=task,
    num_envs=num_envs,
    steps_per_iteration=steps_per_it,
    env_steps_per_s=steps * num_envs / env_s,
    inference_steps_per_s=steps * num_envs / infer_s,
    training_steps_per_s=iterations * steps_per_it * num_envs / train_s,
    build_s=build_s,
    peak_gpu_memory_gib=memory,
  )


def machine_info(device: str) -> dict[str, Any]:
  import platform

  info: dict[str, Any] = {
    "device": device,
    "torch": torch.__version__,
    "host": platform.node(),
  }
  if device.startswith("cuda"):
    props = torch.cuda.get_device_properties(device)
    info |= {"gpu": props.name, "gpu_memory_gib": props.total_memory / 2**30}
  return info


def run_benchmarks(
  tasks: list[str],
  env_counts: list[int],
  device: str,
  steps: int,
  iterations: int,
  out: Path,
  resume: bool = False,
) -> dict[str, Any]:
  """Every task at every env count, ``out`` rewritten after each one, so that a run cut
  short (a GPU call's time limit) keeps what it measured; with ``resume`` the results
  ``out`` holds for the same device, steps and iterations are kept and not measured
  again. Ratios of each task to the stock task where both ran."""
  report = {
    "machine": machine_info(device),
    "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    "steps": steps,
    "iterations": iterations,
    "results": [],
  }
  if resume and out.is_file():
    kept = json.loads(out.read_text())
    same = ("steps", "iterations")
    if kept["machine"] != report["machine"] or any(kept[k] != report[k] for k in same):
      raise ValueError(
        f"{out} was measured on another device or with other --steps/--iterations"
      )
    report["results"] = kept["results"]
  for n in env_counts:
    for task in tasks:
      if any(r["task"] == task and r["num_envs"] == n for r in report["results"]):
        continue
      report["results"].append(asdict(bench_task(task, n, device, steps, iterations)))
      _add_ratios(report["results"])
      _write(out, report)
  return report


def _write(out: Path, report: dict[str, Any]) -> None:
  """The whole report, replacing the file in one rename (a kill leaves the last one)."""
  data = (json.dumps(report, indent=1) + "\n").encode()
  out.parent.mkdir(parents=True, exist_ok=True)
  write_atomically(out, lambda f: f.write(data))


def _add_ratios(results: list[dict[str, Any]]) -> None:
  """Each task's rates over the stock task's at the same env count, where both ran."""
  rates = ("env_steps_per_s", "inference_steps_per_s", "training_steps_per_s")
  for r in results:
    ref = [x for x in results if x["task"] == STOCK_TASK and x["num_envs"] == r["num_envs"]]
    if ref and r["task"] != STOCK_TASK:
      r["ratio_to_stock"] = {k: r[k] / ref[0][k] for k in rates}
