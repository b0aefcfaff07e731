"""The sim-to-sim tables of docs/results.md (``benchmarks/sim2sim_matrix.py``)."""

from __future__ import annotations

import sys

import pytest

from .scripts import load_script

matrix = load_script("sim2sim_matrix")


def test_the_sweep_runs_the_shipped_policy_square_on_to_stairs_at_each_speed(
  monkeypatch, capsys
):
  monkeypatch.setattr(
    sys,
    "argv",
    ["sim2sim_matrix.py", "--pretrained", "a1_waq", "--sweep", "--duration", "0.2"],
  )
  matrix.main()
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].startswith("# 0.2 s each: terrain difficulty v_x(m/s) spawn_yaw(deg)")
  rows = [line.split() for line in lines[1:]]
  runs = {(r[0], float(r[1]), float(r[2])) for r in rows}
  assert runs == {
    (t, d, v) for t, d in matrix.SWEEP_TILES for v in matrix.SWEEP_SPEEDS
  } and len(rows) == len(runs)
  assert {r[3] for r in rows} == {"0"}  # square on
  assert {t for t, _ in matrix.SWEEP_TILES} == {"stairs_up", "stairs_down"}
  assert all(
    0.0 <= float(r[4]) < 0.7 * 0.2 + 0.05 for r in rows
  )  # a step's worth of walking
  assert all(r[8] != "-" for r in rows)  # a1_waq estimates its velocity


def test_the_sweep_and_the_yaw_table_are_one_or_the_other(monkeypatch, capsys):
  monkeypatch.setattr(
    sys, "argv", ["sim2sim_matrix.py", "--pretrained", "a1_waq", "--sweep", "--yaws", "0"]
  )
  with pytest.raises(SystemExit) as exit_:
    matrix.main()
  assert exit_.value.code == 2
  assert "not allowed with argument" in capsys.readouterr().err
