"""The velocity command of spec §6: mjlab's uniform command with small commands zeroed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from mjlab.tasks.velocity.mdp.velocity_command import (
  UniformVelocityCommand,
  UniformVelocityCommandCfg,
)

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


class DreamWaqVelocityCommand(UniformVelocityCommand):
  """v_x, v_y, yaw rate drawn uniformly; planar commands below ``min_lin_vel`` become 0."""

  cfg: DreamWaqVelocityCommandCfg

  def _resample_command(self, env_ids: torch.Tensor) -> None:
    super()._resample_command(env_ids)
    small = torch.norm(self.vel_command_b[env_ids, :2], dim=1) < self.cfg.min_lin_vel
    self.vel_command_b[env_ids, :2] *= (~small).unsqueeze(1).float()
    self.vel_command_w[env_ids] = self.vel_command_b[env_ids]


@dataclass(kw_only=True)
class DreamWaqVelocityCommandCfg(UniformVelocityCommandCfg):
  min_lin_vel: float = 0.2
  """Planar commands with ‖(v_x, v_y)‖ below this (m/s) are set to zero (legged_gym)."""

  def build(self, env: ManagerBasedRlEnv) -> DreamWaqVelocityCommand:
    return DreamWaqVelocityCommand(self, env)
