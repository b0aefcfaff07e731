"""benchmarks/pool_evals.py: one checkpoint's eval readings pooled over seeds."""

from __future__ import annotations

import json
import math

import pytest

from .scripts import REPO, load_script

pool_evals = load_script("pool_evals")

# Two `dreamwaq eval` readings of the shipped a1_waq (GPU, --fields 4), seeds 0 and 1.
SEEDS = [
  REPO / f"benchmarks/results/2026-12-01j_h200_fields4/eval/seed{s}/waqp2/eval.json"
  for s in (0, 1)
]


def _rows(path):
  terrain = json.loads(path.read_text())["conditions"]["nominal"]["terrain"]
  return {(t, r["row"]): r for t, g in terrain.items() for r in g["rows"]}


def test_pooling_weights_each_seed_by_its_robots():
  one, two = (_rows(p) for p in SEEDS)
  pooled = pool_evals.pool([json.loads(p.read_text()) for p in SEEDS], "nominal")
  assert set(pooled["success_pct"]) == set(one)
  for key, r in one.items():
    low, high = sorted((r["success_rate"] * 100, two[key]["success_rate"] * 100))
    assert low <= pooled["success_pct"][key] <= high
    assert pooled["robots"][key] == r["robots"] + two[key]["robots"]
  # The same reading twice pools to itself.
  same = pool_evals.pool([json.loads(SEEDS[0].read_text())] * 2, "nominal")
  for key, r in one.items():
    assert same["success_pct"][key] == pytest.approx(r["success_rate"] * 100)
  survival, alive = same["push"]
  push = json.loads(SEEDS[0].read_text())["conditions"]["nominal"]["push"]
  assert survival == pytest.approx(push["survival_pct_at_paper_level"])
  assert 0 < alive <= 100


def test_the_standard_error_is_over_the_readings():
  one, two = (_rows(p) for p in SEEDS)
  pooled = pool_evals.pool([json.loads(p.read_text()) for p in SEEDS], "nominal")
  for key, r in one.items():
    spread = abs(r["success_rate"] - two[key]["success_rate"]) * 100
    assert pooled["success_se"][key] == pytest.approx(spread / 2)  # Two readings.
  single = pool_evals.pool([json.loads(SEEDS[0].read_text())], "nominal")
  assert all(math.isnan(se) for se in single["success_se"].values())
  assert math.isnan(single["push_se"])


def test_the_table_gives_standard_errors_when_asked(capsys):
  files = ",".join(str(p) for p in SEEDS)
  assert pool_evals.main(["--se", f"shipped={files}", f"seed 0={SEEDS[0]}"]) == 0
  shipped, seed0 = capsys.readouterr().out.strip().splitlines()[2:]
  assert shipped.count(" ± ") == 7  # 3 terrains × 2 rows, and push survival.
  assert " ± " not in seed0  # One reading: no spread to read.


def test_the_table_has_a_line_per_label_in_the_evals_order(capsys):
  files = ",".join(str(p) for p in SEEDS)
  assert pool_evals.main([f"shipped={files}", f"seed 0={SEEDS[0]}"]) == 0
  lines = capsys.readouterr().out.strip().splitlines()
  assert lines[0].startswith("| checkpoint | stairs_up (13.3 cm / 16.7 cm) | stairs_down")
  assert [line.split(" | ")[0] for line in lines[2:]] == ["| shipped", "| seed 0"]
  assert lines[2].endswith(" | 512 |") and lines[3].endswith(" | 256 |")


@pytest.mark.parametrize(
  "arg, message",
  [
    ("no-equals-sign", "is not LABEL=EVAL_JSON"),
    ("x=/nonexistent/eval.json", "cannot read /nonexistent/eval.json"),
  ],
)
def test_bad_arguments_are_a_one_line_error(arg, message, capsys):
  assert pool_evals.main([arg]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and message in err[0]


def test_checkpoints_evaluated_on_different_groups_are_a_one_line_error(capsys):
  full_suite = (
    REPO
    / "benchmarks/results/2026-12-01i_h200_push_interval/eval/waqp2_full_suite/eval.json"
  )
  assert pool_evals.main([f"rows 5 and 7={SEEDS[0]}", f"every row={full_suite}"]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert err == ["pool_evals: the checkpoints were evaluated on different groups"]
