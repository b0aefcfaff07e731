"""``dreamwaq eval`` and ``dreamwaq compare`` on the CPU: metric functions on known
trajectories, the suite end to end on a tiny trained run (files, numbers, the same
numbers again for the same seed), a do-nothing policy that fails, and the report."""

from __future__ import annotations

import json
import math

import mujoco
import numpy as np
import pytest
import torch

from dreamwaq.cli.main import main
from dreamwaq.evaluation.conditions import CONDITIONS, apply_condition
from dreamwaq.evaluation.curves import CURVE_TAGS, FINAL_WINDOW, Curve, read_curves
from dreamwaq.evaluation.grid import grid_env_cfg, place_robots
from dreamwaq.evaluation.metrics import Trajectory, hardest_row, max_push, summarize
from dreamwaq.evaluation.push import PAPER_PUSH_LEVEL, push_env_cfg
from dreamwaq.evaluation.suite import EvalConfig, evaluate
from dreamwaq.play.session import open_env
from dreamwaq.robot import a1
from dreamwaq.tasks.observations import PUSH_EVENT
from dreamwaq.tasks.registry import get_task
from dreamwaq.tasks.terrain import TERRAIN_TYPES, terrain_type_of

from .cli import one_line_error
from .envs import SMALL_TERRAIN
from .trained import tiny_run

EVAL_ARGS = ["--num_envs", "1", "--duration", "1.5", "--rows", "0", "9",
             "--push_levels", "0.5"]  # fmt: skip
"""Every terrain type and condition, two rows, one robot per group, a push at 1 s."""


def _known_trajectory() -> Trajectory:
  """Robot 0 walks at half its 1 m/s command for 2 s; robot 1 tracks (0, 0.6) exactly
  and falls in its second step (then respawns far away, which must not count)."""
  dt, steps = 0.5, 4
  command = np.zeros((steps, 2, 3))
  command[:, 0] = (1.0, 0.0, 0.0)
  command[:, 1] = (0.0, 0.6, 0.5)
  lin_vel = np.zeros((steps, 2, 3))
  lin_vel[:, 0] = (0.5, 0.0, 0.0)
  lin_vel[:, 1] = (0.0, 0.6, 0.0)
  yaw_rate = np.array([[0.2, 0.5]] * steps)
  position = np.zeros((steps, 2, 2))
  position[:, 0, 0] = [0.0, 0.25, 0.5, 0.75]
  position[:, 1, 1] = [0.0, 0.3, 5.0, 5.3]
  fell = np.zeros((steps, 2), dtype=bool)
  fell[1, 1] = True
  est_vel = lin_vel.copy()
  est_vel[:, 0] += (0.3, 0.0, 0.4)  # An error of 0.5 m/s.
  return Trajectory(dt, command, lin_vel, yaw_rate, position, fell, est_vel)


def test_metrics_of_known_trajectories():
  traj = _known_trajectory()
  walker = summarize(traj.select([0]))
  assert walker.alive_rate == 1.0 and walker.time_to_fall_s is None
  assert walker.distance_m == pytest.approx(0.75)
  assert walker.commanded_distance_m == pytest.approx(2.0)
  assert walker.success_rate == 0.0  # 0.75 m of 2 m: under half.
  assert walker.lin_vel_error_mps == pytest.approx(0.5)
  assert walker.yaw_rate_error_radps == pytest.approx(0.2)
  assert walker.vel_est_rmse_mps == pytest.approx(0.5)
  assert walker.survival_pct == pytest.approx(100.0)
  faller = summarize(traj.select([1]))
  assert faller.alive_rate == 0.0 and faller.success_rate == 0.0
  assert faller.time_to_fall_s == pytest.approx(1.0)  # Fell in step 1: at 2 × 0.5 s.
  assert faller.survival_pct == pytest.approx(50.0)
  assert faller.distance_m == pytest.approx(0.3)  # The respawn jump is not walked.
  assert faller.commanded_distance_m == pytest.approx(0.6)
  assert faller.lin_vel_error_mps == pytest.approx(0.0)
  both = summarize(traj)
  assert both.robots == 2 and both.alive_rate == 0.5
  assert both.lin_vel_error_mps == pytest.approx(4 * 0.5 / 6)  # Pooled over 6 robot-steps.
  assert both.vel_est_rmse_mps == pytest.approx(math.sqrt(4 * 0.25 / 6))
  assert both.survival_pct == pytest.approx(75.0)
  no_estimate = summarize(Trajectory(*[getattr(traj, f) for f in (
    "dt", "command", "lin_vel", "yaw_rate", "position", "fell")]))  # fmt: skip
  assert no_estimate.vel_est_rmse_mps is None


