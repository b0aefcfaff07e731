"""AdaBoot, adaptive bootstrapping (spec §9).

While training, the actor gets the true velocity instead of the estimate with
probability p_boot = 1 − tanh(CV(R)), R the returns of episodes that just ended:
similar returns across the randomised envs (low CV) mean the policy copes with
what it sees, so the true velocity may be shown more often.
"""

from __future__ import annotations

import torch


def boot_probability(returns: torch.Tensor) -> float:
  """1 − tanh(std(R) / (|mean(R)| + 1e-8)) over episodic returns R."""
  cv = returns.std() / (returns.mean().abs() + 1e-8)
  return float(1.0 - torch.tanh(cv))


class AdaBoot:
  """Tracks episodic returns per env and draws the bootstrap choice per env and step."""

  def __init__(self, num_envs: int, device: str | torch.device) -> None:
    self.p_boot = 0.0
    """Until episodes have ended there is no CV: the actor sees its estimate only."""
    self._running = torch.zeros(num_envs, device=device)
    self._finished: list[torch.Tensor] = []

  def record(self, rewards: torch.Tensor, dones: torch.Tensor) -> None:
    """Add one step's rewards; keep the returns of episodes that ended."""
    self._running += rewards
    ended = dones.view(-1) > 0
    self._finished.append(self._running[ended])
    self._running[ended] = 0.0

  def update(self) -> float:
    """Refresh p_boot from the episodes that ended since the last update (two or more)."""
    finished, self._finished = self._finished, []
    returns = torch.cat(finished) if finished else None
    if returns is not None and returns.numel() >= 2:
      self.p_boot = boot_probability(returns)
    return self.p_boot

  def choose(self, estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per env, the truth with probability p_boot, else the estimate."""
    boot = torch.rand(estimate.shape[0], 1, device=estimate.device) < self.p_boot
    return torch.where(boot, truth, estimate)

  def state_dict(self) -> dict[str, float]:
    return {"p_boot": self.p_boot}

  def load_state_dict(self, state: dict[str, float]) -> None:
    self.p_boot = float(state["p_boot"])
