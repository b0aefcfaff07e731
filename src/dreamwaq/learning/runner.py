"""The training runner: mjlab's, with atomic checkpoints that hold everything a
resume needs, a NaN/Inf guard and a signal stop once per iteration, a one-line
progress report per iteration and the estimator's scalars in TensorBoard."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import random
import signal
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from mjlab.rl import MjlabOnPolicyRunner
from mjlab.utils.nan_guard import NanGuard
from rsl_rl.env import VecEnv
from rsl_rl.utils.log_writer import LogWriter
from rsl_rl.utils.logger import Logger

from dreamwaq.learning.guard import Checked, first_non_finite
from dreamwaq.learning.ppo import DreamWaqPPO
from dreamwaq.runs import HEADER
from dreamwaq.tasks.curriculum import curriculum_of

TERRAIN_LEVEL = "Curriculum/terrain_levels/mean"
"""The mean terrain level, as the env's curriculum term logs it."""


class TrainingStopped(Exception):
  """Training ended before its last iteration on purpose: a signal, a NaN/Inf or a
  checkpoint that could not be written. The message is one line; ``exit_code`` is
  128 + the signal, or 1 for a failure."""

  def __init__(self, message: str, exit_code: int) -> None:
    super().__init__(message)
    self.exit_code = exit_code


def commit_file(tmp: str, path: str) -> None:
  """Publish a fully written (and flushed) ``tmp`` as ``path`` in one step, durably:
  readers see the old file or the new one, never half of one."""
  os.replace(tmp, path)
  fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


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
      where = first_non_finite(self._state())
      if where is None:
        raise
      self._close_logs()
      raise self._non_finite(where) from None

  def after_step(self) -> None:
    """Once the rollout is complete, before the update learns from it (a NaN there
    can crash the update): stop on a NaN/Inf in the observations or rewards."""
    storage = self.alg.storage
    if storage.step == storage.num_transitions_per_env:
      checked: Checked = {f"observation '{k}'": v for k, v in storage.observations.items()}
      checked["reward"] = storage.rewards
      self._stop_on_non_finite(checked)

  def end_iteration(self, it: int, losses: dict[str, float]) -> None:
    """After each update, before rsl_rl may save: stop on a NaN/Inf in the losses or
    the updated networks and normalisers without saving (the last good checkpoint
    stays the newest), or on a signal after saving."""
    self._stop_on_non_finite({f"loss '{k}'": v for k, v in losses.items()} | self._state())
    self.iteration = it + 1
    if self.stop_signal is not None:
      name = signal.Signals(self.stop_signal).name
      saved = "nothing saved on this rank"
      if self.logger.writer is not None:  # rsl_rl's rule: rank 0 writes checkpoints.
        path = os.path.join(self.logger.log_dir, f"model_{it}.pt")
        self.save(path)
        saved = f"saved {path}"
      raise TrainingStopped(
        f"stopped by {name} after iteration {it}: {saved}; continue with --resume",
        128 + self.stop_signal,
      )

  def save(self, path: str, infos: dict | None = None) -> None:
    """mjlab's save plus what a resume needs (header, curriculum, random generators,
    counters), written to a temporary file, flushed and renamed into place. A failed
    write (a full disk) removes the temporary file and stops training."""
    tmp = f"{path}.tmp"
    infos = {**(infos or {}), **self._resume_state()}
    upload, self.cfg["upload_model"] = self.cfg["upload_model"], False
    try:
      with open(tmp, "wb") as f:
        self._write(f, infos)
      commit_file(tmp, path)
    except OSError as e:
      Path(tmp).unlink(missing_ok=True)
      raise TrainingStopped(
        f"error: could not write {path} ({e.strerror or e}); {self._kept()}", 1
      ) from None
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
    if curriculum is not None and "curriculum" in infos:
      curriculum.load_state_dict(infos["curriculum"])
    self.logger.restore(infos["counters"])
    # Last: the curriculum's respawn above draws from the generators too.
    set_rng_state(infos["rng"], self.device)
    self.last_checkpoint = path
    return infos

  def _write(self, f: BinaryIO, infos: dict) -> None:
    """mjlab's save into an open file (its ``torch.save`` takes one), synced to disk."""
    super().save(f, infos)  # type: ignore[arg-type]
    f.flush()
    os.fsync(f.fileno())

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
      state["curriculum"] = curriculum.state_dict()
    return state

  def _state(self) -> Checked:
    """The networks' and normalisers' parameters and buffers."""
    modules = {"actor": self.alg.actor, "critic": self.alg.critic}
    if self.alg.estimator is not None:
      modules["estimator"] = self.alg.estimator
    return {
      f"{name}.{k}": v for name, m in modules.items() for k, v in m.state_dict().items()
    }

  def _stop_on_non_finite(self, checked: Checked) -> None:
    """Raise before anything learns from, or saves, a NaN/Inf."""
    where = first_non_finite(checked)
    if where is not None:
      raise self._non_finite(where)

  def _non_finite(self, where: str) -> TrainingStopped:
    return TrainingStopped(
      f"error: {where} at iteration {self.iteration}{self._physics_note()}; "
      f"{self._kept()}",
      1,
    )

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
