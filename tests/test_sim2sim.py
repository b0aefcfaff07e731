"""Sim-to-sim in plain CPU MuJoCo: observations and torques as in training, the CLI."""

from __future__ import annotations

import json
import math
import re

import imageio.v2 as imageio
import mujoco
import numpy as np
import pytest
import torch
from mjlab.sensor import GridPatternCfg
from mjlab.utils.buffers import DelayBuffer
from scipy.spatial.transform import Rotation

from dreamwaq.cli.main import main
from dreamwaq.export.contract import policy_contract
from dreamwaq.export.observation import ObservationBuilder
from dreamwaq.export.onnx_policy import OnnxPolicy
from dreamwaq.export.sim2sim import DelayedPd, Sim2Sim, Summary, build_scene, run
from dreamwaq.robot import a1
from dreamwaq.tasks import layout
from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.registry import get_task
from dreamwaq.tasks.terrain import terrain_type_of

from .cli import one_line_error
from .envs import make_env, make_flat_env
from .policy_stub import write_stub_policy
from .trained import exported_policy

CONTRACT = policy_contract(get_task("a1_waq"))


@pytest.fixture(scope="module")
def env():
  e = make_flat_env(num_envs=1)
  e.reset()
  yield e
  e.close()


@pytest.fixture(scope="module")
def flat():
  """The sim2sim model of the flat scene, its data and observation builder."""
  scene = build_scene("a1_waq", "flat", 0.0, seed=0)
  data = mujoco.MjData(scene.model)
  return scene.model, data, ObservationBuilder(scene.model, CONTRACT, scene.prefix)


@pytest.fixture(scope="module")
def policies():
  """Real exports of tiny trained runs (the stub is for contract mismatches)."""
  return {task: exported_policy(task) for task in ("a1_waq", "a1_oracle")}


def _copy_state(env, model, data) -> None:
  assert model.nq == env.sim.mj_model.nq and model.nv == env.sim.mj_model.nv
  data.qpos[:] = env.sim.data.qpos[0].numpy()
  data.qvel[:] = env.sim.data.qvel[0].numpy()
  mujoco.mj_forward(model, data)


def _set_moving_state(env, command: np.ndarray, action: torch.Tensor) -> None:
  """Tilted, turning, moving, legs swinging, a command and a last action."""
  robot = env.scene["robot"]
  x, y, z, w = Rotation.from_euler("xyz", (0.15, -0.25, 0.8)).as_quat()
  state = torch.tensor(
    [[0.1, -0.2, 0.45, w, x, y, z, 0.6, -0.3, 0.2, 0.4, -0.5, 0.9]], dtype=torch.float32
  )
  state[:, :3] += env.scene.env_origins
  robot.write_root_state_to_sim(state)
  q = torch.tensor(a1.default_joint_pos()) + torch.linspace(-0.3, 0.3, 12)
  robot.write_joint_state_to_sim(q[None], torch.linspace(-3.0, 2.0, 12)[None])
  env.sim.forward()
  env.sim.sense()
  env.command_manager.get_term(COMMAND_NAME).vel_command_b[:] = torch.tensor(
    command, dtype=torch.float32
  )
  env.action_manager.process_action(action)


@pytest.mark.parametrize("moving", [False, True], ids=["standing", "moving"])
def test_observation_matches_the_training_env(env, flat, moving):
  """o_t and the privileged part from the same state: the training env's noise-free
  critic observation [o_t, v_t, d_t, h_t], number for number."""
  model, data, builder = flat
  env.reset()
  command, action = np.zeros(3), torch.zeros(1, 12)
  if moving:
    command, action = np.array([0.7, -0.3, 0.5]), torch.linspace(-0.8, 0.6, 12)[None]
    _set_moving_state(env, command, action)
  else:
    for _ in range(25):  # Half a second: the robot settles on its feet.
      env.step(action)
    env.command_manager.get_term(COMMAND_NAME).vel_command_b[:] = 0.0
  critic = env.observation_manager.compute(update_history=True)["critic"][0].numpy()
  _copy_state(env, model, data)
  obs = builder.proprio(data, command, action[0].numpy())
  np.testing.assert_allclose(obs, critic[: layout.PROPRIO_DIM], atol=1e-5, rtol=0)
  privileged = builder.privileged(data, np.zeros(3))
  np.testing.assert_allclose(privileged, critic[layout.PROPRIO_DIM :], atol=1e-5, rtol=0)
  if moving:
    assert np.abs(obs[layout.part_slice(layout.PROPRIO, "joint_vel")]).max() > 1.0


@pytest.fixture(scope="module")
def rough_env():
  e = make_env("a1_oracle", num_envs=1)
  e.reset()
  yield e
  e.close()


