"""``dreamwaq train`` end to end on the CPU: 8 envs, 3 iterations per task, then a resume."""

from __future__ import annotations

import math
import os
from dataclasses import asdict

os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ.setdefault("MUJOCO_GL", "disable")

from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dreamwaq.cli import train
from dreamwaq.cli.main import build_parser, main
from dreamwaq.evaluation.curves import read_curves
from dreamwaq.learning.runner import CURRICULUM_STATE
from dreamwaq.runs import lineage, trained_settings, training_time
from dreamwaq.tasks.env_cfg import REWARD_WEIGHTS, A1EnvSettings
from dreamwaq.tasks.observations import PUSH_EVENT
from dreamwaq.tasks.registry import TASKS

ITERATIONS = 3
SMALL = ["--headless", "--num_envs", "8"]


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
  events = EventAccumulator(str(run_dir))
  events.Reload()
  return {
    tag: [(e.step, e.value) for e in events.Scalars(tag)]
    for tag in events.Tags()["scalars"]
  }


@pytest.fixture(scope="module")
def log_root(tmp_path_factory) -> Path:
  return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="module")
def runs(log_root) -> dict[str, Path]:
  """One short training run per task (they share Warp's compiled kernels)."""
  result = {}
  for name, task in TASKS.items():
    argv = ["train", "--task", name, *SMALL, "--max_iterations", str(ITERATIONS)]
    assert main([*argv, "--log_root", str(log_root), "--seed", "3"]) == 0
    (run_dir,) = (log_root / task.experiment).iterdir()
    result[name] = run_dir
  return result


@pytest.mark.parametrize("task", list(TASKS))
def test_train_writes_checkpoints_events_and_config(runs, task):
  run_dir = runs[task]
  assert run_dir.parent.name == TASKS[task].experiment
  assert sorted(p.name for p in run_dir.glob("model_*")) == ["model_0.pt", "model_2.pt"]
  assert list(run_dir.glob("events.out.tfevents.*"))
  assert not list(run_dir.glob("*.tmp"))  # checkpoints are committed, never left partial
  for name in ("env.yaml", "agent.yaml", "train.yaml"):
    assert (run_dir / "params" / name).stat().st_size > 0
  saved = torch.load(run_dir / "model_2.pt", weights_only=False)
  assert saved["iter"] == ITERATIONS - 1
  assert saved["infos"]["dreamwaq"]["env"] == asdict(A1EnvSettings())
  assert {"actor_state_dict", "critic_state_dict", "optimizer_state_dict"} <= saved.keys()
  tags = scalars(run_dir)
  for tag in ("Loss/value", "Loss/learning_rate", "Perf/total_fps", "Policy/mean_std"):
    assert [step for step, _ in tags[tag]] == list(range(ITERATIONS))
  estimator = TASKS[task].estimator
  if estimator:
    assert {
      "estimator_state_dict",
      "estimator_optimizer_state_dict",
      "estimator_scheduler_state_dict",
      "beta",
      "adaboot",
    } <= saved.keys()
    for tag in (
      f"Loss/{estimator}",
      "Estimator/velocity_error_mps",
      "Estimator/learning_rate",
      "AdaBoot/p_boot",
    ):
      assert len(tags[tag]) == ITERATIONS and all(math.isfinite(v) for _, v in tags[tag])
    assert ("Estimator/beta" in tags) == (estimator == "cenet")
  else:
    assert not any(t.startswith(("Estimator/", "AdaBoot/")) for t in tags)


def test_episode_statistics_are_logged(runs):
  """Runs in which episodes ended log every reward term, terrain level and length."""
  ended = [
    tags for tags in map(scalars, runs.values()) if "Train/mean_episode_length" in tags
  ]
  assert ended, "no episode ended in any run"
  for tags in ended:
    for term in REWARD_WEIGHTS:
      assert f"Episode_Reward/{term}" in tags
    assert "Curriculum/terrain_levels/mean" in tags
    assert "Train/mean_reward" in tags


