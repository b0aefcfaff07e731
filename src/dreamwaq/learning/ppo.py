"""PPO with a velocity/context estimator trained beside it (spec §9–§11).

Plugged into rsl_rl as ``dreamwaq.learning.ppo:DreamWaqPPO``. For estimator tasks
it builds the actor's input [o_t, v̂ or v (AdaBoot), z] itself, as an extra
observation group stored in the rollout; on each rollout it trains the estimator
with its own optimiser, then runs rsl_rl's PPO update unchanged. The estimator
output enters the actor as data, so no PPO gradient reaches the estimator.
Without an estimator (``a1_base``, ``a1_oracle``) it is rsl_rl's PPO.
"""

from __future__ import annotations

import torch
from rsl_rl.algorithms import PPO
from rsl_rl.env import VecEnv
from tensordict import TensorDict
from torch import nn

from dreamwaq.learning.adaboot import AdaBoot
from dreamwaq.learning.config import POLICY_INPUT, EstimatorCfg
from dreamwaq.learning.distributed import (
  all_reduce_grads,
  all_reduce_mean,
  broadcast_module,
)
from dreamwaq.learning.estimators import (
  ESTIMATORS,
  BetaSchedule,
  NormalizedEstimator,
  normalize_frames,
)
from dreamwaq.learning.policy import inference_policy
from dreamwaq.learning.samples import VELOCITY, estimator_samples
from dreamwaq.tasks import layout

LOAD_ALL = {
  "actor": True,
  "critic": True,
  "optimizer": True,
  "iteration": True,
  "estimator": True,
}
"""rsl_rl's ``load_cfg`` that restores everything, the estimator included."""
OPTIMIZER_STATE = {
  "optimizer_state_dict": "learning_rate",
  "estimator_optimizer_state_dict": "estimator_learning_rate",
  "estimator_scheduler_state_dict": None,
}
"""Optimiser entries of a checkpoint, each with the key a slim checkpoint keeps its
learning rate under: the Adam moments are two thirds of a checkpoint, and a resume
rebuilds them within a few updates."""


def slim(saved: dict) -> dict:
  """A checkpoint without its optimiser state, for shipping and for carrying a run
  between machines: networks, normalisers, β, AdaBoot, curriculum, counters and header
  stay, and each optimiser's learning rate; ``DreamWaqPPO.load`` resumes from it."""
  out = {k: v for k, v in saved.items() if k not in OPTIMIZER_STATE}
  for state, rate in OPTIMIZER_STATE.items():
    if rate is not None and state in saved:
      out[rate] = saved[state]["param_groups"][0]["lr"]
  return out


def policy_input_dim(estimator: str) -> int:
  """Size of the actor input of an estimator task: o_t plus the estimate."""
  return layout.PROPRIO_DIM + ESTIMATORS[estimator].output_dim


