"""The training runner: mjlab's, with atomic checkpoints that hold everything a
resume needs, a NaN/Inf guard and a signal stop once per iteration, a one-line
progress report per iteration and the estimator's scalars in TensorBoard.

On several ranks (rsl_rl's multi-GPU training) every stop is agreed: a NaN, a signal
or a failed save seen by one rank stops all of them at the same point with the same
message, where the others would otherwise wait for it forever in their next
collective; and the observation normalisers are pooled once per rollout.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import random
import signal
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from mjlab.rl import MjlabOnPolicyRunner
from mjlab.utils.nan_guard import NanGuard
from rsl_rl.env import VecEnv
from rsl_rl.modules import EmpiricalNormalization
from rsl_rl.utils.log_writer import LogWriter
from rsl_rl.utils.logger import Logger

from dreamwaq.learning.distributed import (
  average_normalizers,
  broadcast_object,
  gather_objects,
  max_over_ranks,
)
from dreamwaq.learning.guard import Checked, first_non_finite
from dreamwaq.learning.ppo import DreamWaqPPO
from dreamwaq.runs import HEADER, write_atomically
from dreamwaq.tasks.curriculum import curriculum_of

TERRAIN_LEVEL = "Curriculum/terrain_levels/mean"
"""The mean terrain level, as the env's curriculum term logs it."""
CURRICULUM_STATE = "curriculum"
"""A checkpoint's ``infos`` key for the curriculum term's state (each env's row, column)."""


class TrainingStopped(Exception):
  """Training ended before its last iteration on purpose: a signal, a NaN/Inf or a
  checkpoint that could not be written. The message is one line; ``exit_code`` is
  128 + the signal, or 1 for a failure."""

  def __init__(self, message: str, exit_code: int) -> None:
    super().__init__(message)
    self.exit_code = exit_code


def rng_state(device: str) -> dict[str, Any]:
  """Every random generator training draws from: torch (CPU and the training GPU),
  NumPy and Python's. Restored on resume, a run continues its random streams instead
  of replaying its first iterations' draws."""
  return {
    "torch": torch.get_rng_state(),
    "cuda": torch.cuda.get_rng_state(device) if device.startswith("cuda") else None,
    "numpy": np.random.get_state(),
    "python": random.getstate(),
  }


def set_rng_state(state: dict[str, Any], device: str) -> None:
  """Restore :func:`rng_state` (a GPU state only onto a GPU run)."""
  torch.set_rng_state(state["torch"].cpu())
  if state["cuda"] is not None and device.startswith("cuda"):
    torch.cuda.set_rng_state(state["cuda"].cpu(), device)
  np.random.set_state(state["numpy"])
  random.setstate(state["python"])


def mean_extra(ep_extras: list[dict], key: str) -> float | None:
  """Mean of one logged episode quantity over the steps that reported it."""
  values = [float(torch.as_tensor(e[key]).float().mean()) for e in ep_extras if key in e]
  return statistics.mean(values) if values else None


def progress_line(
  it: int, total_it: int, steps_per_s: float, eta_s: float, stats: dict[str, float | None]
) -> str:
  """``it N/total | steps/s | ETA | name value ...``; N counts from 0 like rsl_rl and
  ``model_N.pt``; quantities not known yet (no episode ended) are left out."""
  eta = datetime.timedelta(seconds=int(eta_s))
  parts = [f"it {it}/{total_it}", f"{steps_per_s:,.0f} steps/s", f"ETA {eta}"]
  parts += [f"{name} {value:.3f}" for name, value in stats.items() if value is not None]
  return " | ".join(parts)