def test_resume_continues_with_the_saved_state(runs, log_root, capsys):
  checkpoint = runs["a1_waq"] / f"model_{ITERATIONS - 1}.pt"
  saved = torch.load(checkpoint, weights_only=False)
  argv = ["train", "--task", "a1_waq", *SMALL, "--max_iterations", "2", "--resume",
          "--env", "push_interval_s=4"]  # fmt: skip
  session = train.start(build_parser().parse_args([*argv, "--log_root", str(log_root)]))
  push = session.env.unwrapped.cfg.events[PUSH_EVENT]
  assert push.interval_range_s == (4.0, 4.0)  # --env reaches the env of a resumed run.
  runner = session.runner
  alg = runner.alg
  assert runner.current_learning_iteration == ITERATIONS
  assert f"resumed {checkpoint} at iteration {ITERATIONS}" in capsys.readouterr().out
  for key, value in saved[
    "estimator_state_dict"
  ].items():  # o_t and velocity statistics too
    assert torch.equal(alg.estimator.state_dict()[key], value), key
  assert alg.estimator.obs_normalizer.count.item() == ITERATIONS * 24 * 8
  for key, value in saved["critic_state_dict"].items():  # privileged-part statistics
    assert torch.equal(alg.critic.state_dict()[key], value), key
  assert alg.beta.value == saved["beta"] == pytest.approx(1.01**ITERATIONS)
  assert alg.adaboot.p_boot == saved["adaboot"]["p_boot"]
  for optimizer, key in (
    (alg.estimator_optimizer, "estimator_optimizer_state_dict"),
    (alg.optimizer, "optimizer_state_dict"),
  ):
    state, expected = optimizer.state_dict(), saved[key]
    assert state["param_groups"] == expected["param_groups"]
    for i, slots in expected["state"].items():
      for slot, value in slots.items():
        assert torch.equal(state["state"][i][slot], value), (key, i, slot)
  assert alg.estimator_scheduler.state_dict() == saved["estimator_scheduler_state_dict"]

  runner.learn(session.iterations, init_at_random_ep_len=True)
  session.env.close()
  assert (
    session.log_dir.parent == runs["a1_waq"].parent and session.log_dir != runs["a1_waq"]
  )
  assert sorted(p.name for p in session.log_dir.glob("model_*")) == ["model_4.pt"]
  assert [step for step, _ in scalars(session.log_dir)["Loss/value"]] == [3, 4]
  assert torch.load(session.log_dir / "model_4.pt", weights_only=False)["iter"] == 4
  assert trained_settings(session.log_dir / "model_4.pt") == A1EnvSettings(
    push_interval_s=4
  )
  # The run is both folders: its curves and its training time span them.
  assert lineage(session.log_dir) == [runs["a1_waq"], session.log_dir]
  value = read_curves(session.log_dir, ["Loss/value"])["Loss/value"]
  assert value.iterations.tolist() == [0, 1, 2, 3, 4]
  trained = training_time(session.log_dir)  # This session, not run by main, never closed.
  assert (trained.iterations, trained.unclosed) == (ITERATIONS, 1)


def test_the_history_gives_each_runs_training_time(runs):
  for run_dir in runs.values():
    trained = training_time(run_dir)
    assert (trained.iterations, trained.unclosed, trained.gpus) == (ITERATIONS, 0, ())
    assert 0 <= trained.seconds < 600
    assert lineage(run_dir) == [run_dir]