class DreamWaqPPO(PPO):
  def __init__(
    self,
    *args,
    estimator: dict | None = None,
    resume_learning_rate: bool = True,
    **kwargs,
  ) -> None:
    super().__init__(*args, **kwargs)
    self.resume_learning_rate = resume_learning_rate
    self.configured_learning_rate = self.learning_rate
    """The config's rate, which a load keeps when ``resume_learning_rate`` is off."""
    self.metrics: dict[str, float] = {}
    """Per-update scalars beside the losses (TensorBoard tag → value)."""
    self.estimator: NormalizedEstimator | None = None
    self.adaboot: AdaBoot | None = None
    if estimator is None:
      return
    cfg = EstimatorCfg(**estimator)
    self.estimator_cfg = cfg
    self.estimator = NormalizedEstimator(cfg.name).to(self.device)
    self.estimator_optimizer = torch.optim.Adam(
      self.estimator.net.parameters(), lr=cfg.learning_rate
    )
    self.estimator_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
      self.estimator_optimizer,
      factor=cfg.lr_factor,
      patience=cfg.lr_patience,
      min_lr=cfg.min_learning_rate,
    )
    self.beta = BetaSchedule(cfg.beta_init, cfg.beta_growth, cfg.beta_max)
    if cfg.adaboot:
      self.adaboot = AdaBoot(self.storage.num_envs, self.device)
    self._final_obs: torch.Tensor | None = None

  @staticmethod
  def construct_algorithm(obs: TensorDict, env: VecEnv, cfg: dict, device: str) -> PPO:
    """rsl_rl's construction, with the actor-input group added for estimator tasks
    so the actor is sized for it and the rollout storage keeps it."""
    estimator = cfg["algorithm"].get("estimator")
    if estimator is not None:
      obs = obs.copy()
      size = policy_input_dim(estimator["name"])
      obs[POLICY_INPUT] = torch.zeros(obs.batch_size[0], size, device=obs.device)
    return PPO.construct_algorithm(obs, env, cfg, device)

  # Rollout.

  def act(self, obs: TensorDict) -> torch.Tensor:
    if self.estimator is not None:
      obs = obs.copy()
      obs[POLICY_INPUT] = self.policy_input(obs)
    return super().act(obs)

  def policy_input(self, obs: TensorDict) -> torch.Tensor:
    """[o_t, v̂ or v, z], normalised. In train mode z is sampled and AdaBoot may
    swap in the true velocity; in eval mode z = μ and v̂ is always used."""
    est = self.estimator(obs["history"], sample=self.estimator.training)
    vel, latent = est[:, : layout.VEL_DIM], est[:, layout.VEL_DIM :]
    if self.adaboot is not None and self.estimator.training:
      true_vel = self.estimator.velocity_normalizer(obs["critic"][:, VELOCITY])
      vel = self.adaboot.choose(vel, true_vel)
    o_t = self.estimator.obs_normalizer(obs["actor"])
    return torch.cat([o_t, vel, latent], dim=-1)

  def process_env_step(
    self, obs: TensorDict, rewards: torch.Tensor, dones: torch.Tensor, extras: dict
  ) -> None:
    if self.estimator is not None:
      self.estimator.update_statistics(obs["actor"], obs["critic"][:, VELOCITY])
      if self.adaboot is not None:
        self.adaboot.record(rewards, dones)
    super().process_env_step(obs, rewards, dones, extras)

  def compute_returns(self, obs: TensorDict) -> None:
    self._final_obs = obs["actor"]
    super().compute_returns(obs)

  # Update.

  def update(self) -> dict[str, float]:
    """Train the estimator on the rollout, then the actor and critic (rsl_rl's PPO)."""
    losses = self.update_estimator() if self.estimator is not None else {}
    if self.adaboot is not None:
      self.metrics["AdaBoot/p_boot"] = self.adaboot.update()
    return super().update() | losses

  def update_estimator(self) -> dict[str, float]:
    """Minibatch epochs of the estimator's own loss and optimiser over one rollout."""
    est, cfg = self.estimator, self.estimator_cfg
    raw = estimator_samples(self.storage.observations, self._final_obs, self.storage.dones)
    samples = self._normalized(raw)
    batch_size = samples.batch_size[0] // cfg.num_mini_batches
    sums: dict[str, float] = {}
    vel_error = 0.0
    for _ in range(cfg.num_learning_epochs):
      order = torch.randperm(samples.batch_size[0], device=self.device)
      for i in range(cfg.num_mini_batches):
        idx = order[i * batch_size : (i + 1) * batch_size]
        loss = est.net.loss(samples[idx], self.beta.value)
        self.estimator_optimizer.zero_grad()
        loss.total.backward()
        if self.is_multi_gpu:
          all_reduce_grads(est.net.parameters(), self.gpu_world_size)
        self.estimator_optimizer.step()
        terms = {est.name: loss.total} | {
          f"{est.name}_{k}": v for k, v in loss.terms.items()
        }
        for name, value in terms.items():
          sums[name] = sums.get(name, 0.0) + value.item()
        with torch.no_grad():
          vel_mps = est.velocity_normalizer.inverse(loss.velocity)
          vel_error += (vel_mps - raw["velocity"][idx]).norm(dim=-1).mean().item()
    n = cfg.num_learning_epochs * cfg.num_mini_batches
    losses = {name: total / n for name, total in sums.items()}
    mean_loss = losses[est.name]
    if self.is_multi_gpu:
      mean_loss = all_reduce_mean(mean_loss, self.gpu_world_size, self.device)
    self.estimator_scheduler.step(mean_loss)
    self.metrics["Estimator/velocity_error_mps"] = vel_error / n
    self.metrics["Estimator/learning_rate"] = self.estimator_optimizer.param_groups[0]["lr"]
    if est.name == "cenet":
      self.metrics["Estimator/beta"] = self.beta.value
      self.beta.step()
    return losses

  def _normalized(self, raw: TensorDict) -> TensorDict:
    """Estimator inputs and targets in the units it learns in (current statistics)."""
    est = self.estimator
    with torch.no_grad():
      return TensorDict(
        {
          "history": normalize_frames(est.obs_normalizer, raw["history"]),
          "velocity": est.velocity_normalizer(raw["velocity"]),
          "next_obs": est.obs_normalizer(raw["next_obs"]),
          "next_valid": raw["next_valid"],
        },
        batch_size=raw.batch_size,
      )

  # Modes, checkpoints, multi-GPU.

  def train_mode(self) -> None:
    super().train_mode()
    if self.estimator is not None:
      self.estimator.train()

  def eval_mode(self) -> None:
    super().eval_mode()
    if self.estimator is not None:
      self.estimator.eval()

  def save(self) -> dict:
    saved = super().save()
    if self.estimator is not None:
      saved |= {
        "estimator_state_dict": self.estimator.state_dict(),
        "estimator_optimizer_state_dict": self.estimator_optimizer.state_dict(),
        "estimator_scheduler_state_dict": self.estimator_scheduler.state_dict(),
        "beta": self.beta.value,
      }
      if self.adaboot is not None:
        saved["adaboot"] = self.adaboot.state_dict()
    return saved

  def load(self, loaded_dict: dict, load_cfg: dict | None, strict: bool) -> bool:
    """rsl_rl's load plus the estimator side (``load_cfg["estimator"]``, on by default).

    A slim checkpoint (``slim``) has no optimiser state: the optimisers start fresh
    at its saved learning rates. With ``resume_learning_rate`` off, both optimisers
    run at the config's rates instead (DreamWaqPpoCfg)."""
    load_cfg = load_cfg or LOAD_ALL
    full = "optimizer_state_dict" in loaded_dict
    load_iteration = super().load(
      loaded_dict, {**load_cfg, "optimizer": load_cfg.get("optimizer") and full}, strict
    )
    if load_cfg.get("optimizer") and not full:
      self.learning_rate = loaded_dict["learning_rate"]
      for group in self.optimizer.param_groups:
        group["lr"] = self.learning_rate
    if self.estimator is not None and load_cfg.get("estimator"):
      self.estimator.load_state_dict(loaded_dict["estimator_state_dict"], strict=strict)
      if full:
        self.estimator_optimizer.load_state_dict(
          loaded_dict["estimator_optimizer_state_dict"]
        )
        self.estimator_scheduler.load_state_dict(
          loaded_dict["estimator_scheduler_state_dict"]
        )
      else:
        for group in self.estimator_optimizer.param_groups:
          group["lr"] = loaded_dict["estimator_learning_rate"]
      self.beta.value = loaded_dict["beta"]
      if self.adaboot is not None:
        self.adaboot.load_state_dict(loaded_dict["adaboot"])
    if not self.resume_learning_rate:
      self.learning_rate = self.configured_learning_rate
      for group in self.optimizer.param_groups:
        group["lr"] = self.learning_rate
      if self.estimator is not None:
        for group in self.estimator_optimizer.param_groups:
          group["lr"] = self.estimator_cfg.learning_rate
    return load_iteration

  def broadcast_parameters(self) -> None:
    super().broadcast_parameters()
    if self.estimator is not None:
      broadcast_module(self.estimator)

  def inference_policy(self) -> nn.Module:
    """The deterministic policy (mean action, z = μ): (obs, obs_history) → (actions,
    est_vel) with an estimator, the actor on its observation group otherwise."""
    return inference_policy(self.get_policy(), self.estimator)
