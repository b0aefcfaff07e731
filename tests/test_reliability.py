"""Training that survives kills, NaNs and bad input (issue 6), on the CPU.

The reference is ``tiny_run("a1_waq")``: 8 envs, seed 3, 2 iterations, saving
``model_0.pt`` and ``model_1.pt``. Two copies of that run are SIGKILLed in
subprocesses (mid-rollout of iteration 1, and halfway through writing
``model_1.pt``) and resumed.

What a resume reproduces exactly: everything in the checkpoint (networks, every
normaliser, optimiser and scheduler, β, AdaBoot, the terrain curriculum, the random
generators, the counters), so a resumed run is a function of its checkpoint alone:
resuming after a kill and resuming the uninterrupted run's checkpoint give the same
bits. What it cannot reproduce is the simulator mid-episode (poses, episode and
command timers, delay and history buffers are not saved): a resumed run respawns
every robot on its saved tile, so its rollouts, and what is learnt from them, differ
from an uninterrupted run's; the counts the seed fixes (iterations, env steps,
normaliser sample counts, optimiser steps, β) still match.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mjlab.managers.reward_manager import RewardManager
from mjlab.rl import RslRlVecEnvWrapper

from dreamwaq.cli import train
from dreamwaq.cli.main import build_parser, main
from dreamwaq.learning.config import runner_cfg
from dreamwaq.learning.guard import first_non_finite
from dreamwaq.learning.runner import CURRICULUM_STATE, TrainingStopped
from dreamwaq.runs import CHECKPOINT_FORMAT, HEADER, HISTORY
from dreamwaq.tasks.registry import get_task

from .cli import one_line_error
from .envs import SMALL_TERRAIN_FLAGS
from .trained import ITERATIONS, tiny_flags, tiny_run

REPO = Path(__file__).resolve().parents[1]
STEPS = runner_cfg(get_task("a1_waq")).num_steps_per_env
"""Env steps per iteration."""
SMALL = ["--task", "a1_base", "--headless", "--num_envs", "4", "--device", "cpu",
         *SMALL_TERRAIN_FLAGS]  # fmt: skip
"""A cheaper run, for stops that need no reference."""


def _history(run_dir: Path) -> list[dict]:
  return [json.loads(line) for line in (run_dir / HISTORY).read_text().splitlines()]


def _runs(root: Path, experiment: str = "rough_a1_waq") -> list[Path]:
  return sorted(d for d in (root / experiment).iterdir() if d.is_dir())


def _load(path: Path) -> dict:
  return torch.load(path, weights_only=False)


def _differences(a, b, path: str = "") -> list[str]:
  """Paths of the entries of two checkpoints that differ (tensors bit for bit)."""
  if isinstance(a, dict) and isinstance(b, dict):
    keys = sorted(a.keys() | b.keys(), key=str)
    return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{path}/{k}")]
  if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
    pairs = enumerate(zip(a, b))
    return [d for i, (x, y) in pairs for d in _differences(x, y, f"{path}/{i}")]
  if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
    return [] if a.shape == b.shape and torch.equal(a, b) else [path]
  if hasattr(a, "shape"):  # NumPy's generator state.
    return [] if (a == b).all() else [path]
  return [] if a == b else [path]


WALL_CLOCK = "/infos/counters/time_s"
"""Training time so far: the one entry that never repeats."""


@pytest.fixture(scope="module")
def killed(tmp_path_factory) -> dict[str, tuple[int, Path]]:
  """The reference run's twins, SIGKILLed mid-rollout and mid-save (both at once,
  while the reference trains here): {point: (exit status, log root)}."""
  kills = {"step": STEPS + 10, "save": 1}  # Iteration 1's 11th env step; model_1.pt.
  procs = {}
  for point, n in kills.items():
    root = tmp_path_factory.mktemp(f"killed_{point}")
    argv = [sys.executable, "-m", "tests.killed_train", point, str(n),
            *tiny_flags("a1_waq"), "--log_root", str(root)]  # fmt: skip
    procs[point] = (subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL), root)
  tiny_run("a1_waq")
  return {point: (proc.wait(), root) for point, (proc, root) in procs.items()}


def test_a_run_killed_mid_iteration_resumes_exactly_from_its_checkpoint(
  killed, tmp_path, capsys
):
  status, root = killed["step"]
  assert status == -signal.SIGKILL
  (run,) = _runs(root)
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt"]
  assert [e["event"] for e in _history(run)] == ["start"]  # No end: it was killed.
  tiny = tiny_run("a1_waq").checkpoint.parent
  # Up to the kill the run was the reference run, bit for bit.
  assert _differences(_load(run / "model_0.pt"), _load(tiny / "model_0.pt")) == [WALL_CLOCK]

  # `dreamwaq train --resume`: the run's own env count, seed and remaining iteration.
  assert main(["train", "--task", "a1_waq", "--resume", "--device", "cpu",
               "--log_root", str(root)]) == 0  # fmt: skip
  assert f"resumed {run / 'model_0.pt'} at iteration 1" in capsys.readouterr().out
  resumed = _runs(root)[-1]
  assert sorted(p.name for p in resumed.glob("model_*")) == ["model_1.pt"]
  history = _history(resumed)
  assert [e["event"] for e in history] == ["start", "resume", "done"]
  assert history[1]["resumed_from"] == str(run / "model_0.pt")
  assert history[1]["iteration"] == 1 and history[1]["args"]["resume"]

  # The same checkpoint resumed without any kill (the reference's model_0.pt).
  argv = ["train", "--task", "a1_waq", "--resume", "--device", "cpu", "--load_run",
          str(tiny), "--checkpoint", "0", "--log_root", str(tmp_path)]  # fmt: skip
  session = train.start(build_parser().parse_args(argv))
  rng = _load(tiny / "model_0.pt")["infos"]["rng"]
  assert torch.equal(torch.get_rng_state(), rng["torch"])  # Streams continue.
  session.runner.learn(session.iterations, init_at_random_ep_len=True)
  session.env.close()
  after_kill = _load(resumed / "model_1.pt")
  no_kill = _load(session.log_dir / "model_1.pt")
  # Bit for bit, but for the wall clock and the resumed folder's name in the config.
  assert _differences(after_kill, no_kill) == [WALL_CLOCK, "/infos/dreamwaq/agent/load_run"]

  # Against the uninterrupted run: the counts the seed fixes match; what the
  # respawned robots' rollout taught differs (see the module docstring).
  uninterrupted = _load(tiny / "model_1.pt")
  for saved in (after_kill, uninterrupted):
    assert saved["iter"] == 1 and saved["beta"] == pytest.approx(1.01**2)
  infos, expected = after_kill["infos"], uninterrupted["infos"]
  assert _differences(infos["counters"], expected["counters"]) == ["/time_s"]
  assert infos["env_state"] == expected["env_state"]
  for key in ("task", "num_envs", "seed", "until"):
    assert infos[HEADER][key] == expected[HEADER][key], key
  for module, count in (("estimator", "obs_normalizer.count"),
                        ("estimator", "velocity_normalizer.count"),
                        ("critic", "obs_normalizer.count")):  # fmt: skip
    counts = [s[f"{module}_state_dict"][count] for s in (after_kill, uninterrupted)]
    assert torch.equal(*counts), (module, count)
  for key in ("optimizer_state_dict", "estimator_optimizer_state_dict"):
    steps = [s["step"] for s in after_kill[key]["state"].values()]
    assert steps == [s["step"] for s in uninterrupted[key]["state"].values()], key


def test_a_run_killed_mid_save_resumes_from_the_checkpoint_before(killed, capsys):
  status, root = killed["save"]
  assert status == -signal.SIGKILL
  (run,) = _runs(root)
  half = run / "model_1.pt.tmp"  # The half-written file; model_1.pt never appeared.
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt", half.name]
  assert 0 < half.stat().st_size < tiny_run("a1_waq").checkpoint.stat().st_size
  argv = ["train", "--task", "a1_waq", "--resume", "--device", "cpu",
          "--log_root", str(root)]  # fmt: skip
  session = train.start(build_parser().parse_args(argv))
  session.env.close()
  assert f"resumed {run / 'model_0.pt'} at iteration 1" in capsys.readouterr().out
  assert session.runner.current_learning_iteration == 1 and session.iterations == 1


def test_a_checkpoint_holds_everything_a_resume_needs():
  saved = _load(tiny_run("a1_waq").checkpoint)
  infos = saved["infos"]
  assert saved["iter"] == ITERATIONS - 1
  assert {"optimizer_state_dict", "estimator_optimizer_state_dict", "adaboot", "beta",
          "estimator_scheduler_state_dict"} <= saved.keys()  # fmt: skip
  assert infos["env_state"]["common_step_counter"] == ITERATIONS * STEPS  # mjlab's
  assert infos["counters"]["timesteps"] == ITERATIONS * STEPS * 8
  assert infos[CURRICULUM_STATE]["terrain_levels"].shape == (8,)
  assert set(infos["rng"]) == {"torch", "cuda", "numpy", "python"}
  header = infos[HEADER]
  assert header["format"] == CHECKPOINT_FORMAT and header["task"] == "a1_waq"
  assert (header["num_envs"], header["seed"], header["until"]) == (8, 3, ITERATIONS)
  assert header["agent"]["algorithm"]["estimator"]["name"] == "cenet"


def test_a_truncated_checkpoint_is_skipped_for_the_one_before(tmp_path, capsys):
  run = tmp_path / "rough_a1_waq" / "damaged"
  shutil.copytree(tiny_run("a1_waq").checkpoint.parent, run)
  latest = run / "model_1.pt"
  latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 3])
  argv = ["train", "--task", "a1_waq", "--resume", "--device", "cpu",
          "--log_root", str(tmp_path)]  # fmt: skip
  session = train.start(build_parser().parse_args(argv))
  session.env.close()
  out, err = capsys.readouterr()
  assert f"warning: skipping {latest} is not a readable checkpoint (" in err
  assert f"resumed {run / 'model_0.pt'} at iteration 1" in out
  assert session.runner.current_learning_iteration == 1
  # Named explicitly, the damaged file is an error, not a silent substitute.
  err = one_line_error(capsys, "train", [*argv[1:], "--checkpoint", "1"])
  assert f"{latest} is not a readable checkpoint" in err


def _sha256(path: Path) -> str:
  return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_nan_in_the_reward_stops_training_and_keeps_the_last_checkpoint(
  tmp_path, capsys, monkeypatch
):
  """mjlab zeroes NaN reward *terms*; this NaN is in the reward the learner gets."""
  compute = RewardManager.compute
  calls, kept = 0, {}

  def poisoned(self, dt):
    nonlocal calls
    reward = compute(self, dt)
    calls += 1
    if calls == STEPS + 5:  # Iteration 1.
      run = _runs(tmp_path, "rough_a1")[0]
      kept["model_0.pt"] = _sha256(run / "model_0.pt")
      reward[2] = math.nan
    return reward

  monkeypatch.setattr(RewardManager, "compute", poisoned)
  assert main(["train", *SMALL, "--max_iterations", "3", "--log_root", str(tmp_path)]) == 1
  (run,) = _runs(tmp_path, "rough_a1")
  checkpoint = run / "model_0.pt"
  err = capsys.readouterr().err
  assert "Traceback" not in err
  assert err.strip().splitlines()[-1] == (
    f"dreamwaq train: error: NaN in reward at iteration 1; "
    f"last good checkpoint {checkpoint} kept"
  )
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt"]  # Nothing NaN.
  assert _sha256(checkpoint) == kept["model_0.pt"]
  saved = _load(checkpoint)
  assert saved["iter"] == 0
  assert all(v.isfinite().all() for v in saved["actor_state_dict"].values())
  end = _history(run)[-1]
  assert end["event"] == "stopped" and end["exit_code"] == 1 and "NaN" in end["reason"]


def test_a_nan_in_the_physics_is_named_and_dumped_by_mjlabs_nan_guard(
  tmp_path, capsys, monkeypatch
):
  step = RslRlVecEnvWrapper.step
  calls = 0

  def blow_up(self, actions):
    nonlocal calls
    calls += 1
    if calls == STEPS + 3:  # Iteration 1: robot 1's velocities turn NaN.
      self.unwrapped.sim.data.qvel[1] = math.nan
    return step(self, actions)

  monkeypatch.setattr(RslRlVecEnvWrapper, "step", blow_up)
  argv = [*SMALL, "--max_iterations", "2", "--nan_guard", "--log_root", str(tmp_path)]
  assert main(["train", *argv]) == 1
  (run,) = _runs(tmp_path, "rough_a1")
  dumps = run / "nan_dumps"
  assert capsys.readouterr().err.strip().splitlines()[-1] == (
    "dreamwaq train: error: NaN in observation 'actor' at iteration 1 (the physics of "
    f"1 of 4 envs is NaN/Inf; states dumped to {dumps}); last good checkpoint "
    f"{run / 'model_0.pt'} kept"
  )
  assert (dumps / "nan_dump_latest.npz").is_file()


def test_an_update_that_diverges_is_named_not_a_traceback(tmp_path, capsys, monkeypatch):
  """Parameters turned NaN mid-update make rsl_rl's next minibatch fail to sample."""
  step = torch.optim.Adam.step
  ppo = runner_cfg(get_task("a1_base")).algorithm
  updates = ppo.num_learning_epochs * ppo.num_mini_batches  # One iteration's steps.
  calls = 0

  def diverging(self, *args, **kwargs):
    nonlocal calls
    result = step(self, *args, **kwargs)
    calls += 1
    if calls == updates + 1:  # Iteration 1's first step.
      for group in self.param_groups:
        for p in group["params"]:
          p.data.fill_(math.nan)
    return result

  monkeypatch.setattr(torch.optim.Adam, "step", diverging)
  assert main(["train", *SMALL, "--max_iterations", "3", "--log_root", str(tmp_path)]) == 1
  (run,) = _runs(tmp_path, "rough_a1")
  err = capsys.readouterr().err
  assert "Traceback" not in err
  last = err.strip().splitlines()[-1]
  assert last.startswith("dreamwaq train: error: NaN in actor.")
  assert last.endswith(f" at iteration 1; last good checkpoint {run / 'model_0.pt'} kept")
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_iteration_in_progress_and_stops(
  signum, tmp_path, capsys, monkeypatch
):
  step = RslRlVecEnvWrapper.step
  calls = 0

  def signalled(self, actions):
    nonlocal calls
    calls += 1
    if calls == STEPS + 3:  # Iteration 1, mid-rollout.
      os.kill(os.getpid(), signum)
    return step(self, actions)

  monkeypatch.setattr(RslRlVecEnvWrapper, "step", signalled)
  handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
  argv = [*SMALL, "--max_iterations", "3", "--log_root", str(tmp_path)]
  assert main(["train", *argv]) == 128 + signum
  assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
  (run,) = _runs(tmp_path, "rough_a1")
  saved = run / "model_1.pt"
  assert capsys.readouterr().err.strip().splitlines()[-1] == (
    f"dreamwaq train: stopped by {signum.name} after iteration 1: saved {saved}; "
    "continue with --resume"
  )
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt", "model_1.pt"]
  assert _load(saved)["iter"] == 1
  end = _history(run)[-1]
  assert end["event"] == "stopped" and end["exit_code"] == 128 + signum
  assert end["checkpoint"] == str(saved)


