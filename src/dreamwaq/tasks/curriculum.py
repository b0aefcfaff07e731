"""The game-inspired terrain curriculum (legged_gym's rule, as mjlab implements it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from mjlab.managers.curriculum_manager import CurriculumTermCfg
from mjlab.managers.manager_base import ManagerTermBase
from mjlab.tasks.velocity.mdp import terrain_levels_vel

from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.terrain import terrain_type_of

if TYPE_CHECKING:
  from mjlab.envs import ManagerBasedRlEnv


class terrain_levels(ManagerTermBase):
  """Promote robots that walked past half a tile, demote those that walked under half
  their commanded distance; log the mean level overall and per terrain type."""

  def __init__(self, cfg: CurriculumTermCfg, env: ManagerBasedRlEnv):
    super().__init__(env)
    names = list(env.scene.terrain.cfg.terrain_generator.sub_terrains)
    kinds = [terrain_type_of(n) for n in names]
    # Column index -> terrain-type index, to average levels per type.
    self._kinds = list(dict.fromkeys(kinds))
    self._kind_of_col = torch.tensor([self._kinds.index(k) for k in kinds], device=env.device)

  def __call__(self, env: ManagerBasedRlEnv, env_ids: torch.Tensor) -> dict[str, torch.Tensor]:
    terrain_levels_vel(env, env_ids, COMMAND_NAME)
    terrain = env.scene.terrain
    levels = terrain.terrain_levels.float()
    kind = self._kind_of_col[terrain.terrain_types]
    sums = torch.zeros(len(self._kinds), device=levels.device).index_add_(0, kind, levels)
    counts = torch.bincount(kind, minlength=len(self._kinds))
    result = {"mean": levels.mean(), "max": levels.max()}
    for i, name in enumerate(self._kinds):
      result[name] = sums[i] / counts[i].clamp(min=1)
    return result