@pytest.mark.parametrize("terrain", ["stairs_up", "discrete", "rough_slope"])
def test_height_scan_matches_training_on_rough_terrain(rough_env, terrain):
  """Rays cast by the C engine on the training model: the ray-cast sensor's h_t, with
  the grid's order and yaw alignment (a yawed, tilted robot near a tile's edge)."""
  env = rough_env
  gen = env.cfg.scene.terrain.terrain_generator
  col = [terrain_type_of(n) for n in gen.sub_terrains].index(terrain)
  origin = env.scene.terrain.terrain_origins[1, col]
  x, y, z, w = Rotation.from_euler("xyz", (0.1, -0.1, 0.7)).as_quat()
  state = torch.zeros(1, 13)
  state[0, :3] = origin + torch.tensor([1.1, 0.4, 0.6])
  state[0, 3:7] = torch.tensor([w, x, y, z])
  env.scene["robot"].write_root_state_to_sim(state)
  env.sim.forward()
  env.sim.sense()
  critic = env.observation_manager.compute(update_history=True)["critic"][0].numpy()
  model = env.sim.mj_model
  data = mujoco.MjData(model)
  _copy_state(env, model, data)
  builder = ObservationBuilder(model, policy_contract(get_task("a1_oracle")), "robot/")
  heights = builder.height_scan(data)
  expected = critic[layout.PROPRIO_DIM + 6 :]
  np.testing.assert_allclose(heights, expected, atol=1e-4, rtol=0)
  assert np.ptp(heights) > 0.03  # The scan sees relief, not a flat floor.


def test_history_starts_full_and_keeps_the_oldest_first(flat):
  _, _, builder = flat
  builder.reset_history()
  frames = [np.full(layout.PROPRIO_DIM, float(k)) for k in range(3)]
  first = builder.push_history(frames[0]).reshape(layout.HISTORY_LENGTH, -1)
  np.testing.assert_array_equal(first[:, 0], [0, 0, 0, 0, 0])
  builder.push_history(frames[1])
  last = builder.push_history(frames[2]).reshape(layout.HISTORY_LENGTH, -1)
  np.testing.assert_array_equal(last[:, 0], [0, 0, 0, 1, 2])


def test_height_scan_grid_is_mjlabs(flat):
  _, _, builder = flat
  offsets, _ = GridPatternCfg(
    size=layout.HEIGHT_SCAN_SIZE, resolution=layout.HEIGHT_SCAN_RESOLUTION
  ).generate_rays(None, "cpu")
  np.testing.assert_allclose(builder.scan_offsets, offsets[:, :2].numpy(), atol=1e-6)


def test_pd_law_matches_training_torques(env, flat):
  """Same state and action, zero delay: the torques training writes to ctrl."""
  model, data, builder = flat
  env.reset()
  _set_moving_state(env, np.zeros(3), torch.zeros(1, 12))
  action = torch.linspace(-1.5, 1.5, 12)[None]
  action[0, :2] = torch.tensor([40.0, -40.0])  # Two saturated joints.
  env.action_manager.process_action(action)
  env.action_manager.apply_action()
  env.scene.write_data_to_sim()
  robot = env.scene["robot"]
  expected = robot.data.data.ctrl[0, robot.indexing.ctrl_ids].numpy()
  _copy_state(env, model, data)
  target = (
    np.asarray(CONTRACT["default_joint_pos"]) + CONTRACT["action_scale"] * action[0].numpy()
  )
  torque = DelayedPd(CONTRACT, delay=0)(
    target, data.qpos[builder.qpos_ids], data.qvel[builder.qvel_ids]
  )
  np.testing.assert_allclose(torque, expected, atol=1e-4, rtol=0)
  assert abs(torque[0]) == a1.effort_limit(a1.JOINT_NAMES[0])