def test_a_failed_save_removes_its_partial_file_and_stops(tmp_path, monkeypatch):
  """A disk that fills up during training: the write fails halfway."""
  runner = tiny_run("a1_waq").session.runner
  save = torch.save

  def disk_full(obj, f, *args, **kwargs):
    save(obj, f, *args, **kwargs)
    f.truncate(f.tell() // 2)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

  monkeypatch.setattr(torch, "save", disk_full)
  path = tmp_path / "model_9.pt"
  with pytest.raises(TrainingStopped) as stopped:
    runner.save(str(path))
  assert stopped.value.exit_code == 1
  assert str(stopped.value) == (
    f"error: could not write {path} (No space left on device); last good checkpoint "
    f"{runner.last_checkpoint} kept"
  )
  assert runner.last_checkpoint == str(tiny_run("a1_waq").checkpoint)
  assert list(tmp_path.iterdir()) == []


def test_the_guard_names_the_first_bad_value_in_data_flow_order():
  ok = torch.zeros(3)
  checked = {"observation 'actor'": ok, "reward": ok, "loss 'value'": 0.5, "actor.w": ok}
  assert first_non_finite(checked) is None
  checked["actor.w"] = torch.tensor([0.0, math.nan])
  checked["loss 'value'"] = math.inf
  assert first_non_finite(checked) == "Inf in loss 'value'"
  checked["observation 'actor'"] = torch.tensor([math.nan, 1.0])
  assert first_non_finite(checked) == "NaN in observation 'actor'"


# Bad input: one line, exit 2, before the env is built, nothing written.


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory) -> Path:
  """A log root whose rough_a1_waq runs hold a finished run (``good``), one of a
  future checkpoint format, one from before formats, and damaged files."""
  root = tmp_path_factory.mktemp("checkpoints")
  source = tiny_run("a1_waq").checkpoint
  for run, edit in {
    "good": None,
    "future": lambda s: s["infos"][HEADER].update(format=99, version="9.0.0"),
    "old": lambda s: s["infos"].pop(HEADER),
  }.items():
    (root / "rough_a1_waq" / run).mkdir(parents=True)
    saved = _load(source)
    if edit:
      edit(saved)
    torch.save(saved, root / "rough_a1_waq" / run / "model_1.pt")
  damaged = root / "rough_a1_waq" / "damaged"
  damaged.mkdir()
  (damaged / "model_0.pt").write_bytes(b"not a checkpoint")
  (damaged / "model_1.pt").write_bytes(source.read_bytes()[:1000])
  return root


