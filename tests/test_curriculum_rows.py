"""benchmarks/curriculum_rows.py: where a checkpoint's robots stand in the curriculum."""

from __future__ import annotations

import pytest

from dreamwaq import pretrained
from dreamwaq.learning.runner import CURRICULUM_STATE
from dreamwaq.runs import read_checkpoint
from dreamwaq.tasks.terrain import TERRAIN_TYPES

from .scripts import load_script

curriculum_rows = load_script("curriculum_rows")
curriculum_odds = load_script("curriculum_odds")


def test_robots_promoted_after_every_episode_settle_at_mean_level_6():
  shares = curriculum_rows.all_promoted(10)
  mean = sum(k * x for k, x in enumerate(shares)) / 100
  # The same chain solved as a stationary distribution, by the other script.
  assert mean == pytest.approx(curriculum_odds.settled_level(1.0, 0.0, 10), abs=0.01)
  assert mean == pytest.approx(6.0, abs=0.01)


def test_robots_held_on_the_top_rows_lift_the_mean_level_above_6():
  # Why "mean level >= 6" does not grow with skill: promoted on every row, the mean is
  # 6.0; promoted only half the time on rows 7-9 (held there the rest), it is higher.
  # Without demotion the flow up out of row k, p_k * share_k, is (k + 1) times the flow
  # sent back past the top, so share_k is proportional to (k + 1) / p_k.
  p_up = [1.0] * 7 + [0.5] * 3
  weights = [(k + 1) / p for k, p in enumerate(p_up)]
  expected = sum(k * w for k, w in enumerate(weights)) / sum(weights)
  assert expected == pytest.approx(548 / 82)
  assert curriculum_odds.settled_level(p_up, 0.0, 10) == pytest.approx(expected)
  # Demotions, on the other hand, lower it.
  assert curriculum_odds.settled_level(0.8, 0.1, 10) < 6.0


def test_row_shares_of_the_shipped_checkpoint_count_every_robot_once():
  path = pretrained.checkpoint("a1_waq")
  levels = read_checkpoint(path)["infos"][CURRICULUM_STATE]["terrain_levels"]
  shares = curriculum_rows.row_shares(path)
  assert set(shares) == {"all", *TERRAIN_TYPES}
  assert shares["all"]["robots"] == levels.numel()
  assert sum(v["robots"] for k, v in shares.items() if k != "all") == levels.numel()
  assert shares["all"]["mean_level"] == pytest.approx(
    levels.float().mean().item(), abs=1e-3
  )
  for v in shares.values():
    assert sum(v["row_pct"]) == pytest.approx(100.0, abs=0.6)


def test_a_checkpoint_that_is_not_there_is_a_one_line_error(tmp_path, monkeypatch, capsys):
  monkeypatch.setattr("sys.argv", ["curriculum_rows.py", str(tmp_path / "model_1.pt")])
  with pytest.raises(SystemExit) as e:
    curriculum_rows.main()
  assert e.value.code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1] == (
    f"curriculum_rows.py: error: no checkpoint at {tmp_path / 'model_1.pt'}"
  )
