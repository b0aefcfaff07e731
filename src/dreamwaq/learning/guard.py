"""The NaN/Inf guard: once per iteration, over everything the iteration produced.

One fused ``isfinite`` reduction and one host sync per iteration (rsl_rl's own check
syncs several times per env step and sees NaN only); where the first bad value is
is worked out only after one was found.
"""

from __future__ import annotations

import math

import torch

Checked = dict[str, torch.Tensor | float]
"""Named tensors and numbers, in the order data flows through an iteration, so the
first bad one is where it appeared and the rest are its consequences."""


def first_non_finite(checked: Checked) -> str | None:
  """``"NaN in <name>"`` (or Inf) for the first entry with one; None when all are finite."""
  numbers = [v for v in checked.values() if not isinstance(v, torch.Tensor)]
  tensors = [v for v in checked.values() if isinstance(v, torch.Tensor)]
  finite = all(math.isfinite(v) for v in numbers)
  if finite and tensors:
    flags = [t.isfinite().all() for t in tensors]
    finite = bool(torch.stack([f.to(flags[0].device) for f in flags]).all())
  if finite:
    return None
  name, value = next((n, v) for n, v in checked.items() if not _finite(v))
  kind = "NaN" if torch.as_tensor(value).isnan().any() else "Inf"
  return f"{kind} in {name}"


def _finite(value: torch.Tensor | float) -> bool:
  return bool(torch.as_tensor(value).isfinite().all())
