"""The velocity/context estimators of spec §9–§10 and their losses.

Both read the 5-frame observation history (each frame normalised with the o_t
statistics) and output an estimate whose first ``VEL_DIM`` numbers are the body
velocity in normalised units; CENet appends the latent z.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from rsl_rl.modules import MLP, EmpiricalNormalization
from tensordict import TensorDict
from torch import nn

from dreamwaq.tasks import layout

_V, _Z = layout.VEL_DIM, layout.LATENT_DIM


@dataclass
class EstimatorLoss:
  total: torch.Tensor
  """What the estimator's optimiser minimises."""
  velocity: torch.Tensor
  """The velocity estimate the loss was computed from (normalised units)."""
  terms: dict[str, torch.Tensor]
  """Named parts of ``total``, for logging."""


def reparameterize(
  mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor | None = None
) -> torch.Tensor:
  """z = μ + ε·exp(½ log σ²): a sample that gradients can flow through."""
  eps = torch.randn_like(mu) if noise is None else noise
  return mu + eps * torch.exp(0.5 * logvar)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
  """KL(N(μ, σ²) ‖ N(0, I)) summed over latent dimensions, averaged over the batch."""
  return (-0.5 * (1.0 + logvar - mu.square() - logvar.exp()).sum(dim=-1)).mean()


def masked_mse(
  pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
  """Mean squared error over the rows where ``valid``: targets across an episode
  boundary belong to another episode and must not be learned."""
  weight = valid.to(pred.dtype).unsqueeze(-1)
  count = (weight.sum() * pred.shape[-1]).clamp(min=1.0)
  return ((pred - target).square() * weight).sum() / count


def normalize_frames(
  normalizer: EmpiricalNormalization, history: torch.Tensor
) -> torch.Tensor:
  """Normalise each o_t frame of a flat history with the same o_t statistics."""
  frames = history.unflatten(-1, (layout.HISTORY_LENGTH, layout.PROPRIO_DIM))
  return normalizer(frames).flatten(-2)


class CENet(nn.Module):
  """Context-aided estimator: a β-VAE with an explicit velocity head (spec §9).

  The encoder's 35 outputs are three separate heads: v̂ (3), μ (16), log σ² (16).
  The decoder reconstructs the *next* observation from [v̂, z].
  """

  output_dim = _V + _Z

  def __init__(
    self,
    encoder_dims: tuple[int, ...] = (128, 64),
    decoder_dims: tuple[int, ...] = (64, 128, 48),
    activation: str = "elu",
  ) -> None:
    super().__init__()
    self.encoder = MLP(layout.HISTORY_DIM, _V + 2 * _Z, encoder_dims, activation)
    self.decoder = MLP(_V + _Z, layout.PROPRIO_DIM, decoder_dims, activation)

  def encode(
    self, history: torch.Tensor
  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(v̂, μ, log σ²) from a normalised history."""
    out = self.encoder(history)
    return out[..., :_V], out[..., _V : _V + _Z], out[..., _V + _Z :]

  def forward(self, history: torch.Tensor, sample: bool = False) -> torch.Tensor:
    """[v̂, z]; z is sampled while training and μ when deployed."""
    vel, mu, logvar = self.encode(history)
    return torch.cat([vel, reparameterize(mu, logvar) if sample else mu], dim=-1)

  def loss(self, batch: TensorDict, beta: float) -> EstimatorLoss:
    """MSE(v̂, v) + MSE(ô_{t+1}, o_{t+1}) (masked at episode ends) + β·KL."""
    vel, mu, logvar = self.encode(batch["history"])
    recon = self.decoder(torch.cat([vel, reparameterize(mu, logvar)], dim=-1))
    terms = {
      "velocity": F.mse_loss(vel, batch["velocity"]),
      "next_obs": masked_mse(recon, batch["next_obs"], batch["next_valid"]),
      "kl": kl_divergence(mu, logvar),
    }
    total = terms["velocity"] + terms["next_obs"] + beta * terms["kl"]
    return EstimatorLoss(total, vel, terms)


class EstNet(nn.Module):
  """Explicit velocity estimator (Ji et al. 2022): history → v̂, MSE to the true v."""

  output_dim = _V

  def __init__(
    self, hidden_dims: tuple[int, ...] = (128, 64), activation: str = "elu"
  ) -> None:
    super().__init__()
    self.net = MLP(layout.HISTORY_DIM, _V, hidden_dims, activation)

  def forward(self, history: torch.Tensor, sample: bool = False) -> torch.Tensor:
    """v̂ (``sample`` is accepted for CENet's signature: EstNet is deterministic)."""
    return self.net(history)

  def loss(self, batch: TensorDict, beta: float) -> EstimatorLoss:
    """MSE(v̂, v); ``beta`` weighs a KL term EstNet does not have."""
    vel = self.net(batch["history"])
    mse = F.mse_loss(vel, batch["velocity"])
    return EstimatorLoss(mse, vel, {"velocity": mse})


ESTIMATORS: dict[str, type[CENet | EstNet]] = {"cenet": CENet, "estnet": EstNet}


class NormalizedEstimator(nn.Module):
  """An estimator with the running statistics it reads and predicts in.

  The statistics are part of the policy (spec §2): one module keeps them with the
  network so checkpoints, multi-GPU broadcasts and exports carry them together.
  """

  def __init__(self, name: str) -> None:
    super().__init__()
    if name not in ESTIMATORS:
      raise ValueError(f"unknown estimator {name!r}; choose from {', '.join(ESTIMATORS)}")
    self.name = name
    self.net = ESTIMATORS[name]()
    self.obs_normalizer = EmpiricalNormalization(layout.PROPRIO_DIM)
    self.velocity_normalizer = EmpiricalNormalization(layout.VEL_DIM)

  def forward(self, history: torch.Tensor, sample: bool = False) -> torch.Tensor:
    """The estimate from a raw (un-normalised) history."""
    return self.net(normalize_frames(self.obs_normalizer, history), sample)

  def update_statistics(self, obs: torch.Tensor, velocity: torch.Tensor) -> None:
    """Learn the o_t and velocity statistics from one step of raw observations."""
    self.obs_normalizer.update(obs)
    self.velocity_normalizer.update(velocity)


@dataclass
class BetaSchedule:
  """β of CENet's KL term: grows geometrically per update up to a cap (repro)."""

  value: float = 1.0
  growth: float = 1.01
  maximum: float = 4.0

  def step(self) -> float:
    self.value = min(self.value * self.growth, self.maximum)
    return self.value
