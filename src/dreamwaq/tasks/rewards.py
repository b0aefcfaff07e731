"""The twelve reward terms of DreamWaQ (paper Table I; spec §4).

Each is a small function of the env returning one value per env, before its
weight; the manager multiplies by weight · dt. The two action terms are mjlab's
own (``action_rate_l2``, ``action_acc_l2``): they compute exactly Table I's forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.managers.manager_base import ManagerTermBase
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.scene_entity_config import SceneEntityCfg

from dreamwaq.tasks import layout
from dreamwaq.tasks.observations import COMMAND_NAME, terrain_heights

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv

TRACKING_SIGMA = 0.25
"""σ² of the tracking kernels exp(−e²/σ²)."""

FOOT_HEIGHT_SENSOR = "foot_height"

# Indices of the 3 × 3 scan points within ±0.1 m of the base: "the terrain under the base".
_NX, _NY = 17, 11
_CENTRE = [
  (_NY // 2 + dy) * _NX + (_NX // 2 + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
]
assert _NX * _NY == layout.HEIGHT_SCAN_POINTS


def _robot(env: ManagerBasedRlEnv):
  return env.scene["robot"]


def track_lin_vel(env: ManagerBasedRlEnv) -> torch.Tensor:
  """exp(−‖v*_xy − v_xy‖² / σ²), body frame."""
  cmd = env.command_manager.get_command(COMMAND_NAME)
  vel = _robot(env).data.root_link_lin_vel_b
  return torch.exp(
    -torch.sum(torch.square(cmd[:, :2] - vel[:, :2]), dim=1) / TRACKING_SIGMA
  )


def track_ang_vel(env: ManagerBasedRlEnv) -> torch.Tensor:
  """exp(−(ω*_z − ω_z)² / σ²)."""
  cmd = env.command_manager.get_command(COMMAND_NAME)
  yaw_rate = _robot(env).data.root_link_ang_vel_b[:, 2]
  return torch.exp(-torch.square(cmd[:, 2] - yaw_rate) / TRACKING_SIGMA)


def lin_vel_z(env: ManagerBasedRlEnv) -> torch.Tensor:
  """v_z² (body frame)."""
  return torch.square(_robot(env).data.root_link_lin_vel_b[:, 2])


def ang_vel_xy(env: ManagerBasedRlEnv) -> torch.Tensor:
  """ω_x² + ω_y² (body frame)."""
  return torch.sum(torch.square(_robot(env).data.root_link_ang_vel_b[:, :2]), dim=1)


def orientation(env: ManagerBasedRlEnv) -> torch.Tensor:
  """‖g_xy‖² of the body-frame gravity direction."""
  return torch.sum(torch.square(_robot(env).data.projected_gravity_b[:, :2]), dim=1)


class joint_acc(ManagerTermBase):
  """Σ ((θ̇_t − θ̇_{t−1}) / dt)² over the policy step (finite difference, as legged_gym)."""

  def __init__(self, cfg: RewardTermCfg, env: ManagerBasedRlEnv):
    super().__init__(env)
    self.last_joint_vel = _robot(env).data.joint_vel.clone()

  def __call__(self, env: ManagerBasedRlEnv) -> torch.Tensor:
    joint_vel = _robot(env).data.joint_vel
    acc = (joint_vel - self.last_joint_vel) / env.step_dt
    self.last_joint_vel[:] = joint_vel
    return torch.sum(torch.square(acc), dim=1)

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    self.last_joint_vel[slice(None) if env_ids is None else env_ids] = 0.0


def _joint_power(env: ManagerBasedRlEnv) -> torch.Tensor:
  """τ ⊙ θ̇ per joint (W); actuators are sorted in joint order."""
  robot = _robot(env)
  return robot.data.actuator_force * robot.data.joint_vel


def joint_power(env: ManagerBasedRlEnv) -> torch.Tensor:
  """Σ |τ| · |θ̇|."""
  return torch.sum(torch.abs(_joint_power(env)), dim=1)


def power_distribution(env: ManagerBasedRlEnv) -> torch.Tensor:
  """Variance over the 12 joints of τ ⊙ θ̇ (population variance, W²)."""
  return torch.var(_joint_power(env), dim=1, correction=0)


def base_height_over_terrain(env: ManagerBasedRlEnv) -> torch.Tensor:
  """Trunk height above the terrain under it: mean of the 3 × 3 scan points at ±0.1 m."""
  return terrain_heights(env)[:, _CENTRE].mean(dim=1)


def base_height(env: ManagerBasedRlEnv, target: float) -> torch.Tensor:
  """(h_base − h_target)², h_base measured from the terrain, never from world z."""
  return torch.square(base_height_over_terrain(env) - target)


def foot_clearance(
  env: ManagerBasedRlEnv, target: float, asset_cfg: SceneEntityCfg
) -> torch.Tensor:
  """Σ_feet (p_z,foot − h_terrain,foot − p_target)² · ‖v_xy,foot‖.

  Foot heights over the terrain come from a height sensor at each foot, in the
  world frame (no yaw rotation applied twice, a bug of an earlier reimplementation);
  ``asset_cfg.site_names`` lists the foot sites in the sensor's order.
  """
  foot_height = env.scene[FOOT_HEIGHT_SENSOR].data.heights  # [B, 4]
  foot_vel = _robot(env).data.site_lin_vel_w[:, asset_cfg.site_ids, :2]  # [B, 4, 2]
  return torch.sum(torch.square(foot_height - target) * torch.norm(foot_vel, dim=-1), dim=1)
