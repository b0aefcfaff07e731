"""Event terms DreamWaQ needs beyond mjlab's: recorded pushes and PD/motor randomisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.actuator import IdealPdActuator
from mjlab.managers.event_manager import EventTermCfg
from mjlab.managers.manager_base import ManagerTermBase

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


class push_robot(ManagerTermBase):
  """Push the trunk by a random velocity change and remember it as d_t (spec §2, §8).

  Each component of the change is drawn from U[−max_push, max_push] (m/s, world
  frame) and added to the trunk's linear velocity. ``last_push`` holds the most
  recent change until the next push and is zeroed when the episode resets.
  """

  def __init__(self, cfg: EventTermCfg, env: ManagerBasedRlEnv):
    super().__init__(env)
    self.last_push = torch.zeros(env.num_envs, 3, device=env.device)

  def __call__(
    self,
    env: ManagerBasedRlEnv,
    env_ids: torch.Tensor | None,
    max_push: tuple[float, float, float],
  ) -> None:
    if env_ids is None:
      env_ids = torch.arange(env.num_envs, device=env.device)
    robot = env.scene["robot"]
    limit = torch.tensor(max_push, device=env.device)
    delta = (torch.rand(len(env_ids), 3, device=env.device) * 2.0 - 1.0) * limit
    vel_w = robot.data.root_link_vel_w[env_ids].clone()
    vel_w[:, :3] += delta
    robot.write_root_link_velocity_to_sim(vel_w, env_ids=env_ids)
    self.last_push[env_ids] = delta

  def reset(self, env_ids: torch.Tensor | slice | None = None) -> None:
    self.last_push[slice(None) if env_ids is None else env_ids] = 0.0


def randomize_pd_and_motor_strength(
  env: ManagerBasedRlEnv,
  env_ids: torch.Tensor | None,
  kp_range: tuple[float, float],
  kd_range: tuple[float, float],
  strength_range: tuple[float, float],
) -> None:
  """Scale each joint's Kp, Kd and motor strength by per-env factors (spec §8).

  The torque law is τ = clip(m · (f_p·Kp·(θ_des − θ) − f_d·Kd·θ̇), ±limit), the
  legged_gym form, written as the gains m·f_p·Kp and m·f_d·Kd of mjlab's explicit
  PD actuator, so the randomisation reaches the torque (an earlier reimplementation
  drew these factors and never applied them).
  """
  if env_ids is None:
    env_ids = torch.arange(env.num_envs, device=env.device)
  robot = env.scene["robot"]
  for actuator in robot.actuators:
    if not isinstance(actuator, IdealPdActuator):
      raise TypeError(f"expected explicit PD actuators, got {type(actuator).__name__}")
    shape = (len(env_ids), actuator.target_ids.numel())

    def draw(lo_hi: tuple[float, float], shape=shape) -> torch.Tensor:
      return torch.empty(shape, device=env.device).uniform_(*lo_hi)

    strength = draw(strength_range)
    assert actuator.default_stiffness is not None
    assert actuator.default_damping is not None
    actuator.set_gains(
      env_ids,
      kp=actuator.default_stiffness[env_ids] * draw(kp_range) * strength,
      kd=actuator.default_damping[env_ids] * draw(kd_range) * strength,
    )