def test_a_robot_that_covers_half_its_commanded_path_succeeds():
  traj = _known_trajectory()
  fast = Trajectory(
    traj.dt, traj.command[:, :1], traj.lin_vel[:, :1], traj.yaw_rate[:, :1],
    traj.position[:, :1] * (1.0 / 0.75), traj.fell[:, :1],
  )  # fmt: skip
  assert summarize(fast).success_rate == 1.0  # 1.0 m of 2.0 m.


def test_a_robot_that_leaves_its_tile_is_measured_until_it_leaves():
  """Robot 0 stands outside its tile from step 2 on and falls in step 3 (on the
  neighbour: not counted); robot 1 falls in step 1 on its tile, then respawns at a
  place that reads as off the tile (not a departure)."""
  traj = _known_trajectory()
  fell = traj.fell.copy()
  fell[3, 0] = True
  off = np.zeros_like(fell)
  off[2:, 0] = True
  off[2:, 1] = True  # After robot 1's fall: ignored.
  cut = Trajectory(*[getattr(traj, f) for f in (
    "dt", "command", "lin_vel", "yaw_rate", "position")], fell, traj.est_vel, off)  # fmt: skip
  walker = summarize(cut.select([0]))
  assert walker.left_tile_rate == 1.0 and walker.alive_rate == 1.0
  assert walker.time_to_fall_s is None and walker.survival_pct == pytest.approx(100.0)
  assert walker.distance_m == pytest.approx(0.25)  # Steps 0-1 only.
  assert walker.commanded_distance_m == pytest.approx(1.0)
  assert walker.success_rate == 0.0  # 0.25 m of 1.0 m.
  faller = summarize(cut.select([1]))
  assert faller.left_tile_rate == 0.0 and faller.alive_rate == 0.0
  assert faller.survival_pct == pytest.approx(50.0)
  assert summarize(traj).left_tile_rate is None  # No tiles: flat ground.


def test_hardest_row_and_max_push_stop_at_the_first_failure():
  assert hardest_row([0, 3, 6, 9], [1.0, 0.9, 0.7, 0.95]) == 3
  assert hardest_row([9, 0], [0.8, 0.85]) == 9  # Sorted by row; 80 % passes.
  assert hardest_row([2, 5], [0.5, 1.0]) is None
  assert max_push([1.5, 0.5, 1.0], [0.4, 1.0, 0.5]) == 1.0
  assert max_push([0.5], [0.2]) is None


def test_pushes_follow_each_robots_level_and_conditions_reach_the_model():
  task = get_task("a1_base")
  cfg = push_env_cfg(task, levels=(0.3, 0.3, 2.0), seed=0)
  vec = open_env(cfg, "cpu")
  env = vec.unwrapped
  for i, name in ((1, "low_friction"), (2, "heavy_payload")):
    apply_condition(env, torch.tensor([i]), CONDITIONS[name])
  model, mj = env.sim.model, env.sim.mj_model
  feet = [
    mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_GEOM, f"robot/{g}") for g in a1.FOOT_GEOMS
  ]
  trunk = mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_BODY, f"robot/{a1.TRUNK_BODY}")
  assert torch.allclose(model.geom_friction[1, feet, 0], torch.tensor(0.2))
  assert float(model.body_mass[2, trunk]) == pytest.approx(mj.body_mass[trunk] + 2.0)
  assert float(model.body_mass[0, trunk]) != pytest.approx(mj.body_mass[trunk] + 2.0)
  vec.reset()
  for _ in range(55):  # A push at 1 s (50 steps).
    vec.step(torch.zeros(3, 12))
  push = env.event_manager.get_term_cfg(PUSH_EVENT).func.last_push
  assert (push.abs() > 0).all()
  assert (push[:2].abs() <= 0.3).all() and push[2].abs().max() > 0.3
  vec.close()


