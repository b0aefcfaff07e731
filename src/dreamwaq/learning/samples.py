"""What the estimator learns from one rollout, read from rsl_rl's rollout storage."""

from __future__ import annotations

import torch
from tensordict import TensorDict

from dreamwaq.tasks import layout

VELOCITY = layout.part_slice(layout.PROPRIO + layout.PRIVILEGED, "base_lin_vel")
"""Where the true body velocity v_t lies in the critic group."""


def estimator_samples(
  observations: TensorDict, final_obs: torch.Tensor, dones: torch.Tensor
) -> TensorDict:
  """Flat (history, velocity, next_obs, next_valid) samples of a rollout, in raw units.

  Args:
    observations: rollout storage observations, batch (steps, envs), with the groups
      ``history``, ``actor`` and ``critic`` as the env gave them *before* each step.
    final_obs: the ``actor`` group after the last step.
    dones: (steps, envs, 1), whether the episode ended at that step.

  The velocity target of step k is the true velocity of step k (the critic group
  stored with that step's history); the next-observation target is the following
  step's o_t, invalid where the episode ended because the env has already reset.
  """
  actor = observations["actor"]
  next_obs = torch.cat([actor[1:], final_obs.unsqueeze(0)], dim=0)
  samples = TensorDict(
    {
      "history": observations["history"],
      "velocity": observations["critic"][..., VELOCITY],
      "next_obs": next_obs,
      "next_valid": dones.squeeze(-1) == 0,
    },
    batch_size=observations.batch_size,
  )
  return samples.flatten(0, 1)
