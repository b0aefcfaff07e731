"""``python -m tests.distributed_train <train flags>``: ``dreamwaq train`` whose ranks
each dump what they trained, and one of which may fail or be signalled alone.

Run as the launcher (``--gpus N``), it wraps the entry of torchrunx's ranks, which
the ranks unpickle from here; run by ``torchrun`` (``-m tests.distributed_train``),
each process is a rank. Either way, in each rank, from the environment:

- ``DUMP_DIR``: the rank writes ``rank<R>.pt`` when its training ends: its networks'
  and normalisers' state, optimiser states, env seed and last rollout's rewards
  (only rank 0 writes checkpoints);
- ``NAN_RANK`` / ``SIGTERM_RANK``: that rank alone gets a NaN reward, or a SIGTERM,
  in iteration 1.
"""

from __future__ import annotations

import math
import os
import signal
import sys

import torch
from mjlab.managers.reward_manager import RewardManager
from mjlab.rl import RslRlVecEnvWrapper

from dreamwaq.cli import multi_gpu
from dreamwaq.cli.main import main
from dreamwaq.learning.config import runner_cfg
from dreamwaq.learning.runner import DreamWaqRunner
from dreamwaq.tasks.registry import get_task

STEPS = runner_cfg(get_task("a1_waq")).num_steps_per_env
IN_ITERATION_1 = STEPS + 5
"""An env step of iteration 1."""


def dump_at_end() -> None:
  learn = DreamWaqRunner.learn

  def learn_and_dump(self: DreamWaqRunner, *args, **kwargs) -> None:
    try:
      learn(self, *args, **kwargs)
    finally:
      alg = self.alg
      state = {
        "networks": {k: v.clone() for k, v in self._state().items()},
        "optimizer": alg.optimizer.state_dict(),
        "estimator_optimizer": alg.estimator_optimizer.state_dict(),
        "seed": self.env.unwrapped.cfg.seed,
        "rewards": alg.storage.rewards.clone(),
        "iteration": self.iteration,
      }
      name = f"rank{os.environ['RANK']}.pt"
      torch.save(state, os.path.join(os.environ["DUMP_DIR"], name))

  DreamWaqRunner.learn = learn_and_dump


def poison_reward() -> None:
  compute = RewardManager.compute
  calls = 0

  def poisoned(self, dt):
    nonlocal calls
    reward = compute(self, dt)
    calls += 1
    if calls == IN_ITERATION_1:
      reward[1] = math.nan
    return reward

  RewardManager.compute = poisoned


def signal_self() -> None:
  step = RslRlVecEnvWrapper.step
  calls = 0

  def signalled(self, actions):
    nonlocal calls
    calls += 1
    if calls == IN_ITERATION_1:
      os.kill(os.getpid(), signal.SIGTERM)
    return step(self, actions)

  RslRlVecEnvWrapper.step = signalled


def patch_rank() -> None:
  """This rank's patches, from the environment."""
  rank = os.environ["RANK"]
  if "DUMP_DIR" in os.environ:
    dump_at_end()
  if os.environ.get("NAN_RANK") == rank:
    poison_reward()
  if os.environ.get("SIGTERM_RANK") == rank:
    signal_self()


def patched_rank_main(*args, **kwargs) -> int:
  """Run in a torchrunx rank, where ``multi_gpu`` is imported afresh: unpatched."""
  patch_rank()
  return multi_gpu._rank_main(*args, **kwargs)


if __name__ == "__main__":
  if multi_gpu.is_rank():  # Started by torchrun.
    patch_rank()
  else:  # The launcher: its ranks unpickle this wrapper.
    multi_gpu._rank_main = patched_rank_main
  sys.exit(main(["train", *sys.argv[1:]]))