@pytest.fixture(scope="module")
def waq_eval():
  """``dreamwaq eval`` of the tiny a1_waq run, into its run folder."""
  run = tiny_run("a1_waq")
  argv = ["eval", "--task", "a1_waq", "--log_root", str(run.log_root), *EVAL_ARGS]
  assert main(argv) == 0
  return run.checkpoint.parent


def test_eval_writes_json_and_markdown_with_every_terrain_row_and_condition(waq_eval):
  results = json.loads((waq_eval / "eval.json").read_text())
  assert results["task"] == "a1_waq" and results["device"] == "cpu"
  # The tiny run changed only the terrain grid from the defaults, and eval says so.
  assert results["trained_env_changes"] == SMALL_TERRAIN
  assert set(results["conditions"]) == set(CONDITIONS)
  stairs = results["conditions"]["nominal"]["terrain"]["stairs_up"]
  assert [r["row"] for r in stairs["rows"]] == [0, 9]
  assert stairs["rows"][0]["parameter"] == {
    "name": "step height",
    "value": pytest.approx(5.0),
    "unit": "cm",
  }
  assert stairs["rows"][1]["parameter"]["value"] == pytest.approx(20.0)
  slope = results["conditions"]["nominal"]["terrain"]["smooth_slope"]["rows"][1]
  assert slope["parameter"]["value"] == pytest.approx(22.0)  # Degrees.
  for cond in results["conditions"].values():
    assert set(cond["terrain"]) == set(TERRAIN_TYPES)
    for entry in cond["terrain"].values():
      for row in entry["rows"]:
        assert row["robots"] == 1 and 0.0 <= row["success_rate"] <= row["alive_rate"] <= 1.0
        assert row["lin_vel_error_mps"] > 0.0 and row["vel_est_rmse_mps"] > 0.0
        assert row["commanded_distance_m"] > 0.0  # Random commands were given.
    push = cond["push"]
    assert [e["level_mps"] for e in push["levels"]] == [0.5, PAPER_PUSH_LEVEL]
    assert push["max_push_mps"] in (None, 0.5, 1.0)
    assert 0.0 < push["survival_pct_at_paper_level"] <= 100.0
  markdown = (waq_eval / "eval.md").read_text()
  for heading in ("## Per terrain: friction 0.2", "## Per terrain: payload +2 kg",
                  "## Hardest row with success ≥ 80 %", "## Push robustness",
                  "paper: DreamWaQ w/ AdaBoot"):  # fmt: skip
    assert heading in markdown
  assert "| stairs_up | 9 | step height 20.0 cm |" in markdown


def _numbers(tree, path=""):
  """Every leaf of a JSON tree by its path."""
  if isinstance(tree, dict):
    return {
      k: v for key, sub in tree.items() for k, v in _numbers(sub, f"{path}/{key}").items()
    }
  if isinstance(tree, list):
    return {
      k: v for i, sub in enumerate(tree) for k, v in _numbers(sub, f"{path}/{i}").items()
    }
  return {path: tree}


