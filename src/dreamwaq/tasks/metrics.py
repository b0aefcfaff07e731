"""Per-step health metrics of the simulation, logged beside the rewards."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import warp as wp
from mjlab.managers.manager_base import ManagerTermBase
from mjlab.managers.metrics_manager import MetricsTermCfg

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


class contact_budget_overflow(ManagerTermBase):
  """1 for an env whose contacts or constraint rows overflowed their budget since
  the last env step, else 0.

  MuJoCo Warp preallocates ``naconmax`` contacts (all worlds together) and ``njmax``
  constraint rows per world and drops what does not fit, so a budget sized too
  tight shows up only as robots sinking into the terrain. It flags each overflow
  in a per-world bitmask, which this reads and clears.
  """

  def __init__(self, cfg: MetricsTermCfg, env: ManagerBasedRlEnv):
    super().__init__(env)
    self._overflow = wp.to_torch(env.sim.wp_data.overflow)

  def __call__(self, env: ManagerBasedRlEnv) -> torch.Tensor:
    flagged = (self._overflow != 0).float()
    self._overflow.zero_()
    return flagged
