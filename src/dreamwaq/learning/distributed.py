"""Multi-GPU helpers for what rsl_rl's PPO does not share between ranks.

``broadcast_module`` / ``all_reduce_grads`` mirror ``PPO.broadcast_parameters`` /
``PPO.reduce_parameters`` so an extra network stays identical on every rank, exactly
like the actor. rsl_rl leaves each rank's observation normalisers to their own data
(they drift apart); ``average_normalizers`` makes them agree once per rollout. The
rest lets every rank take the same decision (stop, and why) at the same point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from rsl_rl.modules import EmpiricalNormalization
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


def average_normalizers(normalizers: Sequence[EmpiricalNormalization]) -> None:
  """Give every rank the statistics of all ranks' samples pooled, in one all-gather.

  The ranks start each rollout from the same statistics and add as many samples
  each, so the pooled mean is the mean of the ranks' means and the pooled variance
  the mean of (variance + squared offset of its mean); the count stays one rank's,
  as if the rollout had been one rank's. Every rank computes the same numbers from
  the same gathered tensor, so the results are identical bit for bit.
  """
  if not normalizers:
    return
  local = torch.cat([t.view(-1) for n in normalizers for t in (n._mean, n._var)])
  gathered = [torch.empty_like(local) for _ in range(torch.distributed.get_world_size())]
  torch.distributed.all_gather(gathered, local)
  stacked = torch.stack(gathered)  # [rank, means and variances of each normaliser]
  offset = 0
  for n in normalizers:
    size = n._mean.numel()
    means = stacked[:, offset : offset + size]
    variances = stacked[:, offset + size : offset + 2 * size]
    offset += 2 * size
    mean = means.mean(dim=0)
    var = (variances + (means - mean) ** 2).mean(dim=0)
    n._mean.copy_(mean.view_as(n._mean))
    n._var.copy_(var.view_as(n._var))
    n._std.copy_(var.sqrt().view_as(n._std))


def max_over_ranks(values: Sequence[int], device: str | torch.device) -> list[int]:
  """Element-wise maximum of a few integer flags over all ranks: one small all-reduce."""
  t = torch.tensor(list(values), dtype=torch.long, device=device)
  torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
  return [int(v) for v in t.tolist()]


def gather_objects(item: Any) -> list[Any]:
  """Every rank's ``item`` (picklable), in rank order, on every rank."""
  items: list[Any] = [None] * torch.distributed.get_world_size()
  torch.distributed.all_gather_object(items, item)
  return items


def broadcast_object(item: Any, src: int = 0) -> Any:
  """Rank ``src``'s ``item`` (picklable), on every rank."""
  box = [item]
  torch.distributed.broadcast_object_list(box, src=src)
  return box[0]
