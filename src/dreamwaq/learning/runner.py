"""The training runner: mjlab's, with atomic checkpoints, a one-line progress
report per iteration and the estimator's scalars in TensorBoard."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import statistics

import torch
from mjlab.rl import MjlabOnPolicyRunner
from rsl_rl.env import VecEnv
from rsl_rl.utils.logger import Logger

from dreamwaq.learning.ppo import DreamWaqPPO
from dreamwaq.tasks.curriculum import curriculum_of

TERRAIN_LEVEL = "Curriculum/terrain_levels/mean"
"""The mean terrain level, as the env's curriculum term logs it."""


def commit_file(tmp: str, path: str) -> None:
  """Publish a fully written ``tmp`` as ``path`` in one step, durably: readers see
  the old file or the new one, never half of one."""
  with open(tmp, "rb+") as f:
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, path)
  fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


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
  scalars; prints one progress line per iteration instead of rsl_rl's block."""

  def __init__(self, *args, metrics: dict[str, float], **kwargs) -> None:
    super().__init__(*args, **kwargs)
    self.metrics = metrics

  def log(self, it: int, start_it: int, total_it: int, **kwargs) -> None:
    if self.writer is None:
      return
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
    eta = self.tot_time / done * (total_it - start_it - done)
    print(progress_line(it, total_it, steps / iteration_time, eta, stats), flush=True)


class DreamWaqRunner(MjlabOnPolicyRunner):
  alg: DreamWaqPPO

  def __init__(
    self, env: VecEnv, train_cfg: dict, log_dir: str | None = None, device: str = "cpu"
  ) -> None:
    super().__init__(env, train_cfg, log_dir, device)
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
    )

  def save(self, path: str, infos: dict | None = None) -> None:
    """mjlab's save plus the terrain curriculum, written to a temporary file and
    then committed atomically."""
    tmp = f"{path}.tmp"
    curriculum = curriculum_of(self.env.unwrapped)
    if curriculum is not None:
      infos = {**(infos or {}), "curriculum": curriculum.state_dict()}
    upload, self.cfg["upload_model"] = self.cfg["upload_model"], False
    try:
      super().save(tmp, infos)
    finally:
      self.cfg["upload_model"] = upload
    commit_file(tmp, path)
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
    terrain curriculum.

    rsl_rl saves ``model_N.pt`` once iteration N is done but restarts at N, which
    would run (and number) iteration N twice.
    """
    infos = super().load(path, load_cfg, strict, map_location)
    if load_cfg is None or load_cfg.get("iteration"):
      self.current_learning_iteration += 1
    curriculum = curriculum_of(self.env.unwrapped)
    if curriculum is not None and infos and "curriculum" in infos:
      curriculum.load_state_dict(infos["curriculum"])
    return infos
