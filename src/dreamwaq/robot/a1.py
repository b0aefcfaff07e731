"""Unitree A1: every robot constant the project uses, defined once.

Training, playback, export, evaluation and sim-to-sim all read these names; the
exported ``policy.json`` is written from them. Units: m, rad, N·m, s.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
from mjlab.actuator import IdealPdActuatorCfg
from mjlab.entity import EntityArticulationInfoCfg, EntityCfg
from mjlab.utils.spec_config import CollisionCfg

A1_XML: Path = Path(__file__).with_name("a1.xml")

LEGS: tuple[str, ...] = ("FL", "FR", "RL", "RR")
"""Leg order of the action vector and of every per-leg quantity (legged_gym's order)."""

JOINT_NAMES: tuple[str, ...] = tuple(
  f"{leg}_{part}_joint" for leg in LEGS for part in ("hip", "thigh", "calf")
)
"""Joint order of actions and of the joint parts of the observation."""

FOOT_SITES: tuple[str, ...] = tuple(f"{leg}_foot" for leg in LEGS)
FOOT_GEOMS: tuple[str, ...] = tuple(f"{leg}_foot_collision" for leg in LEGS)
GYRO_SENSOR = "imu_ang_vel"
"""The IMU's gyro in a1.xml: body-frame angular velocity, o_t's first part."""
TRUNK_BODY = "trunk"
TRUNK_GEOM = "trunk_collision"


def leg_geoms(parts: tuple[str, ...]) -> tuple[str, ...]:
  """Collision geoms of these parts (``hip``, ``thigh``, ``calf``) of every leg."""
  return tuple(f"{leg}_{part}_collision" for leg in LEGS for part in parts)


DEFAULT_JOINT_POS: dict[str, float] = {
  "FL_hip_joint": 0.1, "FR_hip_joint": -0.1, "RL_hip_joint": 0.1, "RR_hip_joint": -0.1,
  "FL_thigh_joint": 0.8, "FR_thigh_joint": 0.8, "RL_thigh_joint": 1.0, "RR_thigh_joint": 1.0,
  "FL_calf_joint": -1.5, "FR_calf_joint": -1.5, "RL_calf_joint": -1.5, "RR_calf_joint": -1.5,
}  # fmt: skip
"""Default pose (rad): the action's zero and the observation's joint-position origin."""

SPAWN_HEIGHT = 0.42
"""Trunk height above the tile's origin at reset (m)."""

KP = 28.0
"""PD stiffness (N·m/rad), the paper's real-robot gain."""
KD = 0.7
"""PD damping (N·m·s/rad)."""
ACTION_SCALE = 0.25
"""θ_des = θ_default + ACTION_SCALE · a (rad per unit action)."""

EFFORT_LIMITS: dict[str, float] = {"hip": 20.0, "thigh": 55.0, "calf": 55.0}
"""Torque limits (N·m) from the URDF, the values the reproductions trained with."""
VELOCITY_LIMITS: dict[str, float] = {"hip": 52.4, "thigh": 28.6, "calf": 28.6}
"""Joint speed limits (rad/s) from the URDF; documented, not enforced (as in legged_gym)."""


def effort_limit(joint_name: str) -> float:
  """Torque limit (N·m) of a joint by its name."""
  return EFFORT_LIMITS[joint_name.split("_")[1]]


def default_joint_pos() -> list[float]:
  """Default pose in JOINT_NAMES order."""
  return [DEFAULT_JOINT_POS[j] for j in JOINT_NAMES]


def get_spec() -> mujoco.MjSpec:
  return mujoco.MjSpec.from_file(str(A1_XML))


# Robot geoms: contype 2, conaffinity 1. They collide with the terrain (contype 1,
# conaffinity 1) but never with each other: self-collision does not matter for the
# A1's gaits and costs contacts. Feet get friction priority so the randomised foot
# friction is the one MuJoCo uses against any terrain.
A1_COLLISION = CollisionCfg(
  geom_names_expr=(r".*_collision",),
  contype=2,
  conaffinity=1,
  condim={r".*_foot_collision": 3, r".*": 1},
  priority={r".*_foot_collision": 1, r".*": 0},
  friction={r".*_foot_collision": (1.0, 0.005, 0.0001)},
  solref=(0.01, 1.0),  # Stiffer contacts than the default 0.02 s: less sinking and creep.
  solimp=(0.9, 0.95, 0.001),
)


def get_a1_robot_cfg(actuation_delay_steps: tuple[int, int] = (0, 0)) -> EntityCfg:
  """A fresh A1 entity config (a new instance each call: configs get mutated).

  Explicit PD torque actuators (legged_gym style), one group per effort limit, with
  an actuation delay of ``actuation_delay_steps`` physics steps (spec §8: 0–15 ms).
  """
  actuators = tuple(
    IdealPdActuatorCfg(
      target_names_expr=(f".*_{part}_joint",),
      stiffness=KP,
      damping=KD,
      effort_limit=limit,
      delay_min_lag=actuation_delay_steps[0],
      delay_max_lag=actuation_delay_steps[1],
      # One lag per env, drawn when the env resets and held for the episode.
      delay_update_period=10**9 if actuation_delay_steps[1] > 0 else 0,
      delay_per_env_phase=False,
    )
    for part, limit in EFFORT_LIMITS.items()
  )
  return EntityCfg(
    init_state=EntityCfg.InitialStateCfg(
      pos=(0.0, 0.0, SPAWN_HEIGHT),
      joint_pos=dict(DEFAULT_JOINT_POS),
      joint_vel={".*": 0.0},
    ),
    collisions=(A1_COLLISION,),
    spec_fn=get_spec,
    articulation=EntityArticulationInfoCfg(actuators=actuators),
    sort_actuators=True,
  )
