"""Every robot of an env driven by a policy for a fixed number of steps, recorded as
a ``Trajectory`` (the metrics' input)."""

from __future__ import annotations

import torch
from mjlab.rl import RslRlVecEnvWrapper

from dreamwaq.evaluation.metrics import Trajectory
from dreamwaq.play.session import Act
from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.terrain import past_tile_edge


def rollout(
  vec: RslRlVecEnvWrapper, act: Act, steps: int, tile_size: float | None = None
) -> Trajectory:
  """Reset every robot, then run ``steps`` policy steps. Records stay on the env's
  device until the end (one copy to the host). ``tile_size`` (m): each robot's tile
  is the square of that side around its env origin, and leaving it is recorded."""
  env = vec.unwrapped
  robot = env.scene["robot"].data
  n, device = env.num_envs, env.device
  command = torch.zeros(steps, n, 3, device=device)
  lin_vel = torch.zeros(steps, n, 3, device=device)
  yaw_rate = torch.zeros(steps, n, device=device)
  position = torch.zeros(steps, n, 2, device=device)
  fell = torch.zeros(steps, n, dtype=torch.bool, device=device)
  est_vel = None
  obs, _ = vec.reset()
  for t in range(steps):
    actions, estimate = act(obs)
    command[t] = env.command_manager.get_command(COMMAND_NAME)
    lin_vel[t] = robot.root_link_lin_vel_b
    yaw_rate[t] = robot.root_link_ang_vel_b[:, 2]
    position[t] = robot.root_link_pos_w[:, :2]
    if estimate is not None:
      if est_vel is None:
        est_vel = torch.zeros(steps, n, 3, device=device)
      est_vel[t] = estimate
    obs, _, _, _ = vec.step(actions)
    fell[t] = env.termination_manager.terminated  # Falls only: play envs never time out.
  return Trajectory(
    dt=env.step_dt,
    command=command.cpu().numpy(),
    lin_vel=lin_vel.cpu().numpy(),
    yaw_rate=yaw_rate.cpu().numpy(),
    position=position.cpu().numpy(),
    fell=fell.cpu().numpy(),
    est_vel=None if est_vel is None else est_vel.cpu().numpy(),
    off_tile=None
    if tile_size is None
    else past_tile_edge((position - env.scene.env_origins[:, :2]).cpu().numpy(), tile_size),
  )
