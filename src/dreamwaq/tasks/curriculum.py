"""The game-inspired terrain curriculum (legged_gym's rule, as mjlab implements it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.tasks.velocity.mdp import terrain_levels_vel

from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.terrain import terrain_type_of

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


def terrain_levels(env: ManagerBasedRlEnv, env_ids: torch.Tensor) -> dict[str, torch.Tensor]:
  """Promote robots that walked past half a tile, demote those that walked under half
  their commanded distance; log the mean level overall and per terrain type."""
  terrain_levels_vel(env, env_ids, COMMAND_NAME)
  terrain = env.scene.terrain
  levels = terrain.terrain_levels.float()
  names = list(terrain.cfg.terrain_generator.sub_terrains)
  kinds = [terrain_type_of(n) for n in names]
  result = {"mean": levels.mean(), "max": levels.max()}
  for kind in dict.fromkeys(kinds):
    cols = torch.tensor([i for i, k in enumerate(kinds) if k == kind], device=levels.device)
    mask = torch.isin(terrain.terrain_types, cols)
    if mask.any():
      result[kind] = levels[mask].mean()
  return result
