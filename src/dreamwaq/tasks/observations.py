"""Observation terms: o_t and the privileged part, in the order of ``layout``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.envs import mdp

from dreamwaq.robot import a1
from dreamwaq.tasks import layout

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv

COMMAND_NAME = "twist"
HEIGHT_SCAN_SENSOR = "height_scan"
FEET_CONTACT_SENSOR = "feet_contact"
"""The feet's contact forces: playback plots them; training reads no foot contact, so
only play envs carry the sensor (it was 10 % of an env step's torch ops)."""
PUSH_EVENT = "push_robot"

_PROPRIO_TERMS = {
  "base_ang_vel": lambda env: mdp.builtin_sensor(env, f"robot/{a1.GYRO_SENSOR}"),
  # Gravity direction in the body frame: quat_apply_inverse(q, [0, 0, -1]).
  "projected_gravity": mdp.projected_gravity,
  "commands": lambda env: mdp.generated_commands(env, COMMAND_NAME),
  "joint_pos": mdp.joint_pos_rel,
  "joint_vel": mdp.joint_vel_rel,
  "last_action": mdp.last_action,
}
assert tuple(_PROPRIO_TERMS) == tuple(p.name for p in layout.PROPRIO)


def proprioception(env: ManagerBasedRlEnv) -> torch.Tensor:
  """o_t (45): one term, so that a history of it is frame-major, oldest first."""
  return torch.cat([_PROPRIO_TERMS[p.name](env) for p in layout.PROPRIO], dim=-1)


def latest_history_frame(
  env: ManagerBasedRlEnv, group: str = "history", term: str = "proprio"
) -> torch.Tensor:
  """The newest frame of the ``history`` group: o_t with the very noise the history holds.

  The history group is computed before the actor group, so the actor's o_t and the
  last frame of o^H_t are one sample (as on a robot), not two independent noisy draws.
  """
  manager = getattr(env, "observation_manager", None)
  if manager is None:  # The manager probing term shapes while it is being built.
    return proprioception(env)
  return manager._group_obs_term_history_buffer[group][term].buffer[:, -1]


def base_lin_vel(env: ManagerBasedRlEnv) -> torch.Tensor:
  """v_t: true linear velocity of the trunk in its own frame (m/s)."""
  return env.scene["robot"].data.root_link_lin_vel_b


def disturbance(env: ManagerBasedRlEnv) -> torch.Tensor:
  """d_t: the last push's velocity change (m/s, world frame), held until the next.

  Zero when the task has no pushes (playback, evaluation on calm ground).
  """
  if PUSH_EVENT not in env.event_manager.active_terms.get("interval", ()):
    return torch.zeros(env.num_envs, 3, device=env.device)
  return env.event_manager.get_term_cfg(PUSH_EVENT).func.last_push


def terrain_heights(env: ManagerBasedRlEnv) -> torch.Tensor:
  """h_t: base height minus terrain height on the 17 × 11 yaw-aligned grid, ±1 m."""
  heights = mdp.height_scan(env, HEIGHT_SCAN_SENSOR)
  return heights.clamp(-layout.HEIGHT_CLIP, layout.HEIGHT_CLIP)


PRIVILEGED_TERMS = {
  "base_lin_vel": base_lin_vel,
  "disturbance": disturbance,
  "height_scan": terrain_heights,
}
assert tuple(PRIVILEGED_TERMS) == tuple(p.name for p in layout.PRIVILEGED)