class TrainLogger(Logger):
  """rsl_rl's logger (every TensorBoard scalar it writes) plus the algorithm's own
  scalars; prints one progress line per iteration instead of rsl_rl's block.

  rsl_rl calls ``process_env_step`` after each env step's transition is stored, and
  ``log`` once per iteration, after the update and before it saves a checkpoint: the
  runner's ``on_step()`` and ``on_iteration(it, losses)`` run there, on every rank.
  """

  def __init__(
    self,
    *args,
    metrics: dict[str, float],
    on_step: Callable[[], None],
    on_iteration: Callable[[int, dict[str, float]], None],
    **kwargs,
  ) -> None:
    super().__init__(*args, **kwargs)
    self.metrics = metrics
    self.on_step = on_step
    self.on_iteration = on_iteration
    self.resumed_time = 0.0
    """Training time before this session: the ETA counts this session's pace."""

  def restore(self, counters: dict[str, float]) -> None:
    """Continue the saved env-step and training-time totals (TensorBoard's x-axes)."""
    self.tot_timesteps = counters["timesteps"]
    self.tot_time = self.resumed_time = counters["time_s"]

  def counters(self) -> dict[str, float]:
    """rsl_rl's totals, which it does not save (mjlab saves the env's step counter)."""
    return {"timesteps": self.tot_timesteps, "time_s": self.tot_time}

  def process_env_step(
    self,
    rewards: torch.Tensor,
    dones: torch.Tensor,
    extras: dict,
    intrinsic_rewards: torch.Tensor | None = None,
  ) -> None:
    super().process_env_step(rewards, dones, extras, intrinsic_rewards)
    self.on_step()

  def log(self, it: int, start_it: int, total_it: int, **kwargs) -> None:
    if self.writer is not None:
      self._report(it, start_it, total_it, **kwargs)
    self.on_iteration(it, kwargs["loss_dict"])

  def _report(self, it: int, start_it: int, total_it: int, **kwargs) -> None:
    terrain = mean_extra(self.ep_extras, TERRAIN_LEVEL)
    with contextlib.redirect_stdout(io.StringIO()):
      super().log(it=it, start_it=start_it, total_it=total_it, **kwargs)
    for tag, value in self.metrics.items():
      self.writer.add_scalar(tag, value, it)
    iteration_time = kwargs["collect_time"] + kwargs["learn_time"]
    steps = self.cfg["num_steps_per_env"] * self.num_envs * self.gpu_world_size
    done = it + 1 - start_it
    stats = {
      "reward": statistics.mean(self.rewbuffer) if self.rewbuffer else None,
      "ep_len": statistics.mean(self.lenbuffer) if self.lenbuffer else None,
      "terrain": terrain,
      "vel_err_mps": self.metrics.get("Estimator/velocity_error_mps"),
      "p_boot": self.metrics.get("AdaBoot/p_boot"),
    }
    eta = (self.tot_time - self.resumed_time) / done * (total_it - start_it - done)
    print(progress_line(it, total_it, steps / iteration_time, eta, stats), flush=True)


