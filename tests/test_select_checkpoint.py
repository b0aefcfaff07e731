"""benchmarks/select_checkpoint.py: the rule that picks a checkpoint on the GPU machine,
on real evaluations (seeds 0-1) of three carried checkpoints."""

from __future__ import annotations

import json

import pytest

from .scripts import REPO, load_script

load_script("pool_evals")  # select_checkpoint imports it as its sibling.
select_checkpoint = load_script("select_checkpoint")

RESULTS = REPO / "benchmarks/results"
SHIPPED = [
  RESULTS / f"2026-12-01j_h200_fields4/eval/seed{s}/waqp2/eval.json" for s in (0, 1)
]
WAQC3 = [
  RESULTS / f"2026-12-02d_h200_waqc3/eval/c3_s{s}/waqc3_3135/eval.json" for s in (0, 1)
]
WAQC10 = [
  RESULTS / f"2026-12-02e_h200_waqc10/eval/c10_s{s}/waqc10/eval.json" for s in (0, 1)
]
CARRY = REPO / "benchmarks/carry"  # The runs, as the GPU machine's /root/runs held them.
RUNS = ["--runs", str(CARRY)]


@pytest.fixture(scope="module")
def rows():
  """The three checkpoints as the rule sees them (their runs' curves read once)."""
  evals = [json.loads(p.read_text()) for p in (*SHIPPED, *WAQC10, *WAQC3)]
  groups = [("stairs_up", 5), ("discrete", 5)]
  return select_checkpoint.candidates(evals, groups, CARRY)


def test_the_level_bar_comes_first_then_the_lowest_success(rows):
  read = {r["iteration"]: (round(r["level"], 2), round(r["lowest"], 1)) for r in rows}
  # Level over the 50 iterations ending at each; lowest of the two at seeds 0-1.
  assert read == {2496: (5.71, 78.7), 3136: (5.88, 74.6), 3135: (6.07, 77.5)}
  assert all(r["seeds"] == 2 for r in rows)
  assert select_checkpoint.choose(rows, min_level=6.0)["iteration"] == 3135
  assert select_checkpoint.choose(rows, min_level=5.0)["iteration"] == 2496
  assert select_checkpoint.choose(rows, min_level=6.1) is None


def test_the_chosen_iteration_is_the_last_line_and_none_is_exit_3(capsys):
  files = [str(p) for p in WAQC10]
  assert select_checkpoint.main([*files, *RUNS, "--min-level", "5"]) == 0
  line, chosen = capsys.readouterr().out.strip().splitlines()
  assert line.startswith("2026-12-02_09-49-25_waqc10 3136: level 5.878, 2 reading(s)")
  assert line.endswith("stairs_up:5 74.6 discrete:5 76.0, lowest 74.6") and chosen == "3136"
  assert select_checkpoint.main([*files, *RUNS]) == 3  # Level 6 by default.
  assert capsys.readouterr().out.strip().splitlines()[-1] == "none"


@pytest.mark.parametrize(
  ("args", "message"),
  [
    ([str(WAQC3[0]), *RUNS, "--groups", "stairs_up:3"], "not evaluated on stairs_up row 3"),
    ([str(WAQC3[0])], "no run folder /root/runs/rough_a1_waq/2026-12-02_07-18-22_waqc3"),
    (["/nonexistent/eval.json"], "/nonexistent/eval.json"),
  ],
)
def test_bad_input_is_a_one_line_error(args, message, capsys):
  assert select_checkpoint.main(args) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith("select_checkpoint: ") and message in err[0]


def test_a_group_that_is_not_terrain_and_row_is_a_usage_error(capsys):
  with pytest.raises(SystemExit) as exit_:
    select_checkpoint.main([str(WAQC3[0]), "--groups", "stairs_up"])
  assert exit_.value.code == 2
  assert "'stairs_up' is not TERRAIN:ROW" in capsys.readouterr().err
