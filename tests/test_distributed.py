"""Multi-GPU training (issue 9) on the CPU: ranks on gloo stand in for GPUs on NCCL
(``DREAMWAQ_GLOO=1`` allows ``--gpus N --device cpu``).

Two ranks train ``a1_waq`` for 3 iterations on 4 envs each, launched as a user would:
``dreamwaq train --gpus 2`` (torchrunx, as mjlab launches) and ``torchrun
--nproc_per_node 2``. ``tests/distributed_train.py`` has each rank dump what it
trained (only rank 0 writes checkpoints), or fail or be signalled on its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import yaml
from rsl_rl.modules import EmpiricalNormalization

from dreamwaq.cli.multi_gpu import GLOO
from dreamwaq.learning.config import runner_cfg
from dreamwaq.learning.distributed import average_normalizers
from dreamwaq.runs import HISTORY
from dreamwaq.tasks.registry import get_task

from .cli import one_line_error
from .envs import SMALL_TERRAIN_FLAGS

REPO = Path(__file__).resolve().parents[1]
ITERATIONS = 3
ENVS = 4
STEPS = runner_cfg(get_task("a1_waq")).num_steps_per_env
"""Env steps per iteration."""
TRAIN = ["--task", "a1_waq", "--headless", "--num_envs", str(ENVS), "--seed", "3",
         "--device", "cpu", *SMALL_TERRAIN_FLAGS]  # fmt: skip


def _train(
  tmp: Path, launch: list[str], flags: list[str], **env: str
) -> tuple[subprocess.CompletedProcess, Path]:
  """``dreamwaq train`` (through tests/distributed_train.py) in a subprocess; returns
  the finished process and the run folder (one: rank 0 alone writes it)."""
  argv = [*launch, "-m", "tests.distributed_train", *TRAIN, *flags, "--log_root", str(tmp)]
  env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", GLOO: "1", **env}
  done = subprocess.run(
    argv, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
  )
  (run,) = (tmp / "rough_a1_waq").iterdir()
  return done, run


def _gpus(
  tmp: Path, flags: list[str], **env: str
) -> tuple[subprocess.CompletedProcess, Path]:
  return _train(tmp, [sys.executable], ["--gpus", "2", *flags], **env)


def _history(run: Path) -> list[dict]:
  return [json.loads(line) for line in (run / HISTORY).read_text().splitlines()]


def _rank_log(run: Path, rank: int) -> str:
  (log,) = (run / "torchrunx").glob(f"*/localhost[[]{rank}[]].log")
  return log.read_text()


def _equal(a, b) -> bool:
  """Nested dicts and lists of tensors and numbers, tensors bit for bit."""
  if isinstance(a, dict):
    return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
  if isinstance(a, (list, tuple)):
    return len(a) == len(b) and all(map(_equal, a, b))
  if isinstance(a, torch.Tensor):
    return a.shape == b.shape and torch.equal(a, b)
  return a == b


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
  """``dreamwaq train --gpus 2``, 3 iterations: (process, run folder, rank dumps)."""
  tmp = tmp_path_factory.mktemp("gpus")
  dumps = tmp_path_factory.mktemp("dumps")
  done, run = _gpus(tmp, ["--max_iterations", str(ITERATIONS)], DUMP_DIR=str(dumps))
  ranks = [torch.load(dumps / f"rank{r}.pt", weights_only=False) for r in range(2)]
  return done, run, ranks


def test_two_ranks_train_the_same_networks_on_their_own_envs(two_ranks):
  done, run, (rank0, rank1) = two_ranks
  assert done.returncode == 0, done.stderr[-3000:]
  # Different seeds, so different rollouts; the same networks, normalisers and
  # optimiser states, bit for bit.
  assert (rank0["seed"], rank1["seed"]) == (3, 4)
  assert not torch.equal(rank0["rewards"], rank1["rewards"])
  assert rank0["iteration"] == rank1["iteration"] == ITERATIONS
  networks = rank0["networks"]
  assert {k.split(".")[0] for k in networks} == {"actor", "critic", "estimator"}
  different = [k for k in networks if not torch.equal(networks[k], rank1["networks"][k])]
  assert different == []
  normalizers = [k for k in networks if k.endswith("normalizer.count")]
  assert len(normalizers) == 3  # The critic's and the estimator's (o_t, velocity).
  for key in normalizers:  # One rank's samples: the pooled statistics keep its count.
    assert networks[key] == ITERATIONS * STEPS * ENVS, key
  for key in ("optimizer", "estimator_optimizer"):
    assert _equal(rank0[key], rank1[key]), key
  # Rank 0's checkpoint is what every rank trained.
  saved = torch.load(run / f"model_{ITERATIONS - 1}.pt", weights_only=False)
  for name in ("actor", "critic", "estimator"):
    state = saved[f"{name}_state_dict"]
    assert all(torch.equal(v, networks[f"{name}.{k}"]) for k, v in state.items()), name
  first = torch.load(run / "model_0.pt", weights_only=False)["actor_state_dict"]
  assert not all(torch.equal(v, saved["actor_state_dict"][k]) for k, v in first.items())


def test_rank_0_alone_writes_the_run_and_the_console(two_ranks):
  done, run, _ = two_ranks
  lines = done.stdout.splitlines()
  progress = [line.split(" |")[0] for line in lines if line.startswith("it ")]
  assert progress == [f"it {i}/{ITERATIONS}" for i in range(ITERATIONS)]
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt", "model_2.pt"]
  assert len(list(run.glob("events.out.tfevents.*"))) == 1
  history = _history(run)
  assert [e["event"] for e in history] == ["start", "done"]
  assert "--gpus" in history[0]["argv"]  # The launcher's command, not torchrunx's.
  assert yaml.safe_load((run / "params" / "train.yaml").read_text())["gpus"] == 2
  assert f"[dreamwaq train] done: {run}" in _rank_log(run, 1)


def test_a_nan_on_one_rank_stops_every_rank_with_one_message(tmp_path):
  done, run = _gpus(tmp_path, ["--max_iterations", "3"], NAN_RANK="1")
  message = (
    f"dreamwaq train: error: NaN in reward on rank 1 at iteration 1; "
    f"last good checkpoint {run / 'model_0.pt'} kept"
  )
  assert done.returncode == 1
  assert done.stderr.strip().splitlines()[-1] == message
  for rank in (0, 1):
    assert _rank_log(run, rank).strip().splitlines()[-1].endswith(f"ERROR: {message}")
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt"]
  end = _history(run)[-1]
  assert (end["event"], end["exit_code"]) == ("stopped", 1)


def test_ctrl_c_stops_every_rank_after_the_same_iteration(tmp_path):
  """Ctrl+C signals the terminal's whole process group: launcher, torchrunx's agent
  and ranks. The ranks save and stop together; the launcher outlives them."""
  argv = [sys.executable, "-m", "dreamwaq.cli.main", "train", *TRAIN, "--gpus", "2",
          "--max_iterations", "20", "--log_root", str(tmp_path)]  # fmt: skip
  env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", GLOO: "1"}
  proc = subprocess.Popen(
    argv,
    cwd=REPO,
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.STDOUT,
    text=True,
    start_new_session=True,
  )
  lines = []
  for line in proc.stdout:
    lines.append(line.rstrip("\n"))
    if line.startswith("it 0/"):
      os.killpg(proc.pid, signal.SIGINT)
      break
  lines += proc.communicate(timeout=120)[0].splitlines()
  assert proc.returncode == 130, "\n".join(lines[-30:])
  (run,) = (tmp_path / "rough_a1_waq").iterdir()
  (stop,) = [line for line in lines if line.startswith("dreamwaq train: stopped by")]
  it = int(stop.split("after iteration ")[1].split(":")[0])
  saved = run / f"model_{it}.pt"
  assert stop == (
    f"dreamwaq train: stopped by SIGINT after iteration {it}: saved {saved}; "
    "continue with --resume"
  )
  assert torch.load(saved, weights_only=False)["iter"] == it
  assert _rank_log(run, 1).strip().splitlines()[-1].endswith(f"ERROR: {stop}")
  end = _history(run)[-1]
  assert (end["event"], end["exit_code"]) == ("stopped", 130)


def test_torchrun_ranks_stop_together_on_one_ranks_signal(tmp_path):
  """SIGTERM to rank 1 alone: both stop after iteration 1, which rank 0 saves."""
  torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
              "--nproc_per_node", "2"]  # fmt: skip
  done, run = _train(tmp_path, torchrun, ["--max_iterations", "3"], SIGTERM_RANK="1")
  saved = run / "model_1.pt"
  message = (
    f"dreamwaq train: stopped by SIGTERM after iteration 1: saved {saved}; "
    "continue with --resume"
  )
  assert done.returncode != 0  # torchrun's report of ranks that exited 143.
  assert done.stderr.splitlines().count(message) == 2, done.stderr[-3000:]
  assert sorted(p.name for p in run.glob("model_*")) == ["model_0.pt", "model_1.pt"]
  end = _history(run)[-1]
  assert (end["event"], end["exit_code"], end["checkpoint"]) == ("stopped", 143, str(saved))


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["--gpus", "0"], "--gpus must be positive, got 0"),
    (["--gpus", "2"], "2 ranks need 2 GPUs; 0 visible"),
    (["--gpus", "2", "--device", "cpu"], "--device cpu: with 2 ranks, rank r trains"),
    (["--gpus", "2", "--device", "cuda:1"], "--device cuda:1: with 2 ranks, rank r trains"),
  ],
)
def test_bad_gpus_are_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, message):
  monkeypatch.delenv(GLOO, raising=False)
  argv = ["--task", "a1_waq", *args, "--log_root", str(tmp_path)]
  assert message in one_line_error(capsys, "train", argv)
  assert list(tmp_path.iterdir()) == []


def test_under_torchrun_gpus_must_match_its_process_count(tmp_path, capsys, monkeypatch):
  monkeypatch.setenv("WORLD_SIZE", "2")
  argv = ["--task", "a1_waq", "--gpus", "3", "--log_root", str(tmp_path)]
  err = one_line_error(capsys, "train", argv)
  assert "--gpus 3: this process is one of 2 ranks started by torchrun" in err


def _pool_worker(rank: int, port: int, samples: list[torch.Tensor]) -> None:
  os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
  torch.distributed.init_process_group("gloo", rank=rank, world_size=len(samples))
  try:
    normalizer = EmpiricalNormalization(3)
    normalizer.update(samples[rank])
    average_normalizers([normalizer])
    pooled = EmpiricalNormalization(3)
    pooled.update(torch.cat(samples))
    torch.testing.assert_close(normalizer.mean, pooled.mean)
    torch.testing.assert_close(normalizer.std, pooled.std)
    assert normalizer.count == samples[rank].shape[0]
  finally:
    torch.distributed.destroy_process_group()


def test_pooled_normalizers_hold_the_statistics_of_every_ranks_samples():
  """Equal-sized samples of different distributions: the union's mean and std."""
  samples = [torch.randn(64, 3) * 2 + 5, torch.randn(64, 3) * 0.5 - 1]
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  mp.spawn(_pool_worker, args=(port, samples), nprocs=2, join=True)