class DreamWaqRunner(MjlabOnPolicyRunner):
  alg: DreamWaqPPO

  def __init__(
    self,
    env: VecEnv,
    train_cfg: dict,
    log_dir: str | None = None,
    device: str = "cpu",
    header: dict[str, Any] | None = None,
  ) -> None:
    """``header`` (:func:`dreamwaq.runs.checkpoint_header`) goes into every checkpoint;
    without one (the benchmark) checkpoints cannot be resumed by ``dreamwaq train``."""
    # The once-per-iteration guard (after_step, end_iteration) replaces rsl_rl's
    # per-step NaN check.
    train_cfg = {**train_cfg, "check_for_nan": False}
    super().__init__(env, train_cfg, log_dir, device)
    self.header = header
    self.logger = TrainLogger(
      log_dir=log_dir,
      cfg=self.cfg,
      env_cfg=self.env.cfg,
      num_envs=self.env.num_envs,
      is_distributed=self.is_distributed,
      gpu_world_size=self.gpu_world_size,
      gpu_global_rank=self.gpu_global_rank,
      device=self.device,
      metrics=self.alg.metrics,
      on_step=self.after_step,
      on_iteration=self.end_iteration,
    )
    self.iteration = 0
    """The iteration in progress (rsl_rl's counter moves only once one is done)."""
    self.stop_signal: int | None = None
    """Set by a signal handler: save and stop once the current iteration is done."""
    self.last_checkpoint: str | None = None
    """The newest complete checkpoint written (or resumed): what a failure keeps."""
    self.failed_save: str | None = None
    """On several ranks, a checkpoint rank 0 could not write: every rank stops at the
    next agreed check (rank 0 alone stopping would leave the others waiting)."""

  def _configure_multi_gpu(self) -> None:
    """rsl_rl's set-up (NCCL, one GPU per rank), except for ranks on the CPU (the
    tests' stand-in for GPUs, see ``dreamwaq.cli.multi_gpu``): gloo. NCCL reads the
    environment when it starts: NVLink multicast stays off unless asked for."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size > 1:
      os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
    if self.device != "cpu" or world_size == 1:
      super()._configure_multi_gpu()
      return
    self.gpu_world_size, self.is_distributed = world_size, True
    self.gpu_local_rank = int(os.environ["LOCAL_RANK"])
    self.gpu_global_rank = int(os.environ["RANK"])
    self.cfg["multi_gpu"] = {
      "global_rank": self.gpu_global_rank,
      "local_rank": self.gpu_local_rank,
      "world_size": self.gpu_world_size,
    }
    torch.distributed.init_process_group(
      "gloo", rank=self.gpu_global_rank, world_size=world_size
    )

  def learn(
    self, num_learning_iterations: int, init_at_random_ep_len: bool = False
  ) -> None:
    """rsl_rl's loop; an early stop still flushes the logs of its last iteration. An
    update that diverges to NaN can fail inside rsl_rl (sampling from a NaN std):
    that is reported as the NaN it is."""
    self.iteration = self.current_learning_iteration
    try:
      super().learn(num_learning_iterations, init_at_random_ep_len)
    except TrainingStopped:
      self._close_logs()
      raise
    except RuntimeError:
      # The networks are the same on every rank, so every rank gets here together.
      where = first_non_finite(self._state())
      if where is None:
        raise
      self._close_logs()
      raise self._agree(self._non_finite(where))[0] from None
    if self.failed_save is not None:  # The final save, after the other ranks are done.
      raise TrainingStopped(f"{self.failed_save}; {self._kept()}", 1)

  def after_step(self) -> None:
    """Once the rollout is complete, before the update learns from it (a NaN there
    can crash the update): stop on a NaN/Inf in the observations or rewards, or on
    rank 0's failed save. On several ranks, then pool the normalisers' statistics so
    that every rank updates the same networks on the same normalised inputs."""
    storage = self.alg.storage
    if storage.step == storage.num_transitions_per_env:
      checked: Checked = {f"observation '{k}'": v for k, v in storage.observations.items()}
      checked["reward"] = storage.rewards
      stop, _ = self._agree(self._failure(checked))
      if stop is not None:
        raise stop
      if self.is_distributed:
        average_normalizers(self._normalizers())

  def end_iteration(self, it: int, losses: dict[str, float]) -> None:
    """After each update, before rsl_rl may save: stop on a NaN/Inf in the losses or
    the updated networks and normalisers without saving (the last good checkpoint
    stays the newest), or on a signal (any rank's) after rank 0 saved."""
    checked = {f"loss '{k}'": v for k, v in losses.items()} | self._state()
    stop, signum = self._agree(self._failure(checked), self.stop_signal or 0)
    if stop is not None:
      raise stop
    self.iteration = it + 1
    if signum:
      stopped = self._save_and_stop(it, signum)
      if self.is_distributed:  # Rank 0's outcome: it alone saved.
        stopped = TrainingStopped(*broadcast_object((str(stopped), stopped.exit_code)))
      raise stopped

  def _save_and_stop(self, it: int, signum: int) -> TrainingStopped:
    """Save the iteration just done (rsl_rl's rule: rank 0, whose logger writes) and
    say so; a save that failed is the stop instead."""
    name = signal.Signals(signum).name
    saved = "nothing saved"
    if self.logger.writer is not None:
      path = os.path.join(self.logger.log_dir, f"model_{it}.pt")
      try:
        self.save(path)
      except TrainingStopped as failed:
        return failed
      if self.failed_save is not None:
        return TrainingStopped(f"{self.failed_save}; {self._kept()}", 1)
      saved = f"saved {path}"
    return TrainingStopped(
      f"stopped by {name} after iteration {it}: {saved}; continue with --resume",
      128 + signum,
    )

  def save(self, path: str, infos: dict | None = None) -> None:
    """mjlab's save plus what a resume needs (header, curriculum, random generators,
    counters), written to a temporary file, flushed and renamed into place. A failed
    write (a full disk) removes the temporary file and stops training: at once on
    one rank; on several, every rank at the next agreed check."""
    infos = {**(infos or {}), **self._resume_state()}
    upload, self.cfg["upload_model"] = self.cfg["upload_model"], False
    save = super().save  # mjlab's torch.save takes an open file as well as a path.
    try:
      write_atomically(path, lambda f: save(f, infos))  # type: ignore[arg-type]
    except OSError as e:
      failure = f"error: could not write {path} ({e.strerror or e})"
      if not self.is_distributed:
        raise TrainingStopped(f"{failure}; {self._kept()}", 1) from None
      self.failed_save = failure
      return
    finally:
      self.cfg["upload_model"] = upload
    self.last_checkpoint = path
    if upload:
      self.logger.save_model(path, self.current_learning_iteration)

  def load(
    self,
    path: str,
    load_cfg: dict | None = None,
    strict: bool = True,
    map_location: str | None = None,
  ) -> dict:
    """mjlab's load; training resumes *after* the saved iteration, on the saved
    terrain curriculum, counters and random streams.

    rsl_rl saves ``model_N.pt`` once iteration N is done but restarts at N, which
    would run (and number) iteration N twice.
    """
    infos = super().load(path, load_cfg, strict, map_location)
    if load_cfg is None or load_cfg.get("iteration"):
      self.current_learning_iteration += 1
    curriculum = curriculum_of(self.env.unwrapped)
    if curriculum is not None and CURRICULUM_STATE in infos:
      curriculum.load_state_dict(infos[CURRICULUM_STATE])
    self.logger.restore(infos["counters"])
    # Last: the curriculum's respawn above draws from the generators too. The saved
    # streams are rank 0's: other ranks keep their own (seed + rank), or every rank
    # would simulate the same rollouts.
    if self.gpu_global_rank == 0:
      set_rng_state(infos["rng"], self.device)
    self.last_checkpoint = path
    return infos

  def _resume_state(self) -> dict[str, Any]:
    """Beside mjlab's env step counter: the header, curriculum, generators, counters."""
    state: dict[str, Any] = {
      "rng": rng_state(self.device),
      "counters": self.logger.counters(),
    }
    if self.header is not None:
      state[HEADER] = self.header
    curriculum = curriculum_of(self.env.unwrapped)
    if curriculum is not None:
      state[CURRICULUM_STATE] = curriculum.state_dict()
    return state

  def _state(self) -> Checked:
    """The networks' and normalisers' parameters and buffers."""
    modules = {"actor": self.alg.actor, "critic": self.alg.critic}
    if self.alg.estimator is not None:
      modules["estimator"] = self.alg.estimator
    return {
      f"{name}.{k}": v for name, m in modules.items() for k, v in m.state_dict().items()
    }

  def _normalizers(self) -> list[EmpiricalNormalization]:
    """Every running-statistics module of the actor, critic and estimator."""
    modules = [self.alg.actor, self.alg.critic, self.alg.estimator]
    return [
      n for m in modules if m is not None for n in m.modules()
      if isinstance(n, EmpiricalNormalization)
    ]  # fmt: skip

  def _failure(self, checked: Checked) -> str | None:
    """Why this rank must stop without saving: rank 0's failed save, or the first
    NaN/Inf of ``checked``."""
    if self.failed_save is not None:
      return self.failed_save
    where = first_non_finite(checked)
    return None if where is None else self._non_finite(where)

  def _agree(
    self, failure: str | None, signum: int = 0
  ) -> tuple[TrainingStopped | None, int]:
    """The stop for ``failure`` (raised before anything learns from, or saves, a
    NaN/Inf), and the signal to stop on. On several ranks, one all-reduce of two
    flags decides for all: the lowest rank's failure (with rank 0's kept checkpoint,
    gathered only then) or any rank's signal, so all stop at the same point."""
    kept = None
    if self.is_distributed:
      failed, signum = max_over_ranks([failure is not None, signum], self.device)
      if failed:
        reports = gather_objects((failure, self._kept()))
        failure = next(f for f, _ in reports if f is not None)
        kept = reports[0][1]
    if failure is None:
      return None, signum
    return TrainingStopped(f"{failure}; {kept or self._kept()}", 1), signum

  def _non_finite(self, where: str) -> str:
    rank = f" on rank {self.gpu_global_rank}" if self.is_distributed else ""
    return f"error: {where}{rank} at iteration {self.iteration}{self._physics_note()}"

  def _physics_note(self) -> str:
    """Whether the simulator's own state went bad (mjlab's NaN test), and how to see it."""
    bad = NanGuard.detect_nans(self.env.unwrapped.sim.data)
    count = int(bad.sum())
    if not count:
      return ""
    guard = self.env.unwrapped.sim.nan_guard
    dumped = (
      f"states dumped to {guard.output_dir}" if guard.enabled else "--nan_guard dumps them"
    )
    return f" (the physics of {count} of {bad.numel()} envs is NaN/Inf; {dumped})"

  def _kept(self) -> str:
    """What a failure leaves to resume from."""
    if self.last_checkpoint is None:
      return "no checkpoint was saved"
    return f"last good checkpoint {self.last_checkpoint} kept"

  def _close_logs(self) -> None:
    """Flush TensorBoard (rsl_rl stops only W&B-style writers) before an early exit."""
    writer = self.logger.writer
    if isinstance(writer, LogWriter):
      writer.stop()
    elif writer is not None:
      writer.close()
