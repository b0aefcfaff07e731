"""The play env: the task's play config (no pushes, curriculum or time-outs) on a
chosen terrain and level, with an optional fixed command and a camera for video."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.terrains import TerrainEntityCfg
from tensordict import TensorDict

from dreamwaq.export import contract as io
from dreamwaq.export.sim2sim import TERRAINS, Command
from dreamwaq.rendering import VideoFormat
from dreamwaq.tasks import layout
from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.registry import TaskSpec

ONE_TYPE_COLUMNS = 2
"""Columns of a single-type grid: a slope's pyramid and pit forms."""


@dataclass(frozen=True)
class PlayScene:
  num_envs: int = 1
  terrain: str | None = None
  """``flat``, a terrain type, or None for the training mix."""
  level: int | None = None
  """Terrain row (difficulty) every robot starts on; None: spread over all rows."""
  command: Command | None = None
  """Fixed (v_x, v_y, yaw rate); None: resampled as in training."""
  follow: bool = False
  """One robot up close (the seed's mini_test) instead of robot 0 and its neighbours."""


def play_env_cfg(
  task: TaskSpec,
  scene: PlayScene,
  video: VideoFormat | None = None,
  trained: A1EnvSettings | None = None,
) -> ManagerBasedRlEnvCfg:
  """The task's play env for ``scene``, otherwise as the ``trained`` settings (the
  policy's; default: the task's); ValueError for a choice that does not fit."""
  if scene.num_envs <= 0:
    raise ValueError(f"--num_envs must be positive, got {scene.num_envs}")
  if scene.terrain is not None and scene.terrain not in TERRAINS:
    choices = ", ".join(TERRAINS)
    raise ValueError(f"unknown terrain {scene.terrain!r}; choose from {choices}")
  cfg = task.env_cfg(_settings(scene, trained or A1EnvSettings()), play=True)
  if scene.terrain == "flat":
    cfg.scene.terrain = TerrainEntityCfg(terrain_type="plane")
  cfg.scene.num_envs = scene.num_envs
  if scene.command is not None:
    fix_command(cfg, task, scene.command)
  viewer = cfg.viewer
  viewer.distance, viewer.elevation = (1.2, -10.0) if scene.follow else (3.0, -20.0)
  viewer.max_extra_envs = 0 if scene.follow else min(scene.num_envs - 1, 4)
  # Software GL (no GPU) pays ~50x per frame for shadows and reflections.
  viewer.enable_shadows = viewer.enable_reflections = False
  if video is not None:
    viewer.width, viewer.height = video.width, video.height
  return cfg


def policy_inputs(task: TaskSpec, obs: TensorDict) -> tuple[torch.Tensor, ...]:
  """The contract's inputs, in order, from the env's observation groups."""
  if task.kind == "estimator":
    return obs["actor"], obs["history"]  # ``actor`` is the newest history frame.
  if task.kind == "oracle":
    actor = obs["actor"]
    return actor[:, : layout.PROPRIO_DIM], actor[:, layout.PROPRIO_DIM :]
  return (obs["actor"],)


def _settings(scene: PlayScene, trained: A1EnvSettings) -> A1EnvSettings:
  """The trained settings with the scene's terrain: a level is built alone, as one
  row of the training grid's difficulty; without one, every training row and robots
  spread over them."""
  settings = replace(trained, max_init_terrain_level=trained.terrain_rows - 1)
  if scene.terrain not in (None, "flat"):
    settings.terrain_types = (scene.terrain,)
    settings.terrain_cols = ONE_TYPE_COLUMNS
  if scene.level is not None:
    if scene.terrain == "flat":
      raise ValueError("--level needs a terrain type (flat ground has no levels)")
    difficulty = level_difficulty(scene.level)
    settings.terrain_rows, settings.difficulty_range = 1, (difficulty, difficulty)
  return settings


def level_difficulty(level: int) -> float:
  """The difficulty of row ``level`` of the training grid (mjlab's curriculum
  generator spreads the difficulty range linearly over the rows)."""
  train = A1EnvSettings()
  if not 0 <= level < train.terrain_rows:
    last = train.terrain_rows - 1
    raise ValueError(f"terrain row {level}: choose a row from 0 to {last}")
  low, high = train.difficulty_range
  return low + (high - low) * level / (train.terrain_rows - 1)


def fix_command(cfg: ManagerBasedRlEnvCfg, task: TaskSpec, command: Command) -> None:
  """Every resample draws this command, small ones included; ValueError outside the
  trained ranges."""
  term = cfg.commands[COMMAND_NAME]
  ranges = io.policy_contract(task)["command_ranges"]
  for (name, (low, high)), value in zip(ranges.items(), command, strict=True):
    if not low <= value <= high:
      raise ValueError(
        f"command {name}={value} is outside the trained range [{low}, {high}]"
      )
    setattr(term.ranges, name, (value, value))
  term.min_lin_vel = 0.0
