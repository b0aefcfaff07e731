"""Push robustness, the paper's Table III protocol: robots walk on flat ground with
random commands and are pushed every second; each group of robots gets its own push
level, so a search over levels is one rollout.

A push at level L is training's push (``tasks.events.push_robot``) with
``max_push = (L, L, L)``: a velocity change of U[−L, L] m/s along each world axis,
recorded as d_t for the oracle.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mjlab.envs import ManagerBasedRlEnv, ManagerBasedRlEnvCfg
from mjlab.managers.event_manager import EventTermCfg
from mjlab.terrains import TerrainEntityCfg

from dreamwaq.export.sim2sim import Command
from dreamwaq.play.scene import fix_command
from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.events import push_robot
from dreamwaq.tasks.observations import PUSH_EVENT
from dreamwaq.tasks.registry import TaskSpec

PUSH_INTERVAL_S = 1.0
"""Table III: a push every second."""
PAPER_PUSH_LEVEL = 1.0
"""m/s: the push scale of the paper's training (Table II), where survival is reported."""
PUSH_DEFINITION = (
  "a push at level L changes the trunk's velocity by U[−L, L] m/s along each world axis "
  f"(x, y, z), every {PUSH_INTERVAL_S:g} s, while the robot walks on flat ground"
)
"""What a push level means, for the reports."""
DEFAULT_PUSH_LEVELS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(1, 21))
"""0.1 to 2.0 m/s: brackets Table III's 0.5–1.1 m/s at a 0.1 m/s resolution."""


class push_levels(push_robot):
  """``push_robot`` with a level per robot (m/s): ``levels[i]`` for robot i."""

  def __init__(self, cfg: EventTermCfg, env: ManagerBasedRlEnv):
    super().__init__(cfg, env)
    self.levels = torch.tensor(cfg.params["levels"], device=env.device)

  def __call__(
    self, env: ManagerBasedRlEnv, env_ids: torch.Tensor | None, levels: Sequence[float]
  ) -> None:
    if env_ids is None:
      env_ids = torch.arange(env.num_envs, device=env.device)
    due = self.levels[env_ids]
    for level in torch.unique(due).tolist():
      super().__call__(env, env_ids[due == level], max_push=(level, level, level))


def push_env_cfg(
  task: TaskSpec,
  levels: Sequence[float],
  seed: int,
  command: Command | None = None,
  settings: A1EnvSettings | None = None,
  heading: bool | None = None,
) -> ManagerBasedRlEnvCfg:
  """The play env on flat ground, robot i pushed at ``levels[i]`` every second;
  otherwise as ``settings`` (the ones the policy trained with; default: the task's)
  and ``heading`` (see ``make_a1_env_cfg``)."""
  cfg = task.env_cfg(settings, play=True, heading=heading)
  cfg.scene.terrain = TerrainEntityCfg(terrain_type="plane")
  cfg.scene.num_envs = len(levels)
  cfg.seed = seed
  cfg.events[PUSH_EVENT] = EventTermCfg(
    func=push_levels,
    mode="interval",
    interval_range_s=(PUSH_INTERVAL_S, PUSH_INTERVAL_S),
    params={"levels": tuple(float(v) for v in levels)},
  )
  if command is not None:
    fix_command(cfg, task, command)
  return cfg
