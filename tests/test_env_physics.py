"""Physics and terms of the A1 env on flat ground, checked against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from dreamwaq.robot import a1
from dreamwaq.tasks import events, layout, rewards
from dreamwaq.tasks.metrics import contact_budget_overflow
from dreamwaq.tasks.observations import COMMAND_NAME, PUSH_EVENT

from .envs import make_flat_env, zero_actions

GRAVITY = layout.part_slice(layout.PROPRIO, "projected_gravity")
LAST_ACTION = layout.part_slice(layout.PROPRIO, "last_action")
P = layout.PROPRIO_DIM


@pytest.fixture(scope="module")
def env():
  e = make_flat_env(num_envs=2, keep_events=(PUSH_EVENT,))
  e.reset()
  yield e
  e.close()


def _set_root(env, pos, euler_xyz, lin_vel_w=(0, 0, 0), ang_vel_w=(0, 0, 0)):
  """Place both robots; returns the rotation (scipy) used."""
  rot = Rotation.from_euler("xyz", euler_xyz)
  x, y, z, w = rot.as_quat()
  state = torch.tensor([[*pos, w, x, y, z, *lin_vel_w, *ang_vel_w]], dtype=torch.float32)
  robot = env.scene["robot"]
  state = state.repeat(env.num_envs, 1)
  state[:, :3] += env.scene.env_origins
  robot.write_root_state_to_sim(state)
  env.sim.forward()
  env.sim.sense()
  return rot


def _obs(env):
  return env.observation_manager.compute(update_history=True)


@pytest.mark.parametrize("yaw", [0.0, 1.0, -2.5, math.pi])
def test_projected_gravity_is_down_when_level_at_any_yaw(env, yaw):
  env.reset()
  _set_root(env, (0, 0, 0.4), (0, 0, yaw))
  g = _obs(env)["critic"][:, GRAVITY]
  torch.testing.assert_close(g, torch.tensor([[0.0, 0.0, -1.0]] * 2), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
  "roll,pitch,yaw", [(0.0, 0.3, 0.0), (0.25, 0.0, 1.2), (0.2, -0.4, -2.0)]
)
def test_projected_gravity_tilts_with_roll_and_pitch(env, roll, pitch, yaw):
  env.reset()
  rot = _set_root(env, (0, 0, 0.4), (roll, pitch, yaw))
  expected = rot.inv().apply([0.0, 0.0, -1.0])
  if roll == 0.0:  # Pitch only: g_b = (sin θ, 0, −cos θ), whatever the yaw.
    np.testing.assert_allclose(expected, [math.sin(pitch), 0, -math.cos(pitch)], atol=1e-9)
  g = _obs(env)["critic"][:, GRAVITY]
  torch.testing.assert_close(
    g, torch.tensor([expected] * 2, dtype=torch.float32), atol=1e-5, rtol=0
  )


def test_push_changes_base_velocity_by_the_recorded_disturbance(env):
  env.reset()
  _set_root(env, (0, 0, 0.4), (0, 0, 0.3), lin_vel_w=(0.2, -0.1, 0.0))
  robot = env.scene["robot"]
  before = robot.data.root_link_lin_vel_w.clone()
  push = env.event_manager.get_term_cfg(PUSH_EVENT).func
  torch.manual_seed(1)
  push(env, None, max_push=(1.0, 1.0, 1.0))
  env.sim.forward()
  after = robot.data.root_link_lin_vel_w
  assert push.last_push.abs().max() > 0.05
  torch.testing.assert_close(after - before, push.last_push, atol=1e-5, rtol=0)
  d = _obs(env)["critic"][:, P + 3 : P + 6]
  torch.testing.assert_close(d, push.last_push)
  env.reset(env_ids=torch.tensor([0]))
  assert push.last_push[0].abs().sum() == 0 and push.last_push[1].abs().sum() > 0


def test_history_is_oldest_first_and_refilled_at_reset(env):
  env.reset()
  for k in range(1, 7):
    obs, *_ = env.step(torch.full((2, 12), 0.01 * k))
  frames = obs["history"].view(2, layout.HISTORY_LENGTH, P)
  for i, k in enumerate(
    range(2, 7)
  ):  # Frames hold the actions of steps 2..6, oldest first.
    torch.testing.assert_close(frames[:, i, LAST_ACTION], torch.full((2, 12), 0.01 * k))
  obs, _ = env.reset(env_ids=torch.tensor([1]))
  frames = obs["history"].view(2, layout.HISTORY_LENGTH, P)
  for i in range(layout.HISTORY_LENGTH):  # Env 1: five copies of its first observation.
    torch.testing.assert_close(frames[1, i], frames[1, -1])
  assert frames[1, :, LAST_ACTION].abs().sum() == 0
  torch.testing.assert_close(frames[0, -1, LAST_ACTION], torch.full((12,), 0.06))


def test_height_scan_of_flat_ground_reads_the_base_height(env):
  env.reset()
  _set_root(env, (0.3, -0.2, 0.37), (0.0, 0.0, 0.8))
  heights = _obs(env)["critic"][
    :, layout.part_slice(layout.PROPRIO + layout.PRIVILEGED, "height_scan")
  ]
  assert heights.shape == (2, 187)
  torch.testing.assert_close(heights, torch.full((2, 187), 0.37), atol=1e-4, rtol=0)
  torch.testing.assert_close(
    rewards.base_height_over_terrain(env), torch.full((2,), 0.37), atol=1e-4, rtol=0
  )


def test_robot_stands_under_zero_actions_for_five_seconds():
  """The default pose holds the trunk up under pure PD (Kp 28, no action) for 5 s.

  The knees give under the load (about 4 N·m / 28 N·m/rad ≈ 0.14 rad), so the trunk
  settles near 0.278 m, below the 0.30 m of the unloaded pose: the band starts at 0.27.
  """
  env = make_flat_env(num_envs=2)
  env.reset()
  heights = []
  for _ in range(int(5.0 / env.step_dt)):
    _, _, terminated, _, _ = env.step(zero_actions(env))
    assert not terminated.any()
    heights.append(env.scene["robot"].data.root_link_pos_w[:, 2].clone())
  settled = torch.stack(heights[50:])  # After the first second.
  assert settled.min() >= 0.27 and settled.max() <= 0.33, (settled.min(), settled.max())
  assert not contact_budget_overflow(None, env)(env).any()  # the budget holds a stand
  env.close()


def test_a_contact_budget_overflow_is_reported():
  """With 16 constraint rows per env, a stand fits (4 feet × 3 rows) and a robot
  lying on its side does not: the metric flags that env only."""
  env = make_flat_env(num_envs=2, njmax=16)
  env.reset()
  robot = env.scene["robot"]
  state = torch.cat([robot.data.root_link_pose_w, torch.zeros(2, 6)], dim=-1)
  x, y, z, w = Rotation.from_euler("xyz", (math.pi / 2, 0, 0)).as_quat()
  state[1, 2] = env.scene.env_origins[1, 2] + 0.1
  state[1, 3:7] = torch.tensor([w, x, y, z])
  robot.write_root_state_to_sim(state)
  for _ in range(20):  # physics only: the env would end the upside-down episode
    env.sim.step()
  assert contact_budget_overflow(None, env)(env).tolist() == [0.0, 1.0]
  env.close()


def _torques_for(env, action: torch.Tensor) -> torch.Tensor:
  """The torques the PD law writes for ``action`` in the current state (joint order)."""
  env.action_manager.process_action(action)
  env.action_manager.apply_action()
  env.scene.write_data_to_sim()
  robot = env.scene["robot"]
  return robot.data.data.ctrl[:, robot.indexing.ctrl_ids].clone()


def test_torques_clip_at_the_urdf_limits(env):
  env.reset()
  limits = torch.tensor([a1.effort_limit(j) for j in a1.JOINT_NAMES])
  for sign in (1.0, -1.0):
    tau = _torques_for(env, torch.full((2, 12), 100.0 * sign))
    torch.testing.assert_close(tau, sign * limits.expand(2, 12))


def test_kp_kd_and_motor_strength_scale_the_torque(env):
  env.reset()
  _set_root(env, (0, 0, 0.4), (0, 0, 0))
  robot = env.scene["robot"]
  q0 = torch.tensor(a1.default_joint_pos()).expand(2, 12)
  robot.write_joint_state_to_sim(q0, torch.full((2, 12), 0.5))
  env.sim.forward()
  events.randomize_pd_and_motor_strength(
    env, None, kp_range=(2.0, 2.0), kd_range=(3.0, 3.0), strength_range=(0.5, 0.5)
  )
  action = torch.linspace(-0.4, 0.4, 12).expand(2, 12)
  tau = _torques_for(env, action)
  expected = 0.5 * (2.0 * a1.KP * a1.ACTION_SCALE * action - 3.0 * a1.KD * 0.5)
  torch.testing.assert_close(tau, expected, atol=1e-5, rtol=0)
  events.randomize_pd_and_motor_strength(env, None, (1.0, 1.0), (1.0, 1.0), (1.0, 1.0))


def test_leg_collision_counts_physics_steps_with_a_thigh_or_calf_on_the_ground():
  """``--env rewards.leg_collision=-1``: a robot on its feet scores 0; one placed with
  its legs sunk into the ground scores the physics steps (of the control step's 4) in
  which a thigh or calf pushed on it, until the ground pushed it out (the trunk itself
  stays clear of the ground)."""
  env = make_flat_env(num_envs=2, env=("rewards.leg_collision=-1",))
  env.reset()
  cfg = env.reward_manager.get_term_cfg("leg_collision")
  assert cfg.weight == -1.0
  for _ in range(25):  # Settle on the feet.
    env.step(zero_actions(env))
  assert cfg.func(env, **cfg.params).tolist() == [0.0, 0.0]
  _set_root(env, (0, 0, 0.08), (0, 0, 0))  # Feet 0.3 m below the trunk: legs in the ground.
  _, _, terminated, _, _ = env.step(zero_actions(env))
  assert not terminated.any()
  counts = cfg.func(env, **cfg.params).tolist()
  assert all(1 <= c <= 4 for c in counts), counts
  env.close()


def test_each_reward_term_matches_a_hand_computation(env):
  env.reset()
  lin_w, ang_w = np.array([0.4, -0.3, 0.2]), np.array([0.3, -0.2, 0.5])
  # High enough that no foot touches the plane (a foot inside it has no clearance ray hit).
  rot = _set_root(env, (0, 0, 0.45), (0.1, -0.2, 0.7), lin_vel_w=lin_w, ang_vel_w=ang_w)
  robot = env.scene["robot"]
  qd = torch.linspace(-2.0, 2.0, 12).expand(2, 12).contiguous()
  robot.write_joint_state_to_sim(torch.tensor(a1.default_joint_pos()).expand(2, 12), qd)
  env.sim.forward()
  env.sim.sense()
  cmd = env.command_manager.get_term(COMMAND_NAME).vel_command_b
  cmd[:] = torch.tensor([0.5, -0.2, 0.3])
  a = [torch.full((2, 12), v) for v in (0.1, -0.3, 0.2)]
  for action in a:
    env.action_manager.process_action(action)
  env.action_manager.apply_action()
  env.scene.write_data_to_sim()

  v_b, w_b = rot.inv().apply(lin_w), rot.inv().apply(ang_w)
  g_b = rot.inv().apply([0, 0, -1.0])
  c = np.array([0.5, -0.2, 0.3])
  tau = robot.data.actuator_force.numpy()[0]
  qd0 = qd.numpy()[0]
  feet = robot.data.site_pos_w[0, robot.find_sites(a1.FOOT_SITES, preserve_order=True)[0]]
  foot_vel = robot.data.site_lin_vel_w[
    0, robot.find_sites(a1.FOOT_SITES, preserve_order=True)[0]
  ]
  joint_acc_term = env.reward_manager.get_term_cfg("joint_acc").func
  joint_acc_term.last_joint_vel[:] = 0.5
  expected = {
    "track_lin_vel": math.exp(-np.sum((c[:2] - v_b[:2]) ** 2) / 0.25),
    "track_ang_vel": math.exp(-((c[2] - w_b[2]) ** 2) / 0.25),
    "lin_vel_z": v_b[2] ** 2,
    "ang_vel_xy": w_b[0] ** 2 + w_b[1] ** 2,
    "orientation": g_b[0] ** 2 + g_b[1] ** 2,
    "joint_acc": np.sum(((qd0 - 0.5) / 0.02) ** 2),
    "joint_power": np.sum(np.abs(tau) * np.abs(qd0)),
    "base_height": (0.45 - 0.30) ** 2,
    "foot_clearance": float(
      torch.sum((feet[:, 2] - 0.12) ** 2 * torch.norm(foot_vel[:, :2], dim=1))
    ),
    "action_rate": float(torch.sum((a[2] - a[1])[0] ** 2)),
    "smoothness": float(torch.sum((a[2] - 2 * a[1] + a[0])[0] ** 2)),
    "power_distribution": np.var(tau * qd0),
  }
  assert np.abs(tau).max() > 1.0  # A real torque, so the power terms test something.
  for name, value in expected.items():
    cfg = env.reward_manager.get_term_cfg(name)
    got = cfg.func(env, **cfg.params)[0].item()
    assert got == pytest.approx(value, rel=2e-4, abs=1e-6), name
