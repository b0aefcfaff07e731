"""Sim-to-sim: an exported policy in plain CPU MuJoCo, driven only by ``policy.json``.

The scene is built by mjlab's own spec builders from the task's env config (robot,
collision settings, terrain generator, physics options), so the compiled model is the
training model; mjlab is only imported to build it. The control loop is MuJoCo's C
engine, numpy and onnxruntime: observations as training computes them
(``ObservationBuilder``), the explicit PD law with a fixed actuation delay
(``DelayedPd``), ``decimation`` physics steps per policy step.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mujoco
import numpy as np

from dreamwaq.export import contract as io
from dreamwaq.export.observation import ObservationBuilder
from dreamwaq.rendering import offscreen_gl, video_format, write_video
from dreamwaq.robot import a1
from dreamwaq.tasks.terrain import TERRAIN_TYPES, TILE_SIZE, past_tile_edge

if TYPE_CHECKING:
  from dreamwaq.export.onnx_policy import OnnxPolicy

TERRAINS = ("flat", *TERRAIN_TYPES)

Command = tuple[float, float, float]
DEFAULT_COMMAND: Command = (0.5, 0.0, 0.0)
"""Walk forward at 0.5 m/s when no command or schedule is given."""
SCHEDULES: dict[str, tuple[tuple[float, Command], ...]] = {
  "tour": (
    (4.0, (0.5, 0.0, 0.0)),  # Forward.
    (3.0, (0.0, 0.0, 0.8)),  # Turn left on the spot.
    (4.0, (0.0, 0.4, 0.0)),  # Sideways, left.
    (4.0, (0.6, 0.0, -0.5)),  # Forward, turning right.
    (3.0, (-0.4, 0.0, 0.0)),  # Backward.
  ),
}
"""Scripted commands: (seconds, (v_x, v_y, yaw rate)) segments, cycled."""


def command_schedule(
  contract: dict[str, Any], command: Command | None = None, schedule: str | None = None
) -> Callable[[float], np.ndarray]:
  """The command at time t: fixed, or a named schedule; within the trained ranges."""
  if schedule is not None:
    if schedule not in SCHEDULES:
      raise ValueError(f"unknown schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
    segments = SCHEDULES[schedule]
  else:
    segments = ((1.0, command or DEFAULT_COMMAND),)
  ranges = list(contract["command_ranges"].items())
  for _, cmd in segments:
    for (name, (low, high)), value in zip(ranges, cmd, strict=True):
      if not low <= value <= high:
        raise ValueError(
          f"command {name}={value} is outside the trained range [{low}, {high}]"
        )
  period = sum(s for s, _ in segments)
  starts = np.cumsum([0.0] + [s for s, _ in segments])

  def at(t: float) -> np.ndarray:
    k = int(np.searchsorted(starts, t % period, side="right")) - 1
    return np.asarray(segments[min(k, len(segments) - 1)][1], dtype=np.float64)

  return at


@dataclass
class Sim2SimScene:
  """The compiled training model of one robot on one tile, and what the loop needs."""

  model: mujoco.MjModel
  origin: np.ndarray
  """Spawn origin of the tile (the robot's default root pose is added to it)."""
  prefix: str
  """Name prefix of the robot's elements (``robot/``)."""
  fall_angle: float
  """Tilt (rad) beyond which training terminates an episode."""
  camera: dict[str, float]
  """Distance, elevation and azimuth of the training viewer's camera on the trunk."""
  tile_size: float | None
  """The tile's side (m), None on flat ground. Past its edge lies the generator's flat
  border, which is not the terrain under test."""

  def off_tile(self, xy: np.ndarray) -> bool:
    """Whether the point ``xy`` (world, m) is past the tile's edge."""
    return self.tile_size is not None and bool(
      past_tile_edge(xy - self.origin[:2], self.tile_size)
    )


def build_scene(task: str, terrain: str, difficulty: float, seed: int) -> Sim2SimScene:
  """The task's training scene (play config) on a single tile of ``terrain``."""
  from mjlab.scene import Scene
  from mjlab.terrains import TerrainEntityCfg

  from dreamwaq.tasks.registry import get_task
  from dreamwaq.tasks.terrain import dreamwaq_terrain_cfg

  if terrain not in TERRAINS:
    raise ValueError(f"unknown terrain {terrain!r}; choose from {', '.join(TERRAINS)}")
  if not 0.0 <= difficulty <= 1.0:
    raise ValueError(f"difficulty {difficulty} is outside [0, 1]")
  cfg = get_task(task).env_cfg(play=True)
  cfg.scene.num_envs = 1
  if terrain == "flat":
    cfg.scene.terrain = TerrainEntityCfg(terrain_type="plane")
  else:
    tile = dreamwaq_terrain_cfg((terrain,), 1, 1, (difficulty, difficulty), seed=seed)
    cfg.scene.terrain = replace(cfg.scene.terrain, terrain_generator=tile)
  scene = Scene(cfg.scene, device="cpu")
  model = scene.compile()
  cfg.sim.mujoco.apply(model)
  (robot,) = cfg.scene.entities
  viewer = cfg.viewer
  return Sim2SimScene(
    model=model,
    origin=scene.env_origins[0].cpu().numpy().astype(np.float64),
    prefix=f"{robot}/",
    fall_angle=cfg.terminations["upside_down"].params["limit_angle"],
    camera={
      "distance": viewer.distance,
      "elevation": viewer.elevation,
      "azimuth": viewer.azimuth,
    },
    tile_size=None if terrain == "flat" else TILE_SIZE,
  )


class DelayedPd:
  """Training's explicit PD law, τ = clip(kp (q* − q) − kd q̇, ±limit), per physics step.

  The target reaches the motors ``delay`` physics steps late, as mjlab's actuator
  delay buffer does: after a reset the first target fills the line.
  """

  def __init__(self, contract: dict[str, Any], delay: int) -> None:
    if delay < 0:
      raise ValueError(f"actuation delay {delay} must be at least 0 physics steps")
    self.kp = np.asarray(contract["kp"], dtype=np.float64)
    self.kd = np.asarray(contract["kd"], dtype=np.float64)
    self.limit = np.asarray(contract["effort_limits"], dtype=np.float64)
    self._line: deque[np.ndarray] = deque(maxlen=delay + 1)

  def reset(self) -> None:
    self._line.clear()

  def __call__(self, target: np.ndarray, q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    if self._line:
      self._line.append(target)
    else:
      self._line.extend([target] * self._line.maxlen)  # type: ignore[operator]
    torque = self.kp * (self._line[0] - q) - self.kd * qd
    return np.clip(torque, -self.limit, self.limit)


@dataclass
class Summary:
  """What a run measured, per control step at observation time."""

  sim_time: float = 0.0
  wall_time: float = 0.0
  """Seconds spent in the control loop (observations, policy, physics; no rendering)."""
  distance: float = 0.0
  """Path length of the trunk in the horizontal plane (m)."""
  fall_radii: list[float] = field(default_factory=list)
  """Horizontal distance of the trunk from the spawn origin at each fall (m): where on
  a pyramid tile (risers, corners, the top) the robot fell."""
  tile_exits: int | None = None
  """Times the trunk crossed the tile's edge and the robot was respawned, as training's
  out-of-terrain time-out does (None on flat ground, which has no edge)."""
  lin_errors: list[float] = field(default_factory=list)
  yaw_errors: list[float] = field(default_factory=list)
  est_errors: list[np.ndarray] = field(default_factory=list)

  @property
  def falls(self) -> int:
    return len(self.fall_radii)

  @property
  def est_rmse(self) -> float | None:
    """RMSE (m/s, 3 axes) of the estimated body velocity; None without an estimator."""
    return float(np.sqrt(np.mean(np.square(self.est_errors)))) if self.est_errors else None

  @property
  def real_time_factor(self) -> float:
    return self.sim_time / max(self.wall_time, 1e-9)

  def lines(self) -> list[str]:
    out = [
      (
        f"simulated       {self.sim_time:.1f} s in {self.wall_time:.2f} s: "
        f"real-time factor {self.real_time_factor:.1f} (one CPU thread)"
      ),
      f"distance        {self.distance:.2f} m (trunk path, horizontal)",
      f"falls           {self.falls} (trunk contact or tilt beyond the training limit)"
      + (
        f", at {', '.join(f'{r:.1f}' for r in self.fall_radii)} m from the spawn"
        if self.fall_radii
        else ""
      ),
    ]
    if self.tile_exits is not None:
      out.append(f"left the tile   {self.tile_exits} (each time respawned at the start)")
    out += [
      f"lin tracking    {np.mean(self.lin_errors):.3f} m/s mean |v*_xy - v_xy|",
      f"yaw tracking    {np.mean(self.yaw_errors):.3f} rad/s mean |w*_z - w_z|",
    ]
    if self.est_rmse is not None:
      per_axis = np.sqrt(np.mean(np.square(self.est_errors), axis=0))
      out.append(
        f"vel estimation  RMSE {self.est_rmse:.3f} m/s "
        f"(x {per_axis[0]:.3f}, y {per_axis[1]:.3f}, z {per_axis[2]:.3f})"
      )
    return out


class Sim2Sim:
  """One robot, one policy: reset, then ``step(command)`` once per control period."""

  def __init__(
    self,
    policy: OnnxPolicy,
    scene: Sim2SimScene,
    delay: int | None = None,
    spawn_yaw: float = 0.0,
  ) -> None:
    """``delay``: actuation delay in physics steps; by default the largest one training
    sampled, the harshest case the policy has seen. ``spawn_yaw`` (rad): the trunk's
    heading at each (re)spawn; 0 faces +x, square on to a pyramid's risers (training and
    ``eval`` spawn at U[−π, π])."""
    c = policy.contract
    if delay is None:
      delay = max(c["actuation_delay_steps"])
    self.delay = delay
    self.policy, self.scene, self.contract = policy, scene, c
    self.model = scene.model
    if not math.isclose(self.model.opt.timestep, c["sim_dt"]):
      raise ValueError(
        f"policy.json sim_dt {c['sim_dt']} differs from the training model's"
      )
    self.data = mujoco.MjData(self.model)
    self.obs = ObservationBuilder(self.model, c, scene.prefix)
    self.pd = DelayedPd(c, delay)
    joints = [self.model.joint(scene.prefix + n).id for n in c["joint_names"]]
    by_joint = {int(j): a for a, j in enumerate(self.model.actuator_trnid[:, 0])}
    self.ctrl_ids = np.array([by_joint[j] for j in joints])
    self.trunk_geom = self.model.geom(scene.prefix + a1.TRUNK_GEOM).id
    self.default_joint_pos = np.asarray(c["default_joint_pos"])
    self.action_scale = float(c["action_scale"])
    self.last_action = np.zeros(len(c["joint_names"]))
    self._key = self.model.key("init_state").id
    self._spawn_quat = np.array(
      [math.cos(spawn_yaw / 2), 0.0, 0.0, math.sin(spawn_yaw / 2)]
    )

  def reset(self) -> None:
    """The training spawn: default pose at the tile's origin, at rest."""
    mujoco.mj_resetDataKeyframe(self.model, self.data, self._key)
    self.data.qpos[:3] += self.scene.origin
    key_quat = self.data.qpos[3:7].copy()
    mujoco.mju_mulQuat(self.data.qpos[3:7], self._spawn_quat, key_quat)
    mujoco.mj_forward(self.model, self.data)
    self.last_action[:] = 0.0
    self.pd.reset()
    self.obs.reset_history()

  def policy_inputs(self, command: np.ndarray) -> dict[str, np.ndarray]:
    obs = self.obs.proprio(self.data, command, self.last_action)
    inputs = {io.INPUT_OBS: obs}
    if io.INPUT_HISTORY in self.contract["inputs"]:
      inputs[io.INPUT_HISTORY] = self.obs.push_history(obs)
    if io.INPUT_PRIVILEGED in self.contract["inputs"]:
      inputs[io.INPUT_PRIVILEGED] = self.obs.privileged(self.data, np.zeros(3))
    return inputs

  def step(self, command: np.ndarray) -> tuple[dict[str, np.ndarray], bool]:
    """Observe, infer, then run ``decimation`` physics steps; the outputs and a fall."""
    out = self.policy(self.policy_inputs(command))
    self.last_action = out[io.OUTPUT_ACTIONS]
    target = self.default_joint_pos + self.action_scale * self.last_action
    d, fell = self.data, False
    for _ in range(self.contract["decimation"]):
      d.ctrl[self.ctrl_ids] = self.pd(
        target, d.qpos[self.obs.qpos_ids], d.qvel[self.obs.qvel_ids]
      )
      mujoco.mj_step(self.model, d)
      fell = fell or bool(np.any(d.contact.geom[: d.ncon] == self.trunk_geom))
    mujoco.mj_forward(self.model, d)  # Derived quantities for the next observation.
    tilt = math.acos(float(np.clip(-self.obs.projected_gravity(d)[2], -1.0, 1.0)))
    return out, fell or tilt > self.scene.fall_angle


def run(
  sim: Sim2Sim,
  commands: Callable[[float], np.ndarray],
  duration: float,
  on_step: Callable[[Sim2Sim], None] | None = None,
) -> Summary:
  """Run for ``duration`` simulated seconds; a fall, or the trunk leaving the tile,
  resets the robot and is counted."""
  summary = Summary(tile_exits=None if sim.scene.tile_size is None else 0)
  dt = sim.contract["control_dt"]
  sim.reset()
  for k in range(round(duration / dt)):
    t = k * dt
    command = commands(t)
    v_b, w_z = sim.obs.base_lin_vel(sim.data), sim.obs.base_ang_vel(sim.data)[2]
    xy = sim.data.xpos[sim.obs.trunk, :2].copy()
    start = time.perf_counter()
    out, fell = sim.step(command)
    summary.wall_time += time.perf_counter() - start
    summary.sim_time = t + dt
    summary.lin_errors.append(float(np.linalg.norm(command[:2] - v_b[:2])))
    summary.yaw_errors.append(abs(float(command[2] - w_z)))
    if io.OUTPUT_EST_VEL in out:
      summary.est_errors.append(out[io.OUTPUT_EST_VEL] - v_b)
    trunk_xy = sim.data.xpos[sim.obs.trunk, :2].copy()
    off_tile = sim.scene.off_tile(trunk_xy)  # What happens on the border does not count.
    if fell and not off_tile:
      summary.fall_radii.append(float(np.linalg.norm(trunk_xy - sim.scene.origin[:2])))
    else:
      summary.distance += float(np.linalg.norm(trunk_xy - xy))
    if off_tile:
      summary.tile_exits += 1
    if fell or off_tile:
      sim.reset()
    if on_step is not None:
      on_step(sim)
  return summary


class LiveViewer:
  """mujoco's native viewer (needs a display), paced to real time."""

  def __init__(self, sim: Sim2Sim) -> None:
    try:
      import glfw
      import mujoco.viewer

      # The viewer's own thread exits the process when GLFW fails: ask first.
      if not glfw.init():
        raise RuntimeError("GLFW cannot open a window on this display")
      self._handle = mujoco.viewer.launch_passive(sim.model, sim.data)
    except (ImportError, RuntimeError, mujoco.FatalError) as e:
      raise RuntimeError(f"cannot open MuJoCo's viewer ({e})") from None
    self._dt = sim.contract["control_dt"]
    self._next = time.perf_counter()

  def __call__(self, sim: Sim2Sim) -> None:
    if not self._handle.is_running():
      raise KeyboardInterrupt  # The window was closed: stop like Ctrl-C.
    self._handle.sync()
    self._next += self._dt
    time.sleep(max(0.0, self._next - time.perf_counter()))

  def close(self) -> None:
    self._handle.close()


class VideoRecorder:
  """Offscreen frames from a camera following the trunk, written as GIF or MP4."""

  def __init__(self, sim: Sim2Sim, path: Path) -> None:
    self.path = Path(path)
    video = video_format(self.path)
    self.fps = video.fps
    self.every = video.frame_every(sim.contract["control_dt"])
    offscreen_gl()
    self._renderer = mujoco.Renderer(sim.model, video.height, video.width)
    # Shadows and reflections cost ~50x per frame in software GL (no GPU here).
    self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    self._camera = mujoco.MjvCamera()
    self._camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    self._camera.trackbodyid = sim.obs.trunk
    for name, value in sim.scene.camera.items():
      setattr(self._camera, name, value)
    self.frames: list[np.ndarray] = []
    self._steps = 0

  def __call__(self, sim: Sim2Sim) -> None:
    if self._steps % self.every == 0:
      self._renderer.update_scene(sim.data, self._camera)
      self.frames.append(self._renderer.render())
    self._steps += 1

  def close(self) -> Path:
    """Free the GL context and write the file."""
    self._renderer.close()
    return write_video(self.path, self.frames, self.fps)
