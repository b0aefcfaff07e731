"""Small CPU environments shared by the tests (Warp compiles its kernels once per process)."""

from __future__ import annotations

import torch
from mjlab.envs import ManagerBasedRlEnv
from mjlab.terrains import TerrainEntityCfg

from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.registry import get_task

SMALL_TERRAIN = {"terrain_rows": 2, "terrain_cols": 5}
"""Two rows, one column per terrain type: every type, built fast."""
SMALL_TERRAIN_FLAGS = [f"--env={k}={v}" for k, v in SMALL_TERRAIN.items()]
"""``dreamwaq train`` flags for that grid: a tenth of the full grid's build time on the
CPU, where a test trains for the launcher's or the guard's sake, not the terrain's."""


def make_env(task: str, num_envs: int = 4, seed: int = 0, **settings) -> ManagerBasedRlEnv:
  """A task's training env on a small terrain grid."""
  cfg = get_task(task).env_cfg(A1EnvSettings(**(SMALL_TERRAIN | settings)))
  cfg.scene.num_envs = num_envs
  cfg.seed = seed
  return ManagerBasedRlEnv(cfg, device="cpu")


def make_flat_env(
  num_envs: int = 2,
  keep_events: tuple[str, ...] = (),
  njmax: int | None = None,
  env: tuple[str, ...] = (),
) -> ManagerBasedRlEnv:
  """The a1_waq env on a flat plane with nominal dynamics: no randomisation, no
  pushes, no delay, no curriculum (events named in ``keep_events`` stay);
  ``njmax`` replaces the constraint-row budget per env; ``env`` holds
  ``dreamwaq train --env`` assignments."""
  settings = A1EnvSettings(actuation_delay_steps=(0, 0)).overridden(env)
  cfg = get_task("a1_waq").env_cfg(settings)
  cfg.scene.terrain = TerrainEntityCfg(terrain_type="plane")
  cfg.curriculum = {}
  cfg.terminations.pop("out_of_terrain")
  cfg.events = {
    k: v for k, v in cfg.events.items() if k in ("reset_base", "reset_joints") + keep_events
  }
  cfg.events["reset_base"].params["pose_range"] = {}
  cfg.scene.num_envs = num_envs
  cfg.seed = 0
  if njmax is not None:
    cfg.sim.njmax = njmax
  return ManagerBasedRlEnv(cfg, device="cpu")


def zero_actions(env: ManagerBasedRlEnv) -> torch.Tensor:
  return torch.zeros(env.num_envs, 12)
