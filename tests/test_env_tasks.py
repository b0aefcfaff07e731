"""The four tasks build, step and log on the CPU with the spec's observation sizes."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch
from mjlab.utils.lab_api.math import wrap_to_pi

from dreamwaq.cli.main import main
from dreamwaq.evaluation.grid import grid_env_cfg
from dreamwaq.evaluation.push import push_env_cfg
from dreamwaq.export.contract import policy_contract
from dreamwaq.play.scene import PlayScene, play_env_cfg
from dreamwaq.tasks import layout
from dreamwaq.tasks.env_cfg import LEG_CONTACT_SENSOR, REWARD_WEIGHTS, A1EnvSettings
from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.registry import TASKS

from .envs import make_env

EXPECTED = {
  "a1_base": {"actor": 45, "critic": 45},
  "a1_oracle": {"actor": 238, "critic": 238},
  "a1_waq": {"history": 225, "actor": 45, "critic": 238},
  "a1_est": {"history": 225, "actor": 45, "critic": 238},
}


def test_list_prints_the_four_tasks_with_their_sizes(capsys):
  assert main(["list"]) == 0
  out = capsys.readouterr().out
  for name, dims in EXPECTED.items():
    row = next(line for line in out.splitlines() if line.startswith(name + " "))
    numbers = [int(w) for w in row.split() if w.isdigit()]
    assert numbers[:3] == [dims["actor"], dims.get("history", 0), dims["critic"]], row
  assert "64" in next(r for r in out.splitlines() if r.startswith("a1_waq"))


@pytest.mark.parametrize("task", list(TASKS))
def test_task_steps_with_random_actions(task):
  env = make_env(task, num_envs=4)
  assert env.observation_manager.group_obs_dim == {
    k: (v,) for k, v in EXPECTED[task].items()
  }
  assert TASKS[task].group_dims == EXPECTED[task]
  obs, _ = env.reset()
  logged: set[str] = set()
  torch.manual_seed(0)
  for _ in range(50):
    obs, reward, _, _, extras = env.step(torch.randn(4, 12))
    for name, value in obs.items():
      assert value.shape == (4, EXPECTED[task][name]), name
      assert torch.isfinite(value).all(), f"non-finite {name} observation"
    assert torch.isfinite(reward).all()
    assert torch.isfinite(env.reward_manager._step_reward).all()
    logged |= set(extras["log"])
  assert env.reward_manager.active_terms == list(REWARD_WEIGHTS)
  _, extras = env.reset()  # An episode's end logs every reward term and the terrain level.
  logged |= set(extras["log"])
  assert {f"Episode_Reward/{n}" for n in REWARD_WEIGHTS} <= logged
  assert "Curriculum/terrain_levels/mean" in logged
  # Training steers toward a random heading: yaw rate = clip(0.5 · heading error, ±1).
  command = env.command_manager.get_term(COMMAND_NAME)
  error = wrap_to_pi(command.heading_target - env.scene["robot"].data.heading_w)
  torch.testing.assert_close(command.command[:, 2], (0.5 * error).clamp(-1.0, 1.0))
  if "history" in obs:
    # The actor's o_t is the history's newest frame: one noisy sample, not two.
    torch.testing.assert_close(obs["actor"], obs["history"][:, -layout.PROPRIO_DIM :])
  env.close()


def test_actuation_delay_is_drawn_per_env_and_held_within_the_episode():
  env = make_env("a1_base", num_envs=8, seed=3)
  env.reset()
  delays = env.scene["robot"].actuators[0]._delay_buffer
  lags = []
  for _ in range(20):
    env.step(torch.zeros(8, 12))
    lags.append(delays.current_lags.clone())
  alive = env.episode_length_buf >= 20  # Envs that did not reset during the 20 steps.
  assert alive.any()
  for lag in lags:
    torch.testing.assert_close(lag[alive], lags[0][alive])
  assert lags[0].min() >= 0 and lags[0].max() <= 3
  assert len(set(lags[0].tolist())) > 1  # Per env, not one shared lag.
  env.close()


def test_the_curriculum_does_not_judge_an_episode_started_at_a_random_step():
  """rsl_rl starts first episodes at random steps; a robot that stood through a
  shortened episode keeps its row, one that stood through a whole one is demoted."""
  env = make_env("a1_base", num_envs=4)
  terrain = env.scene.terrain
  terrain.terrain_levels[:] = 1
  terrain.env_origins[:] = terrain.terrain_origins[1, terrain.terrain_types]
  env.reset()  # Before any step: respawn on row 1, the curriculum frozen (mjlab).
  env.episode_length_buf[:2] = 100  # As rsl_rl's init_at_random_ep_len would.
  for _ in range(5):
    env.step(torch.zeros(4, 12))
  assert (env.reset_buf == 0).all()
  env.command_manager.get_term(COMMAND_NAME).vel_command_b[:, 0] = 1.0  # 10 m due
  env.reset()
  assert terrain.terrain_levels.tolist() == [1, 1, 0, 0]
  env.close()


def test_training_steers_by_heading_and_play_draws_yaw_rates():
  train = TASKS["a1_waq"].env_cfg().commands[COMMAND_NAME]
  play = TASKS["a1_waq"].env_cfg(play=True).commands[COMMAND_NAME]
  assert train.heading_command and train.rel_heading_envs == 1.0
  assert train.heading_control_stiffness == 0.5
  assert not play.heading_command and play.ranges.heading is None
  assert play.ranges.ang_vel_z == (-1.0, 1.0)


def test_eval_can_command_as_training_does():
  """``dreamwaq eval --heading``: the grid and push envs steer toward random headings."""
  task = TASKS["a1_waq"]
  for cfg in (
    grid_env_cfg(task, ["stairs_up"], [5], 2, 0, heading=True),
    push_env_cfg(task, [1.0, 1.0], 0, heading=True),
  ):
    term = cfg.commands[COMMAND_NAME]
    assert term.heading_command and term.rel_heading_envs == 1.0
    assert term.ranges.heading is not None and term.heading_control_stiffness == 0.5
  default = grid_env_cfg(task, ["stairs_up"], [5], 2, 0).commands[COMMAND_NAME]
  assert not default.heading_command  # The protocol of docs/results.md: yaw rates.


def test_height_scan_noise_is_a_setting_of_the_oracle_actor_only():
  """The layout's 0.1 m by default; ``--env height_scan_noise=…`` changes the actor's."""

  def half_width(settings, group):
    cfg = TASKS["a1_oracle"].env_cfg(settings).observations[group]
    noise = cfg.terms["height_scan"].noise
    return None if noise is None else (noise.n_min, noise.n_max)

  default = layout.part(layout.PRIVILEGED, "height_scan").noise
  assert half_width(None, "actor") == (-default, default)
  assert half_width(A1EnvSettings(height_scan_noise=0.02), "actor") == (-0.02, 0.02)
  assert half_width(A1EnvSettings(height_scan_noise=0.0), "actor") is None
  assert not TASKS["a1_oracle"].env_cfg().observations["critic"].enable_corruption
  contract = policy_contract(TASKS["a1_oracle"], A1EnvSettings(height_scan_noise=0.02))
  heights = next(p for p in contract["privileged"] if p["name"] == "height_scan")
  assert heights["noise"] == 0.02  # policy.json records the noise the actor trained with.
  with pytest.raises(ValueError, match="at least 0"):
    TASKS["a1_oracle"].env_cfg(A1EnvSettings(height_scan_noise=-0.1))


def test_env_settings_take_overrides_and_round_trip_a_checkpoint_header():
  settings = A1EnvSettings().overridden(
    ["push_interval_s=4", "actuation_delay_steps=1,2", "heading_command=false",
     "terrain_types=stairs_up,discrete", "rewards.foot_clearance=-1"]
  )  # fmt: skip
  assert settings.changes() == {
    "push_interval_s": 4.0,
    "actuation_delay_steps": (1, 2),
    "heading_command": False,
    "terrain_types": ("stairs_up", "discrete"),
    "rewards": {"foot_clearance": -1.0},
  }
  cfg = TASKS["a1_waq"].env_cfg(settings)
  weights = {n: t.weight for n, t in cfg.rewards.items()}
  assert weights == {**REWARD_WEIGHTS, "foot_clearance": -1.0}  # The env uses it.
  assert LEG_CONTACT_SENSOR not in {sensor.name for sensor in cfg.scene.sensors}
  # A term beyond the paper's is off (no term, no sensor) until set:
  extra = A1EnvSettings().overridden(["rewards.leg_collision=-0.5"])
  assert extra.changes() == {"rewards": {"leg_collision": -0.5}}
  cfg = TASKS["a1_waq"].env_cfg(extra)
  assert cfg.rewards["leg_collision"].weight == -0.5
  assert LEG_CONTACT_SENSOR in {sensor.name for sensor in cfg.scene.sensors}
  assert A1EnvSettings.from_dict(json.loads(json.dumps(asdict(extra)))) == extra
  assert A1EnvSettings.from_dict(json.loads(json.dumps(asdict(settings)))) == settings
  assert A1EnvSettings.from_dict({}) == A1EnvSettings()
  with pytest.raises(ValueError, match="unknown field.*nope"):
    A1EnvSettings.from_dict({"nope": 1})
  for bad, message in [
    ("nope=1", "FIELD one of"),
    ("push_interval_s", "expected FIELD=VALUE"),
    ("rewards=1", "FIELD one of"),
    ("rewards.nope=1", "TERM one of"),
    ("rewards.foot_clearance=lots", "not a number"),
    ("push_interval_s=fast", "not a number"),
    ("max_init_terrain_level=2.5", "not an integer"),
    ("heading_command=yes", "not true or false"),
    ("actuation_delay_steps=1", "expected 2 comma-separated values"),
    ("height_scan_noise=-0.1", "at least 0"),
  ]:
    with pytest.raises(ValueError, match=message):
      A1EnvSettings().overridden([bad])


def test_play_and_eval_envs_are_built_with_the_settings_the_policy_trained_with():
  trained = A1EnvSettings(height_scan_noise=0.02)
  task = TASKS["a1_oracle"]
  configs = {
    "play": play_env_cfg(task, PlayScene(2, "stairs_up", 3), trained=trained),
    "eval grid": grid_env_cfg(task, ["stairs_up"], [5, 7], 2, 0, settings=trained),
    "eval push": push_env_cfg(task, (0.5, 1.0), 0, settings=trained),
  }
  for what, cfg in configs.items():
    noise = cfg.observations["actor"].terms["height_scan"].noise
    assert (noise.n_min, noise.n_max) == (-0.02, 0.02), what
  default = play_env_cfg(task, PlayScene(2, "stairs_up", 3))
  assert default.observations["actor"].terms["height_scan"].noise.n_max == 0.1
