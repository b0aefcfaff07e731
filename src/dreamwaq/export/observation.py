"""The policy's inputs from a plain MuJoCo state (numpy only), as training computes them.

Reads what the training terms read (``dreamwaq.tasks.observations``): the IMU gyro,
the trunk's orientation and velocity, the joints in the contract's order (mapped by
name), and assembles them in the order ``policy.json`` lists. Call ``mj_forward``
before reading: after ``mj_step`` the derived quantities lag ``qpos`` by one step.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from dreamwaq.robot import a1

GRAVITY_DIR = np.array([0.0, 0.0, -1.0])


class ObservationBuilder:
  """o_t, the 5-frame history and (oracle) the privileged part for one robot."""

  def __init__(self, model: mujoco.MjModel, contract: dict[str, Any], prefix: str) -> None:
    self.model = model
    self.contract = contract
    self.trunk = model.body(prefix + a1.TRUNK_BODY).id
    gyro = model.sensor(prefix + a1.GYRO_SENSOR)
    self._gyro = slice(gyro.adr[0], gyro.adr[0] + 3)
    joints = [model.joint(prefix + name).id for name in contract["joint_names"]]
    self.qpos_ids = model.jnt_qposadr[joints]
    self.qvel_ids = model.jnt_dofadr[joints]
    self.default_joint_pos = np.asarray(contract["default_joint_pos"])
    self._parts = [(p["name"], p["size"]) for p in contract["observation"]]
    self._history = np.zeros((contract["history_length"], sum(s for _, s in self._parts)))
    self._history_empty = True
    scan = contract["height_scan"]
    self.scan_offsets = _grid(scan["size"], scan["resolution"])
    self._scan_groups = np.array([1, 0, 0, 0, 0, 0], dtype=np.uint8)  # Terrain: group 0.
    self._ray_geom = np.zeros(1, dtype=np.int32)

  def projected_gravity(self, data: mujoco.MjData) -> np.ndarray:
    """quat_apply_inverse(q_trunk, [0, 0, −1]): gravity's direction in the body frame."""
    return data.xmat[self.trunk].reshape(3, 3).T @ GRAVITY_DIR

  def base_lin_vel(self, data: mujoco.MjData) -> np.ndarray:
    """v_t: the trunk origin's velocity in the trunk frame (``root_link_lin_vel_b``)."""
    vel = np.zeros(6)
    mujoco.mj_objectVelocity(
      self.model, data, mujoco.mjtObj.mjOBJ_XBODY, self.trunk, vel, 1
    )
    return vel[3:]

  def base_ang_vel(self, data: mujoco.MjData) -> np.ndarray:
    return data.sensordata[self._gyro].copy()

  def proprio(
    self, data: mujoco.MjData, command: np.ndarray, last_action: np.ndarray
  ) -> np.ndarray:
    """o_t, noise-free, clipped as in training."""
    parts = {
      "base_ang_vel": self.base_ang_vel(data),
      "projected_gravity": self.projected_gravity(data),
      "commands": command,
      "joint_pos": data.qpos[self.qpos_ids] - self.default_joint_pos,
      "joint_vel": data.qvel[self.qvel_ids],
      "last_action": last_action,
    }
    obs = np.concatenate([parts[name] for name, _ in self._parts])
    return np.clip(obs, -self.contract["obs_clip"], self.contract["obs_clip"])

  def reset_history(self) -> None:
    """The next frame fills every slot (a new episode starts like a deployed robot)."""
    self._history_empty = True

  def push_history(self, obs: np.ndarray) -> np.ndarray:
    """Append o_t; the history flattened oldest first."""
    if self._history_empty:
      self._history[:] = obs
      self._history_empty = False
    else:
      self._history = np.roll(self._history, -1, axis=0)
      self._history[-1] = obs
    return self._history.reshape(-1).copy()

  def height_scan(self, data: mujoco.MjData) -> np.ndarray:
    """h_t: trunk height minus terrain height on the yaw-aligned grid, clipped.

    Rays go straight down from the trunk's height (as mjlab's ray-cast sensor), seeing
    only the terrain's geoms; a miss or a drop beyond the clip reads as the clip.
    """
    clip = self.contract["height_clip"]
    heading = data.xmat[self.trunk].reshape(3, 3)[:2, 0]
    c, s = heading / max(np.linalg.norm(heading), 1e-6)
    offsets = self.scan_offsets @ np.array([[c, s], [-s, c]])
    origin = data.xpos[self.trunk]
    down = np.array([0.0, 0.0, -1.0])
    heights = np.empty(len(offsets))
    for i, (dx, dy) in enumerate(offsets):
      pnt = origin + (dx, dy, 0.0)
      heights[i] = mujoco.mj_ray(
        self.model, data, pnt, down, self._scan_groups, 1, self.trunk, self._ray_geom
      )
    return np.where((heights < 0) | (heights > clip), clip, heights)

  def privileged(self, data: mujoco.MjData, disturbance: np.ndarray) -> np.ndarray:
    """[v_t, d_t, h_t] in the contract's order, clipped as in training."""
    parts = {
      "base_lin_vel": self.base_lin_vel(data),
      "disturbance": disturbance,
      "height_scan": self.height_scan(data),
    }
    obs = np.concatenate([parts[p["name"]] for p in self.contract["privileged"]])
    return np.clip(obs, -self.contract["obs_clip"], self.contract["obs_clip"])


def _grid(size: list[float], resolution: float) -> np.ndarray:
  """(x, y) offsets of the scan, x fastest, from (−x, −y) to (+x, +y) (mjlab's grid)."""
  x = np.arange(-size[0] / 2, size[0] / 2 + resolution * 0.5, resolution)
  y = np.arange(-size[1] / 2, size[1] / 2 + resolution * 0.5, resolution)
  gx, gy = np.meshgrid(x, y, indexing="xy")
  return np.stack([gx.ravel(), gy.ravel()], axis=1)
