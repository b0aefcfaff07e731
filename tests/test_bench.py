"""``dreamwaq bench`` runs end to end on the CPU (speed is measured on the GPU, not here)."""

from __future__ import annotations

import json

from dreamwaq.cli.main import main

from .cli import one_line_error


def test_bench_writes_all_three_rates(tmp_path, capsys):
  out = tmp_path / "bench.json"
  argv = ["bench", "--task", "a1_base", "--num_envs", "4", "--steps", "3"]
  assert (
    main(argv + ["--iterations", "1", "--no_stock", "--device", "cpu", "--out", str(out)])
    == 0
  )
  report = json.loads(out.read_text())
  (result,) = report["results"]
  assert result["task"] == "a1_base" and result["num_envs"] == 4
  assert result["steps_per_iteration"] == 24
  for rate in ("env_steps_per_s", "inference_steps_per_s", "training_steps_per_s"):
    assert result[rate] > 0, rate
  assert report["machine"]["device"] == "cpu"
  assert "a1_base" in capsys.readouterr().out


def test_a_resumed_bench_keeps_what_it_measured_and_measures_the_rest(tmp_path, capsys):
  """A GPU call's time limit may cut a bench short: its file holds what it measured."""
  out = tmp_path / "bench.json"
  argv = ["bench", "--task", "a1_base", "--steps", "2", "--iterations", "1", "--no_stock",
          "--device", "cpu", "--out", str(out)]  # fmt: skip
  assert main([*argv, "--num_envs", "2"]) == 0
  first = json.loads(out.read_text())["results"]
  assert main([*argv, "--num_envs", "2", "3", "--resume"]) == 0
  results = json.loads(out.read_text())["results"]
  assert [r["num_envs"] for r in results] == [2, 3] and results[0] == first[0]
  capsys.readouterr()
  err = one_line_error(
    capsys, "bench", [*argv[1:], "--num_envs", "2", "--steps", "3", "--resume"]
  )
  assert "measured on another device or with other --steps/--iterations" in err


def test_bench_rejects_bad_input(capsys):
  assert main(["bench", "--task", "a1_nope"]) == 2
  assert main(["bench", "--num_envs", "0"]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert err[0].startswith("dreamwaq bench: error: unknown task 'a1_nope'")
  assert "--num_envs must be positive" in err[1]