def _tree(root: Path) -> list[tuple[str, int]]:
  return sorted((str(p.relative_to(root)), p.stat().st_mtime_ns) for p in root.rglob("*"))


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["--task", "a1_waq", "--num_envs", "-4"], "--num_envs must be positive, got -4"),
    (["--task", "a1_waq", "--max_iterations", "0"], "--max_iterations must be positive"),
    (["--task", "a1_base", "--experiment_name", "rough_a1_waq", "--resume",
      "--load_run", "good"], "good/model_1.pt is an a1_waq checkpoint, not a1_base"),
    (["--task", "a1_waq", "--resume", "--load_run", "future"],
     "has checkpoint format 99 (dreamwaq 9.0.0); dreamwaq 0.1.0 reads format 1"),
    (["--task", "a1_waq", "--resume", "--load_run", "old"],
     "has checkpoint no format (an earlier dreamwaq)"),
    (["--task", "a1_waq", "--resume", "--load_run", "damaged", "--checkpoint", "1"],
     "damaged/model_1.pt is not a readable checkpoint"),
    (["--task", "a1_waq", "--resume", "--load_run", "damaged"],
     "nothing to resume: none of 2 checkpoints is readable; "),
    (["--task", "a1_waq", "--resume", "--load_run", "good", "--num_envs", "16"],
     "was trained with 8 envs, not 16: resume with --num_envs 8 or without"),
    (["--task", "a1_waq", "--resume", "--load_run", "good"],
     "is the last iteration (1) its run planned: pass --max_iterations N"),
  ],
)  # fmt: skip
def test_bad_train_input_is_one_line_and_writes_nothing(bad_runs, capsys, args, message):
  before = _tree(bad_runs)
  err = one_line_error(capsys, "train", [*args, "--log_root", str(bad_runs)])
  assert message in err
  assert _tree(bad_runs) == before


