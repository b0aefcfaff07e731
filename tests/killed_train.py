"""``python -m tests.killed_train step|save N <train flags>``: ``dreamwaq train`` that
SIGKILLs itself, as an out-of-memory killer or a lost machine would, at env step N
of the run (``step``) or halfway through writing ``model_N.pt`` (``save``).

A SIGKILL cannot be caught, so nothing of dreamwaq runs after it: what is on disk is
what a real crash leaves. The hooks patch libraries in this process only.
"""

from __future__ import annotations

import io
import os
import signal
import sys

import torch
from mjlab.rl import RslRlVecEnvWrapper

from dreamwaq.cli.main import main


def _die() -> None:
  os.kill(os.getpid(), signal.SIGKILL)


def kill_at_step(n: int) -> None:
  """Die inside env step ``n`` (counting from 0), mid-rollout."""
  step = RslRlVecEnvWrapper.step
  calls = 0

  def counted(self, actions):
    nonlocal calls
    if calls == n:
      _die()
    calls += 1
    return step(self, actions)

  RslRlVecEnvWrapper.step = counted


def kill_while_saving(iteration: int) -> None:
  """Die with half of ``model_<iteration>.pt``'s bytes written to its file."""
  save = torch.save
  name = f"model_{iteration}.pt"

  def half_written(obj, f, *args, **kwargs):
    if not os.path.basename(getattr(f, "name", str(f))).startswith(name):
      return save(obj, f, *args, **kwargs)
    buffer = io.BytesIO()
    save(obj, buffer, *args, **kwargs)
    f.write(buffer.getvalue()[: buffer.tell() // 2])
    f.flush()
    os.fsync(f.fileno())
    _die()

  torch.save = half_written


if __name__ == "__main__":
  point, n, *train_flags = sys.argv[1:]
  {"step": kill_at_step, "save": kill_while_saving}[point](int(n))
  sys.exit(main(["train", *train_flags]))
