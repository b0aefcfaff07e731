"""Multi-GPU helpers for networks rsl_rl's PPO does not know about.

They mirror ``PPO.broadcast_parameters`` / ``PPO.reduce_parameters`` so an extra
network stays identical on every rank, exactly like the actor.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def broadcast_module(module: nn.Module, src: int = 0) -> None:
  """Copy ``module``'s parameters and buffers from rank ``src`` to all ranks."""
  state = [module.state_dict()]
  torch.distributed.broadcast_object_list(state, src=src)
  module.load_state_dict(state[0])


def all_reduce_grads(params: Iterable[nn.Parameter], world_size: int) -> None:
  """Average gradients over all ranks in one flat all-reduce."""
  params = [p for p in params if p.grad is not None]
  flat = torch.cat([p.grad.view(-1) for p in params])
  torch.distributed.all_reduce(flat, op=torch.distributed.ReduceOp.SUM)
  flat /= world_size
  offset = 0
  for p in params:
    p.grad.copy_(flat[offset : offset + p.numel()].view_as(p.grad))
    offset += p.numel()


def all_reduce_mean(value: float, world_size: int, device: str | torch.device) -> float:
  """Mean of a scalar over all ranks (keeps learning-rate schedules in lockstep)."""
  t = torch.tensor(value, device=device)
  torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM)
  return float(t) / world_size
