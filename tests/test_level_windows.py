"""benchmarks/level_windows.py: runs' curves at marks, read from a carried run's events."""

from __future__ import annotations

import sys

import pytest

from .scripts import REPO, load_script

level_windows = load_script("level_windows")

# `waqc3`, a fine-tune from iteration 2496 to 3135 (its folder resumed an earlier one).
RUN = REPO / "benchmarks/carry/rough_a1_waq/2026-12-02_07-18-22_waqc3"


def test_a_runs_levels_and_tags_at_marks_are_its_50_iteration_means():
  tag = "Episode_Termination/base_contact"
  got = level_windows.windows(RUN, [-10, 2600, 3135, 3200], [tag])
  assert list(got) == [*level_windows.LEVEL_TAGS, tag]
  # -10 and 3200 lie outside the iterations the run logged.
  assert all(list(values) == [2600, 3135] for values in got.values())
  # Iterations 3086-3135, as benchmarks/results/2026-12-02d_h200_waqc3/windows.txt reads.
  assert got[level_windows.TERRAIN_LEVEL][3135] == pytest.approx(6.0706, abs=1e-4)
  assert got["Curriculum/terrain_levels/stairs_up"][3135] == pytest.approx(6.28, abs=5e-3)


def test_a_missing_run_folder_is_a_one_line_error(monkeypatch, capsys):
  monkeypatch.setattr(sys, "argv", ["level_windows.py", "no/such/run", "--marks", "100"])
  with pytest.raises(SystemExit) as exit_:
    level_windows.main()
  assert exit_.value.code == 2
  assert (
    capsys.readouterr().err.strip().splitlines()[-1].endswith("no run folder no/such/run")
  )
