"""benchmarks/level_windows.py: runs' curves at marks, read from a carried run's events."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dreamwaq.evaluation.curves import read_curves

from .scripts import REPO, load_script

level_windows = load_script("level_windows")

# `waqc3`, a fine-tune from iteration 2496 to 3135 (its folder resumed an earlier one).
RUN = REPO / "benchmarks/carry/rough_a1_waq/2026-12-02_07-18-22_waqc3"


def test_a_runs_levels_and_tags_at_marks_are_its_50_iteration_means():
  tag = "Episode_Termination/base_contact"
  got = level_windows.windows(RUN, [2600, 3135, 3200], [tag])
  assert list(got)[: len(level_windows.LEVEL_TAGS)] == level_windows.LEVEL_TAGS
  assert list(got)[-1] == tag
  assert all(list(values) == [2600, 3135] for values in got.values())  # 3200: not reached.
  level = read_curves(RUN, [level_windows.TERRAIN_LEVEL]).popitem()[1]
  assert got[level_windows.TERRAIN_LEVEL][3135] == pytest.approx(level.ending_at(3135))
  assert got[level_windows.TERRAIN_LEVEL][3135] == pytest.approx(6.07, abs=0.005)


def test_a_missing_run_folder_is_a_one_line_error():
  script = REPO / "benchmarks/level_windows.py"
  done = subprocess.run(
    [sys.executable, script, "no/such/run", "--marks", "100"],
    capture_output=True,
    text=True,
    check=False,
  )
  assert done.returncode == 2
  assert done.stderr.strip().splitlines()[-1].endswith("no run folder no/such/run")
