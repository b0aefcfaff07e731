"""``dreamwaq play`` headless on the CPU: video and plots from a tiny trained run,
terrain/level/command choices, and one-line errors."""

from __future__ import annotations

import imageio.v2 as imageio
import numpy as np
import pytest

from dreamwaq.cli.main import main
from dreamwaq.play.scene import PlayScene, play_env_cfg
from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.registry import get_task

from .cli import one_line_error
from .trained import tiny_run


def _play(task: str, *argv: str) -> list[str]:
  return ["play", "--task", task, "--log_root", str(tiny_run(task).log_root), *argv]


def test_play_writes_a_gif_and_the_estimator_plot(tmp_path, capsys):
  gif, png = tmp_path / "flat.gif", tmp_path / "waq.png"
  argv = _play("a1_waq", "--terrain", "flat", "--num_envs", "2", "--follow",
               "--steps", "40", "--command", "0.5", "0", "0",
               "--video", str(gif), "--plot", str(png))  # fmt: skip
  assert main(argv) == 0, capsys.readouterr().err
  out = capsys.readouterr().out
  assert "40 steps (0.8 s) of robot 0" in out and "velocity estimate RMS error" in out
  frames = imageio.mimread(gif)
  assert len(frames) == 10 and frames[0].shape[:2] == (240, 320)  # 12.5 fps of 50 Hz.
  assert gif.stat().st_size < 1_000_000
  assert np.std(frames[-1][..., :3]) > 10  # Not a blank image.
  assert imageio.imread(png).shape[:2] == (800, 1200)


def test_play_writes_an_mp4_and_the_base_plot_on_a_stairs_level(tmp_path, capsys):
  mp4, png = tmp_path / "stairs.mp4", tmp_path / "base.png"
  argv = _play("a1_base", "--terrain", "stairs_up", "--level", "5", "--num_envs", "2",
               "--steps", "20", "--video", str(mp4), "--plot", str(png))  # fmt: skip
  assert main(argv) == 0, capsys.readouterr().err
  out = capsys.readouterr().out
  assert "tracking RMS error" in out and "velocity estimate" not in out
  frames = [frame for frame in imageio.get_reader(mp4)]  # list() asks for a length.
  assert len(frames) == 10 and frames[0].shape[:2] == (480, 640)  # 25 fps of 50 Hz.
  assert png.stat().st_size > 10_000


def test_level_builds_that_row_alone_and_a_command_is_held():
  cfg = play_env_cfg(get_task("a1_waq"), PlayScene(3, "stairs_down", 9, (0.1, -0.3, 0.5)))
  terrain = cfg.scene.terrain.terrain_generator
  assert terrain.num_rows == 1 and terrain.difficulty_range == (1.0, 1.0)
  assert {t.rsplit("_", 1)[0] for t in terrain.sub_terrains} == {"stairs_down"}
  command = cfg.commands[COMMAND_NAME]
  assert command.ranges.lin_vel_x == (0.1, 0.1) and command.ranges.ang_vel_z == (0.5, 0.5)
  assert command.min_lin_vel == 0.0  # A small command is not zeroed.
  assert "push_robot" not in cfg.events and not cfg.curriculum
  mixed = play_env_cfg(get_task("a1_base"), PlayScene()).scene.terrain
  assert mixed.terrain_generator.num_rows == 10 and mixed.max_init_terrain_level == 9


def _error(capsys, argv: list[str]) -> str:
  assert argv[0] == "play"
  return one_line_error(capsys, "play", argv[1:])


@pytest.mark.parametrize(
  ("argv", "message"),
  [
    (["--terrain", "flat", "--level", "2"], "--level needs a terrain type"),
    (["--terrain", "discrete", "--level", "10"], "choose a row from 0 to 9"),
    (["--command", "1.5", "0", "0"], "outside the trained range"),
    (["--video", "out.avi"], "write a .gif or an .mp4"),
    (["--viewer", "native"], "needs a display"),
    (["--load_run", "nope"], "no run 'nope'"),
  ],
)
def test_bad_choices_are_one_line_errors(capsys, monkeypatch, argv, message):
  monkeypatch.delenv("DISPLAY", raising=False)
  monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
  assert message in _error(capsys, _play("a1_waq", *argv))


def test_a_checkpoint_of_another_task_is_a_one_line_error(capsys):
  base_run = tiny_run("a1_base").checkpoint.parent
  err = _error(capsys, _play("a1_waq", "--load_run", str(base_run)))
  assert "is an a1_base checkpoint, not a1_waq" in err
