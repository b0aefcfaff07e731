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


CURRICULUM_TERM = "terrain_levels"
"""The curriculum term's name in the env config."""


def curriculum_of(env: ManagerBasedRlEnv) -> terrain_levels | None:
  """The env's terrain curriculum term, if it has one (play and eval envs do not)."""
  manager = env.curriculum_manager
  if CURRICULUM_TERM not in manager.active_terms:
    return None
  return manager.get_term_cfg(CURRICULUM_TERM).func


class terrain_levels(ManagerTermBase):
  """Promote robots that walked past half a tile, demote those that walked under half
  their commanded distance; log the mean level overall and per terrain type.

  An episode that did not start at step 0 is not judged. rsl_rl starts every env's
  first episode at a random step to spread the resets, and the demotion rule asks
  for half the distance of a whole episode: judged, about half the robots would be
  demoted each time training starts, and a resumed run would lose ~0.4 of a level
  and ~150 iterations regaining it.
  """

  def __init__(self, cfg: CurriculumTermCfg, env: ManagerBasedRlEnv):
    super().__init__(env)
    names = list(env.scene.terrain.cfg.terrain_generator.sub_terrains)
    kinds = [terrain_type_of(n) for n in names]
    # Column index -> terrain-type index, to average levels per type.
    self._kinds = list(dict.fromkeys(kinds))
    self._kind_of_col = torch.tensor(
      [self._kinds.index(k) for k in kinds], device=env.device
    )
    self._hold = False
    self._began = torch.zeros(env.num_envs, dtype=torch.long, device=env.device)
    """The env step counter at which each env's episode began."""

  def __call__(
    self, env: ManagerBasedRlEnv, env_ids: torch.Tensor
  ) -> dict[str, torch.Tensor]:
    if not self._hold:
      lived = env.common_step_counter - self._began[env_ids]
      whole = env.episode_length_buf[env_ids] == lived
      terrain_levels_vel(env, env_ids[whole], COMMAND_NAME)
    self._began[env_ids] = env.common_step_counter
    terrain = env.scene.terrain
    levels = terrain.terrain_levels.float()
    kind = self._kind_of_col[terrain.terrain_types]
    sums = torch.zeros(len(self._kinds), device=levels.device).index_add_(0, kind, levels)
    counts = torch.bincount(kind, minlength=len(self._kinds))
    result = {"mean": levels.mean(), "max": levels.max()}
    for i, name in enumerate(self._kinds):
      result[name] = sums[i] / counts[i].clamp(min=1)
    return result

  def state_dict(self) -> dict[str, torch.Tensor]:
    """Each env's terrain row (level) and column (type): what a resumed run needs to
    continue the curriculum where it stopped."""
    terrain = self._env.scene.terrain
    return {
      "terrain_levels": terrain.terrain_levels.cpu().clone(),
      "terrain_types": terrain.terrain_types.cpu().clone(),
    }

  def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
    """Put every env back on its saved tile and respawn it there.

    The respawn is a reset during which promotion is held: robots are not yet at
    their restored tiles, so the distance rule would move them at random.
    """
    terrain = self._env.scene.terrain
    levels, types = state["terrain_levels"], state["terrain_types"]
    if levels.shape != terrain.terrain_levels.shape:
      raise ValueError(
        f"the checkpoint's curriculum holds {levels.numel()} envs, this run has "
        f"{terrain.terrain_levels.numel()}: resume with the same --num_envs"
      )
    terrain.terrain_levels[:] = levels.to(terrain.terrain_levels)
    terrain.terrain_types[:] = types.to(terrain.terrain_types)
    terrain.env_origins[:] = terrain.terrain_origins[
      terrain.terrain_levels, terrain.terrain_types
    ]
    self._hold = True
    try:
      self._env.reset()
    finally:
      self._hold = False
