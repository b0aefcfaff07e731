"""PyTorch operations per env step, by stage of ``ManagerBasedRlEnv.step``. CPU is enough.

At 4096 envs on a GPU each torch operation is a small kernel, and the step's torch part
is bound by launching them (profile: the physics is about half of a step, the managers'
PyTorch the other half). The number of operations is the same on any device, so it is
measured here, exactly and repeatably, on the CPU with a few envs:

    CUDA_VISIBLE_DEVICES="" python benchmarks/op_count.py --task a1_waq [--out ops.json]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import torch
from mjlab.envs import ManagerBasedRlEnv
from profile_step import step_stages
from torch.utils._python_dispatch import TorchDispatchMode

from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.registry import get_task


class OpCounter(TorchDispatchMode):
  """Counts every aten operation dispatched while active (views included)."""

  def __init__(self) -> None:
    super().__init__()
    self.total = 0
    self.by_op: Counter[str] = Counter()

  def __torch_dispatch__(self, func, types, args=(), kwargs=None):
    self.total += 1
    self.by_op[str(func)] += 1
    return func(*args, **(kwargs or {}))


def _counted(
  counter: OpCounter, totals: dict[str, int], label: str, fn: Callable
) -> Callable:
  def counted(*args, **kwargs):
    before = counter.total
    result = fn(*args, **kwargs)
    totals[label] += counter.total - before
    return result

  return counted


def count_ops(env: ManagerBasedRlEnv, steps: int) -> dict:
  """Operations per env step: in all, per stage, per reward and observation term."""
  actions = torch.zeros(env.num_envs, env.action_manager.total_action_dim)
  for _ in range(5):  # Past the first resets.
    env.step(actions)
  counter = OpCounter()
  stages: dict[str, int] = defaultdict(int)
  terms: dict[str, int] = defaultdict(int)
  for obj, names in step_stages(env).items():
    for name in names:
      label = f"{type(obj).__name__}.{name}"
      setattr(obj, name, _counted(counter, stages, label, getattr(obj, name)))
  rewards = env.reward_manager
  for name in rewards.active_terms:
    cfg = rewards.get_term_cfg(name)
    cfg.func = _counted(counter, terms, f"reward.{name}", cfg.func)
  with counter:
    for _ in range(steps):
      env.step(actions)

  def per_step(counts: dict[str, int]) -> dict[str, float]:
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return {k: v / steps for k, v in ranked if v}

  return {
    "ops_per_env_step": counter.total / steps,
    "stages": per_step(stages),
    "reward_terms": per_step(terms),
    "most_common_ops": per_step(dict(counter.by_op.most_common(15))),
  }


def small_env(task: str, num_envs: int, device: str = "cpu") -> ManagerBasedRlEnv:
  """A task's training env on a 2 × 5 grid: every geom type and term, built fast."""
  cfg = get_task(task).env_cfg(A1EnvSettings(terrain_rows=2, terrain_cols=5))
  cfg.scene.num_envs = num_envs
  return ManagerBasedRlEnv(cfg, device=device)


def report(result: dict, out: Path | None) -> None:
  """Print ``result`` as JSON, and write it to ``out`` when given."""
  text = json.dumps(result, indent=1)
  print(text)
  if out:
    out.write_text(text + "\n")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--task", default="a1_waq")
  parser.add_argument("--num_envs", type=int, default=4)
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--out", type=Path)
  args = parser.parse_args()
  env = small_env(args.task, args.num_envs)
  env.reset()
  result = {"task": args.task, "num_envs": args.num_envs} | count_ops(env, args.steps)
  report(result, args.out)


if __name__ == "__main__":
  main()
