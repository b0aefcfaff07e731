"""A deployed policy driving an mjlab env: shared by ``play``, ``record`` and ``eval``,
so the three run the policy the same way (the contract's inputs, mean action, z = μ)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from mjlab.envs import ManagerBasedRlEnv, ManagerBasedRlEnvCfg
from mjlab.rl import RslRlVecEnvWrapper
from tensordict import TensorDict
from torch import nn

from dreamwaq.export.deployed import outputs
from dreamwaq.play.scene import policy_inputs
from dreamwaq.play.trace import Trace
from dreamwaq.rendering import VideoFormat
from dreamwaq.tasks.registry import TaskSpec

Act = Callable[[TensorDict], tuple[torch.Tensor, torch.Tensor | None]]
"""Observation → (actions, estimated body velocity in m/s or None without an estimator)."""


def open_env(
  cfg: ManagerBasedRlEnvCfg, device: str, render: bool = False
) -> RslRlVecEnvWrapper:
  """The env of ``cfg`` in rsl_rl's wrapper; ``render`` enables offscreen frames
  (call ``rendering.offscreen_gl`` first)."""
  env = ManagerBasedRlEnv(cfg, device=device, render_mode="rgb_array" if render else None)
  return RslRlVecEnvWrapper(env)


def policy_actor(task: TaskSpec, policy: nn.Module, device: str) -> Act:
  """``policy`` (a deployed module of ``task``, or any module with its contract's
  inputs and outputs) on ``device``, as a function of the env's observation."""
  policy.to(device)

  @torch.inference_mode()
  def act(obs: TensorDict) -> tuple[torch.Tensor, torch.Tensor | None]:
    actions, *estimate = outputs(policy, policy_inputs(task, obs))
    return actions, estimate[0] if estimate else None

  return act


@dataclass
class Playback:
  trace: Trace
  """Robot 0, step by step."""
  frames: list[np.ndarray]
  """Offscreen RGB frames (empty without a video format)."""


def play(
  vec: RslRlVecEnvWrapper, act: Act, steps: int, video: VideoFormat | None = None
) -> Playback:
  """Reset, then run ``steps`` policy steps: trace robot 0 and render at the video's
  frame rate."""
  env = vec.unwrapped
  trace = Trace(dt=env.step_dt)
  frames: list[np.ndarray] = []
  every = video.frame_every(env.step_dt) if video else 0
  obs, _ = vec.reset()
  for step in range(steps):
    actions, estimate = act(obs)
    trace.record(env, actions, estimate)
    obs, _, dones, _ = vec.step(actions)
    trace.mark_reset(dones)
    if video and step % every == 0:
      frames.append(env.render())
  return Playback(trace, frames)