@pytest.mark.parametrize("command", ["export", "play"])
def test_export_and_play_refuse_another_checkpoint_format(bad_runs, capsys, command):
  argv = ["--task", "a1_waq", "--log_root", str(bad_runs)]
  err = one_line_error(capsys, command, [*argv, "--load_run", "future"])
  assert "has checkpoint format 99" in err
  err = one_line_error(capsys, command, [*argv, "--load_run", "old"])
  assert "has checkpoint no format" in err


def test_a_read_only_log_root_fails_before_the_env_is_built(tmp_path, capsys, monkeypatch):
  """As the file system refuses it (root ignores permission bits, so chmod cannot)."""
  root = tmp_path / "read_only"
  root.mkdir()

  def refuse(real):
    def call(path, *args, **kwargs):
      if str(path).startswith(str(root)):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
      return real(path, *args, **kwargs)

    return call

  monkeypatch.setattr(os, "open", refuse(os.open))
  monkeypatch.setattr(os, "mkdir", refuse(os.mkdir))
  err = one_line_error(capsys, "train", [*SMALL, "--log_root", str(root)])
  assert f"--log_root: cannot write to {root / 'rough_a1'} (Read-only file system)" in err
  assert list(root.iterdir()) == []


def test_a_full_disk_fails_before_the_env_is_built(tmp_path, capsys, monkeypatch):
  usage = shutil.disk_usage(tmp_path)
  monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=5 * 2**20))
  err = one_line_error(capsys, "train", [*SMALL, "--log_root", str(tmp_path / "logs")])
  assert f"--log_root: {tmp_path / 'logs' / 'rough_a1'} has 5 MB free" in err
  assert list(tmp_path.iterdir()) == []