def test_the_same_seed_gives_the_same_numbers(tmp_path):
  """Two evaluations of two conditions on two terrain types (a smaller suite than
  ``waq_eval``'s, for time: every group shares one env, so a subset of that suite's
  groups would not give that suite's numbers)."""
  run = tiny_run("a1_waq")
  argv = ["eval", "--task", "a1_waq", "--log_root", str(run.log_root), "--num_envs", "1",
          "--duration", "1.5", "--rows", "9", "--terrains", "stairs_up", "discrete",
          "--conditions", "nominal", "low_friction", "--push_levels", "0.5"]  # fmt: skip
  for out in ("first", "again"):
    assert main([*argv, "--out", str(tmp_path / out)]) == 0
  first = _numbers(json.loads((tmp_path / "first" / "eval.json").read_text()))
  again = _numbers(json.loads((tmp_path / "again" / "eval.json").read_text()))
  assert first["/conditions/low_friction/push/levels/0/robots"] == 1
  assert first.keys() == again.keys()
  for key, value in first.items():
    if isinstance(value, float):
      assert again[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
    else:
      assert again[key] == value, key


class ZeroPolicy(torch.nn.Module):
  """Does nothing: the default pose, held by the PD controllers."""

  def forward(self, obs: torch.Tensor) -> torch.Tensor:
    return torch.zeros(obs.shape[0], len(a1.JOINT_NAMES))


def test_a_grid_whose_centre_tile_holds_the_robots_reference_pose_evaluates():
  """MuJoCo Warp counts the contacts of the model's reference pose (the robot at the
  origin, inside this grid's centre tile: 20) against the per-env budget when it builds."""
  config = EvalConfig(
    robots=1, duration_s=0.2, rows=(3, 5, 7), terrains=("stairs_up", "stairs_down", "discrete"),
    conditions=("nominal",), push_levels=(),
  )  # fmt: skip
  results = evaluate(get_task("a1_base"), ZeroPolicy(), config, "cpu", log=lambda s: None)
  assert len(results["conditions"]["nominal"]["terrain"]["discrete"]["rows"]) == 3


def test_fields_spread_a_group_over_separate_draws_of_its_terrain():
  """``--fields 2``: a group's robots take turns between two obstacle tiles of the same
  row, and the two tiles' obstacles are different draws."""
  cfg = grid_env_cfg(get_task("a1_base"), ["discrete"], [5], 4, seed=0, fields=2)
  names = list(cfg.scene.terrain.terrain_generator.sub_terrains)
  assert [terrain_type_of(name) for name in names] == ["discrete", "discrete"]
  vec = open_env(cfg, "cpu")
  try:
    env = vec.unwrapped
    place_robots(env, [("discrete", 5)] * 4, first_row=5)
    terrain = env.scene.terrain
    assert terrain.terrain_types.tolist() == [0, 1, 0, 1]
    origins = terrain.env_origins.cpu().numpy()
    assert np.allclose(origins[0], origins[2]) and not np.allclose(origins[0], origins[1])
    model = env.sim.mj_model
    heights = [
      model.hfield_data[adr : adr + model.hfield_nrow[i] * model.hfield_ncol[i]]
      for i, adr in enumerate(model.hfield_adr)
    ]
    assert len(heights) == 2 and not np.array_equal(heights[0], heights[1])
  finally:
    vec.close()


def test_a_policy_that_does_nothing_fails_on_high_stairs():
  config = EvalConfig(
    robots=4, duration_s=2.0, rows=(9,), terrains=("stairs_up",), conditions=("nominal",),
    push_levels=(), command=(1.0, 0.0, 0.0),
  )  # fmt: skip
  results = evaluate(get_task("a1_base"), ZeroPolicy(), config, "cpu", log=lambda s: None)
  nominal = results["conditions"]["nominal"]
  (row,) = nominal["terrain"]["stairs_up"]["rows"]
  assert row["success_rate"] == 0.0
  assert row["lin_vel_error_mps"] == pytest.approx(1.0, abs=0.15)  # ≈ the commanded speed.
  assert row["distance_m"] < 0.25 * row["commanded_distance_m"]
  assert row["vel_est_rmse_mps"] is None  # No estimator.
  assert nominal["terrain"]["stairs_up"]["hardest_row"] is None
  assert nominal["push"] is None


def test_compare_reports_curves_eval_bars_and_table_iii(waq_eval, tmp_path, capsys):
  base = tiny_run("a1_base").checkpoint.parent
  out = tmp_path / "report"
  assert main(["compare", str(waq_eval), str(base), "--out", str(out)]) == 0
  report = (out / "report.md").read_text()
  for name in ("rewards", "terrain_levels", "success", "tracking"):
    assert (out / f"{name}.png").stat().st_size > 5_000
    assert f"]({name}.png)" in report
  assert "| a1_base | a1_base |" in report and "not evaluated" in report
  robots = json.loads((waq_eval / "eval.json").read_text())["config"]["robots"]
  waq_row = next(line for line in report.splitlines() if line.startswith("| a1_waq |"))
  assert waq_row.endswith(f".pt | {robots} |")  # Sample sizes sit beside the runs.
  base_row = next(line for line in report.splitlines() if line.startswith("| a1_base |"))
  assert base_row.endswith("| not evaluated (`dreamwaq eval`) | – |")
  finals = []  # Each run's final level and return, as its events hold them.
  for row, run_dir in ((waq_row, waq_eval), (base_row, base)):
    curves = read_curves(run_dir)
    tags = (CURVE_TAGS["terrain_level"], CURVE_TAGS["reward"])
    cells = [
      f"{curves[t].values[-FINAL_WINDOW:].mean():.2f}" if t in curves else "–" for t in tags
    ]
    assert f"| {cells[0]} | {cells[1]} | " in row
    finals += cells
  assert set(finals) != {"–"}
  assert "| 0 | 0:00:00 (+1 session(s) with no end recorded) | not recorded |" in report
  assert "| paper: Baseline | 0.511 ± 0.053 | 20.51 ± 6.44 |" in report
  assert "| a1_waq |" in report.split("Table III")[-1]  # Measured beside the paper.
  estimation = report.split("## Velocity estimation")[1].split("##")[0]
  assert "| terrain | a1_waq |" in estimation  # a1_base, no estimator, was not evaluated.
  by_condition = report.split("## Success under each condition")[1].split("##")[0]
  for label in ("training randomisation", "friction 0.2", "payload +2 kg"):
    assert f"a1_waq: {label}" in by_condition
  assert "wrote" in capsys.readouterr().out


def test_a_runs_final_value_is_the_mean_of_its_last_50_iterations():
  iterations = np.arange(120)
  curve = Curve(iterations, np.where(iterations < 70, 0.0, 6.0))
  assert curve.final() == 6.0  # Iterations 70-119.
  assert curve.final(100) == 3.0
  assert Curve(np.arange(3), np.array([1.0, 2.0, 6.0])).final() == 3.0  # Fewer logged.


def test_a_runs_value_at_a_mark_is_the_mean_of_the_50_iterations_ending_there():
  iterations = np.arange(1000, 1200)  # A fine-tune: its iterations start at 1000.
  curve = Curve(iterations, np.where(iterations < 1100, 5.0, 6.0))
  assert curve.ending_at(1099) == 5.0  # Iterations 1050-1099.
  assert curve.ending_at(1124) == 5.5  # 1075-1124: half each.
  assert curve.ending_at(1124, window=25) == 6.0
  assert curve.ending_at(1199) == curve.final()
  with pytest.raises(ValueError, match="no iteration logged in 900-949"):
    curve.ending_at(949)  # Before the fine-tune began.


@pytest.mark.parametrize(
  ("command", "argv", "message"),
  [
    ("eval", ["--rows", "12"], "choose a row from 0 to 9"),
    ("eval", ["--num_envs", "0"], "--num_envs must be positive"),
    (
      "eval",
      ["--num_envs", "2", "--fields", "3"],
      "--fields must be between 1 and --num_envs",
    ),
    ("eval", ["--push_levels", "-1"], "--push_levels must be positive"),
    ("eval", ["--load_run", "nope"], "no run 'nope'"),
    ("eval", ["--command", "2", "0", "0"], "outside the trained range"),
    ("eval", ["--heading", "--command", "0.5", "0", "0"], "cannot go with --command"),
  ],
)
def test_bad_eval_choices_are_one_line_errors(capsys, command, argv, message):
  log_root = str(tiny_run("a1_waq").log_root)
  capsys.readouterr()  # The tiny run's own output, when this test is the one to train it.
  err = one_line_error(capsys, command, ["--task", "a1_waq", "--log_root", log_root, *argv])
  assert message in err


def test_a_missing_run_to_compare_is_a_one_line_error(capsys, tmp_path):
  err = one_line_error(capsys, "compare", ["nope", "--log_root", str(tmp_path)])
  assert "no run 'nope'" in err


def test_compare_takes_evaluations_written_elsewhere(waq_eval, tmp_path):
  """``--evals`` pairs each run with an eval.json kept apart from it (``eval --out``)."""
  moved = json.loads((waq_eval / "eval.json").read_text())
  moved["config"]["robots"] = 256
  # Evaluated on another machine: its path there, in a folder of the run's name.
  moved["checkpoint"] = f"/root/runs/rough_a1_waq/{waq_eval.name}/model_7.pt"
  elsewhere = tmp_path / "eval.json"
  elsewhere.write_text(json.dumps(moved))
  out = tmp_path / "report"
  assert main(["compare", str(waq_eval), "--evals", str(elsewhere), "--out", str(out)]) == 0
  report = (out / "report.md").read_text()
  waq_row = next(line for line in report.splitlines() if line.startswith("| a1_waq |"))
  assert waq_row.endswith("| model_7.pt | 256 |")
  moved["checkpoint"] = "/elsewhere/other_run/model_7.pt"  # Not the run's own: whole path.
  elsewhere.write_text(json.dumps(moved))
  assert main(["compare", str(waq_eval), "--evals", str(elsewhere), "--out", str(out)]) == 0
  assert "| /elsewhere/other_run/model_7.pt | 256 |" in (out / "report.md").read_text()


@pytest.mark.parametrize(
  ("evals", "message"),
  [(["a.json", "b.json"], "2 file(s) for 1 run(s)"), (["missing.json"], "no file")],
)
def test_bad_compare_evals_are_one_line_errors(waq_eval, capsys, tmp_path, evals, message):
  argv = [str(waq_eval), "--evals", *[str(tmp_path / e) for e in evals]]
  assert message in one_line_error(capsys, "compare", argv)


def test_eval_md_says_how_yaw_was_commanded(waq_eval):
  """eval.json records ``heading``; files written before the option read as yaw rates."""
  from dreamwaq.evaluation.report import eval_markdown

  results = json.loads((waq_eval / "eval.json").read_text())
  assert results["config"]["heading"] is False
  assert "commands U[−1, 1] (m/s, m/s, rad/s)" in eval_markdown(results)
  results["config"]["heading"] = True
  assert "toward a random heading" in eval_markdown(results)
  del results["config"]["heading"]
  assert "commands U[−1, 1] (m/s, m/s, rad/s)" in eval_markdown(results)


def test_eval_md_says_how_many_tiles_a_group_met(waq_eval):
  """eval.json records ``fields``; files written before the option had one tile a group."""
  from dreamwaq.evaluation.report import eval_markdown

  results = json.loads((waq_eval / "eval.json").read_text())
  assert results["config"]["fields"] == 1
  assert "1 tile per group (one draw of the terrain)" in eval_markdown(results)
  results["config"]["fields"] = 4
  assert "4 tiles per group (separate draws of the terrain)" in eval_markdown(results)
  del results["config"]["fields"]
  assert "1 tile per group (one draw" in eval_markdown(results)
