"""``dreamwaq record`` headless on the CPU: a GIF per terrain type and side-by-side GIFs
of two tiny trained runs; one-line errors."""

from __future__ import annotations

import imageio.v2 as imageio
import numpy as np

from dreamwaq.cli.main import main
from dreamwaq.rendering import COMPACT_GIF
from dreamwaq.tasks.terrain import TERRAIN_TYPES

from .cli import one_line_error
from .trained import tiny_run


def test_record_writes_a_gif_per_terrain_and_side_by_side_gifs(tmp_path, capsys):
  waq, base = tiny_run("a1_waq"), tiny_run("a1_base")
  argv = ["record", "--task", "a1_waq", "--log_root", str(waq.log_root),
          "--terrains", "all", "--compare_run", str(base.checkpoint.parent),
          "--compare_task", "a1_base", "--duration", "0.4",
          "--out", str(tmp_path)]  # fmt: skip
  assert main(argv) == 0, capsys.readouterr().err
  for terrain in TERRAIN_TYPES:
    single = imageio.mimread(tmp_path / f"{terrain}.gif")
    pair = imageio.mimread(tmp_path / f"{terrain}_side_by_side.gif")
    size = (COMPACT_GIF.height, COMPACT_GIF.width)
    assert len(single) == len(pair) == 4  # 0.4 s at 10 fps.
    assert single[0].shape[:2] == size and pair[0].shape[:2] == (size[0], 2 * size[1])
    assert np.std(single[-1][..., :3]) > 10  # Not a blank image.
    assert (tmp_path / f"{terrain}_side_by_side.gif").stat().st_size < 500_000
    # The left half is the first model's clip (its frames, plus a label).
    left = pair[-1][:, : size[1], :3].astype(float)
    assert np.abs(left[20:] - single[-1][20:, :, :3]).mean() < 5
  assert "a1_waq" in capsys.readouterr().out


def test_compare_options_without_a_run_are_a_one_line_error(capsys):
  log_root = str(tiny_run("a1_waq").log_root)
  argv = ["--task", "a1_waq", "--log_root", log_root, "--compare_task", "a1_base"]
  assert "need --compare_run" in one_line_error(capsys, "record", argv)