def test_resume_restores_the_terrain_curriculum(runs, tmp_path):
  """Each env resumes on its saved tile (row and column), respawned there."""
  saved = torch.load(runs["a1_waq"] / f"model_{ITERATIONS - 1}.pt", weights_only=False)
  curriculum = saved["infos"][CURRICULUM_STATE]
  assert curriculum["terrain_levels"].shape == (8,)
  pattern = torch.tensor([9, 0, 7, 3, 8, 1, 6, 2])  # far from the fresh draw (rows 0-5)
  curriculum["terrain_levels"] = pattern
  curriculum["terrain_types"] = torch.arange(8) * 2
  run_dir = tmp_path / TASKS["a1_waq"].experiment / "edited"
  run_dir.mkdir(parents=True)
  torch.save(saved, run_dir / "model_2.pt")
  argv = ["train", "--task", "a1_waq", *SMALL, "--max_iterations", "1", "--resume",
          "--load_run", "edited", "--log_root", str(tmp_path)]  # fmt: skip
  session = train.start(build_parser().parse_args(argv))
  env = session.env.unwrapped
  terrain = env.scene.terrain
  assert torch.equal(terrain.terrain_levels.cpu(), pattern)
  assert torch.equal(terrain.terrain_types.cpu(), torch.arange(8) * 2)
  origins = terrain.terrain_origins[terrain.terrain_levels, terrain.terrain_types]
  assert torch.equal(terrain.env_origins, origins)
  base_xy = env.scene["robot"].data.root_link_pos_w[:, :2]
  # Respawned on its 8 m tile (the reset pose spreads robots by up to 1 m per axis).
  assert (base_xy - origins[:, :2]).norm(dim=-1).max() < 1.5
  session.env.close()


def test_a_resume_keeps_the_env_settings_of_its_checkpoint(runs, tmp_path):
  """A variant resumed without ``--env`` trains on as it started; ``--env`` changes it."""
  saved = torch.load(runs["a1_oracle"] / f"model_{ITERATIONS - 1}.pt", weights_only=False)
  saved["infos"]["dreamwaq"]["env"] = asdict(A1EnvSettings(height_scan_noise=0.02))
  run_dir = tmp_path / TASKS["a1_oracle"].experiment / "variant"
  run_dir.mkdir(parents=True)
  torch.save(saved, run_dir / "model_2.pt")
  argv = ["train", "--task", "a1_oracle", "--resume", "--load_run", "variant",
          "--max_iterations", "1", "--log_root", str(tmp_path)]  # fmt: skip
  kept = train.prepare(build_parser().parse_args(argv)).settings
  assert kept == A1EnvSettings(height_scan_noise=0.02)
  changed = train.prepare(build_parser().parse_args([*argv, "--env", "push_interval_s=4"]))
  assert changed.settings == A1EnvSettings(height_scan_noise=0.02, push_interval_s=4)


@pytest.mark.parametrize(
  "args, message",
  [
    (["--task", "a1_nope"], "unknown task 'a1_nope'"),
    (["--task", "a1_waq", "--num_envs", "0"], "--num_envs must be positive"),
    (["--task", "a1_waq", "--max_iterations", "-2"], "--max_iterations must be positive"),
    (["--task", "a1_base", "--resume", "--experiment_name", "empty"], "nothing to resume"),
    (["--task", "a1_waq", "--resume", "--load_run", "nope"], "no run 'nope'"),
    (["--task", "a1_waq", "--resume", "--checkpoint", "99"], "no model_99.pt"),
    (["--task", "a1_waq", "--env", "nope=1"], "--env 'nope=1': expected FIELD=VALUE"),
    (["--task", "a1_waq", "--env", "push_interval_s=x"], "'x' is not a number"),
  ],
)
def test_bad_input_is_one_line_and_exit_2(runs, log_root, capsys, args, message):
  assert main(["train", *args, "--log_root", str(log_root)]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith("dreamwaq train: error:") and message in err[0]


def test_latest_checkpoint_ignores_partial_files(tmp_path):
  for run, names in {
    "2026-01-01_00-00-00": ["model_50.pt"],
    "2026-01-02_00-00-00": ["model_9.pt", "model_10.pt", "model_11.pt.tmp"],
    "2026-01-03_00-00-00": ["model_3.pt.tmp"],  # crashed before its first checkpoint
  }.items():
    (tmp_path / run).mkdir()
    for name in names:
      (tmp_path / run / name).touch()
  latest = train._checkpoint(tmp_path, None, None)
  assert latest == tmp_path / "2026-01-02_00-00-00" / "model_10.pt"
  assert train._checkpoint(tmp_path, "2026-01-01_00-00-00", 50).name == "model_50.pt"