@pytest.mark.parametrize("delay", [0, 1, 3])
def test_actuation_delay_is_mjlabs_delay_buffer(delay):
  """The target reaches the motors ``delay`` physics steps late, the first target
  filling the line after a reset, as mjlab's actuator delay buffer serves it."""
  pd = DelayedPd(CONTRACT, delay)
  buffer = DelayBuffer(min_lag=delay, max_lag=delay, batch_size=1)
  zero = np.zeros(12)
  for step in range(24):
    target = np.full(12, 0.01 * (step // 4 + 1))  # A new target every policy step.
    buffer.append(torch.tensor(target)[None])
    expected = buffer.compute()[0].numpy()
    np.testing.assert_allclose(
      pd(target, zero, zero) / CONTRACT["kp"], expected, atol=1e-12
    )


def test_sim2sim_runs_20_s_on_stairs_in_real_time(policies, capsys):
  rc = main(["sim2sim", "--policy", str(policies["a1_waq"]), "--terrain", "stairs_up",
             "--difficulty", "0.5", "--duration", "20"])  # fmt: skip
  out = capsys.readouterr().out
  assert rc == 0
  for key in ("distance", "falls", "lin tracking", "yaw tracking", "vel estimation"):
    assert key in out
  rtf = float(re.search(r"real-time factor ([\d.]+)", out).group(1))
  with capsys.disabled():
    print(f"\n{out}sim2sim real-time factor on stairs: {rtf:.1f}")
  assert rtf > 1.0


def test_oracle_policy_reads_the_height_scan(policies, capsys):
  rc = main(["sim2sim", "--policy", str(policies["a1_oracle"]), "--terrain", "discrete",
             "--schedule", "tour", "--duration", "2"])  # fmt: skip
  out = capsys.readouterr().out
  assert rc == 0 and "falls" in out and "vel estimation" not in out


def _error(capsys, argv: list[str]) -> str:
  return one_line_error(capsys, "sim2sim", argv)


def test_missing_policy_is_a_one_line_error(tmp_path, capsys):
  assert "no policy at" in _error(capsys, ["--policy", str(tmp_path / "policy.onnx")])


def test_missing_or_mismatched_policy_json_is_a_one_line_error(tmp_path, capsys):
  onnx = write_stub_policy(tmp_path / "p", "a1_waq")
  (onnx.parent / "policy.json").unlink()
  assert "no policy contract" in _error(capsys, ["--policy", str(onnx)])
  contract = policy_contract(get_task("a1_waq"))
  contract["history_length"] = 3  # Another version's contract.
  (onnx.parent / "policy.json").write_text(json.dumps(contract))
  assert "history_length" in _error(capsys, ["--policy", str(onnx)])


def test_onnx_disagreeing_with_policy_json_is_a_one_line_error(tmp_path, capsys):
  onnx = write_stub_policy(tmp_path / "base", "a1_base", contract_task="a1_waq")
  assert "do not match policy.json" in _error(capsys, ["--policy", str(onnx)])
  onnx.write_bytes(b"not an onnx model")
  assert "not a loadable ONNX model" in _error(capsys, ["--policy", str(onnx)])


def test_command_outside_the_trained_range_is_a_one_line_error(policies, capsys):
  err = _error(capsys, ["--policy", str(policies["a1_waq"]), "--command", "2.5", "0", "0"])
  assert "outside the trained range" in err


def test_video_writes_a_gif_of_the_robot(policies, tmp_path, capsys):
  gif = tmp_path / "stairs.gif"
  rc = main(["sim2sim", "--policy", str(policies["a1_waq"]), "--terrain", "stairs_down",
             "--duration", "2", "--video", str(gif)])  # fmt: skip
  assert rc == 0, capsys.readouterr().err
  frames = imageio.mimread(gif)
  assert len(frames) == math.ceil(2.0 / 0.08) and frames[0].shape[:2] == (240, 320)
  assert gif.stat().st_size < 2_000_000
  assert np.std(frames[-1][..., :3]) > 10  # Not a blank image.


def test_spawn_yaw_turns_the_robot_and_falls_say_where(policies):
  policy = OnnxPolicy(policies["a1_waq"])
  scene = build_scene("a1_waq", "flat", 0.0, seed=0)
  sim = Sim2Sim(policy, scene, delay=0, spawn_yaw=math.pi / 2)
  sim.reset()
  heading = sim.data.xmat[sim.obs.trunk].reshape(3, 3)[:, 0]  # The trunk's forward axis.
  np.testing.assert_allclose(heading, [0.0, 1.0, 0.0], atol=1e-6)
  np.testing.assert_allclose(
    sim.obs.projected_gravity(sim.data), [0.0, 0.0, -1.0], atol=1e-6
  )
  summary = Summary(fall_radii=[1.84, 3.0], lin_errors=[0.1], yaw_errors=[0.1])
  assert (
    "falls           2 (trunk contact or tilt beyond the training limit), at 1.8, 3.0 m"
    in ("\n".join(summary.lines()))
  )


def test_leaving_the_tile_respawns_the_robot_and_is_counted(policies):
  policy = OnnxPolicy(policies["a1_waq"])
  scene = build_scene("a1_waq", "smooth_slope", 0.0, seed=0)
  assert scene.tile_size == 8.0
  sim = Sim2Sim(policy, scene, delay=0)
  steps = []

  def carry_off(s: Sim2Sim) -> None:  # After the 10th step, past the edge along +x.
    steps.append(s.data.xpos[s.obs.trunk, :2].copy())
    if len(steps) == 10:
      s.data.qpos[0] += scene.tile_size / 2 + 1.0
      mujoco.mj_forward(s.model, s.data)

  summary = run(sim, lambda t: np.zeros(3), 0.5, on_step=carry_off)
  assert summary.tile_exits == 1 and summary.falls == 0
  assert not scene.off_tile(steps[10])  # Respawned on the tile.
  assert "left the tile   1" in "\n".join(summary.lines())
  flat = build_scene("a1_waq", "flat", 0.0, seed=0)
  on_flat = run(Sim2Sim(policy, flat, delay=0), lambda t: np.zeros(3), 0.1)
  assert on_flat.tile_exits is None and not flat.off_tile(np.array([1e3, 1e3]))
  assert "left the tile" not in "\n".join(on_flat.lines())
