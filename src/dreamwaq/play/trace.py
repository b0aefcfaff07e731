"""What one robot did during playback, step by step, in physical units (the seed's
logger): the plots are drawn from it and the summary is computed from it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from mjlab.envs import ManagerBasedRlEnv

from dreamwaq.robot import a1
from dreamwaq.tasks.observations import COMMAND_NAME, FEET_CONTACT_SENSOR


@dataclass
class Trace:
  """Per-step records of robot ``env_id``, taken when the policy acts on a state."""

  dt: float
  env_id: int = 0
  columns: dict[str, list[np.ndarray]] = field(default_factory=dict)

  def record(
    self, env: ManagerBasedRlEnv, actions: torch.Tensor, est_vel: torch.Tensor | None
  ) -> None:
    """The state the policy saw, its command, output and estimate (m/s)."""
    i = self.env_id
    robot = env.scene["robot"].data
    feet = env.scene[FEET_CONTACT_SENSOR].data.force[i]
    row = {
      "command": env.command_manager.get_command(COMMAND_NAME)[i],
      "lin_vel": robot.root_link_lin_vel_b[i],
      "ang_vel": robot.root_link_ang_vel_b[i],
      "joint_pos": robot.joint_pos[i],
      "joint_target": actions[i] * a1.ACTION_SCALE + robot.default_joint_pos[i],
      "joint_vel": robot.joint_vel[i],
      "torque": robot.actuator_force[i],
      "foot_force": feet.norm(dim=-1),
    }
    if est_vel is not None:
      row["est_vel"] = est_vel[i]
    for name, value in row.items():
      self.columns.setdefault(name, []).append(value.detach().cpu().numpy().copy())

  def mark_reset(self, dones: torch.Tensor) -> None:
    """Whether the robot fell (its episode ended) on the last step."""
    self.columns.setdefault("reset", []).append(np.asarray(bool(dones[self.env_id])))

  def __getitem__(self, name: str) -> np.ndarray:
    return np.stack(self.columns[name])

  def __contains__(self, name: str) -> bool:
    return name in self.columns

  @property
  def time(self) -> np.ndarray:
    return np.arange(len(self.columns["command"])) * self.dt

  def summary(self) -> list[str]:
    """Tracking and estimation errors (RMS, physical units) and falls."""
    cmd, vel, ang = self["command"], self["lin_vel"], self["ang_vel"]
    lines = [
      (
        f"{len(cmd)} steps ({len(cmd) * self.dt:.1f} s) of robot {self.env_id}, "
        f"{int(self['reset'].sum())} falls"
      ),
      "tracking RMS error: v_x {:.3f} m/s, v_y {:.3f} m/s, yaw rate {:.3f} rad/s".format(
        *_rms(cmd[:, :2] - vel[:, :2]), *_rms(cmd[:, 2:] - ang[:, 2:])
      ),
    ]
    if "est_vel" in self:
      lines.append(
        "velocity estimate RMS error: x {:.3f}, y {:.3f}, z {:.3f} m/s".format(
          *_rms(self["est_vel"] - vel)
        )
      )
    return lines


def _rms(error: np.ndarray) -> np.ndarray:
  return np.sqrt(np.mean(np.square(error), axis=0))
