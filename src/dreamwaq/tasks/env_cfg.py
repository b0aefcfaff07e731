"""The A1 rough-terrain environment of DreamWaQ as an mjlab manager-based config."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from mjlab.envs import ManagerBasedRlEnvCfg
from mjlab.envs import mdp as envs_mdp
from mjlab.envs.mdp import dr
from mjlab.envs.mdp.actions import JointPositionActionCfg
from mjlab.managers.curriculum_manager import CurriculumTermCfg
from mjlab.managers.event_manager import EventTermCfg
from mjlab.managers.metrics_manager import MetricsTermCfg
from mjlab.managers.observation_manager import ObservationGroupCfg, ObservationTermCfg
from mjlab.managers.reward_manager import RewardTermCfg
from mjlab.managers.scene_entity_config import SceneEntityCfg
from mjlab.managers.termination_manager import TerminationTermCfg
from mjlab.scene import SceneCfg
from mjlab.sensor import (
  ContactMatch,
  ContactSensorCfg,
  GridPatternCfg,
  ObjRef,
  RayCastSensorCfg,
  TerrainHeightSensorCfg,
)
from mjlab.sim import MujocoCfg, SimulationCfg
from mjlab.tasks.velocity import mdp as vel_mdp
from mjlab.terrains import TerrainEntityCfg
from mjlab.utils.noise import UniformNoiseCfg
from mjlab.viewer import ViewerConfig

from dreamwaq.robot import a1
from dreamwaq.tasks import events, layout, metrics, observations, rewards
from dreamwaq.tasks.commands import DreamWaqVelocityCommandCfg
from dreamwaq.tasks.curriculum import CURRICULUM_TERM, terrain_levels
from dreamwaq.tasks.terrain import TILE_SIZE, dreamwaq_terrain_cfg

# A payload is a point mass at the trunk's centre of mass: mass alone is right.
warnings.filterwarnings("ignore", message="dr.body_mass only randomizes mass")

PHYSICS_DT = 0.005
DECIMATION = 4
CONTACTS_PER_ENV = 16
"""MuJoCo Warp's contact budget, per env on average (all envs share one pool)."""
CONSTRAINT_ROWS_PER_ENV = 128
"""Constraint rows each env may use. Measured on the H100 at 4096 envs: robots on
the training terrain use 1.6-3 contacts and at most 35 rows per env (elliptic cones
give 3 rows per contact); the default budget (1024 rows) cost 14 % of the physics
step (benchmarks/README.md). Overflow is logged as Episode_Metrics/contact_budget_overflow:
0 in every logged iteration of the first four H100 runs (1,636 iterations in all)."""
PLAY_CONTACTS_PER_ENV = 64
PLAY_CONSTRAINT_ROWS_PER_ENV = 256
"""The budgets of play, eval and record envs. MuJoCo Warp checks the model's reference
pose against the per-env budget when it builds: the robot at the world origin with its
legs straight, standing inside whatever tile lies there. On the evaluation's grids that
can be 20 contacts (`dreamwaq eval --terrains stairs_up stairs_down discrete --rows 3 5
7`), more than training's 16. These envs are few, so the room costs nothing that
matters."""
EPISODE_LENGTH_S = 20.0


@dataclass
class A1EnvSettings:
  """The knobs of spec §3–§8 a user may change (defaults: the spec's **default** column)."""

  base_height_target: float = 0.30
  """m above the terrain under the base; the repro used 0.25 (spec §4, tunable)."""
  foot_clearance_target: float = 0.12
  """m of swing-foot centre over the terrain (spec §4, tunable)."""
  push_interval_s: float = 8.0
  """Seconds between pushes while training (repro: 1 s; legged_gym: 15 s; spec §8,
  tunable). At 1 s a standing robot loses more to the pushes' v_z and ω_xy penalties
  than it earns tracking, and PPO learned to fall early (docs/training-notes.md).
  Evaluation pushes every 1 s, the paper's Table III protocol."""
  max_push: tuple[float, float, float] = (1.0, 1.0, 1.0)
  """Largest velocity change per axis (m/s)."""
  actuation_delay_steps: tuple[int, int] = (0, 3)
  """Per-env actuation delay in 5 ms physics steps: 0–15 ms (paper Table II)."""
  friction_range: tuple[float, float] = (0.2, 1.25)
  payload_range: tuple[float, float] = (-1.0, 2.0)
  com_shift: float = 0.05
  kp_range: tuple[float, float] = (0.9, 1.1)
  kd_range: tuple[float, float] = (0.9, 1.1)
  motor_strength_range: tuple[float, float] = (0.9, 1.1)
  command_range: float = 1.0
  """v_x, v_y (m/s) and yaw rate (rad/s) are drawn from U[−range, range]."""
  command_resample_s: float = 10.0
  heading_command: bool = True
  """Training steers toward a random heading, yaw rate = clip(0.5 · heading error, ±range)
  (legged_gym's default, spec §6). Under yaw rates drawn from U[−1, 1] robots walk arcs,
  and even a perfect tracker would be promoted after only 53 % of episodes and demoted
  after 44 % (88 % and 11 % with headings; docs/training-notes.md). Play and evaluation
  draw yaw rates from U[−range, range], the paper's protocol (``dreamwaq eval --heading``
  steers as training does)."""
  heading_stiffness: float = 0.5
  """Yaw rate (rad/s) per rad of heading error."""
  terrain_types: tuple[str, ...] | None = None
  """Restrict the grid to these terrain types (None: the DreamWaQ mix)."""
  difficulty_range: tuple[float, float] = (0.0, 1.0)
  terrain_rows: int = 10
  terrain_cols: int = 20
  terrain_tile_size: float = TILE_SIZE
  """Side of a tile (m); the curriculum's half-tile promotion distance follows it."""
  max_init_terrain_level: int = 5
  height_scan_noise: float = layout.part(layout.PRIVILEGED, "height_scan").noise
  """Half-width (m) of the uniform noise on each height sample the oracle's actor reads
  (spec §2, tunable; the critic's are noise-free). At 0.1 m it is about a fifth of their
  variance in training (docs/training-notes.md)."""
  rewards: dict[str, float] = field(default_factory=lambda: dict(REWARD_WEIGHTS))
  """Weight of each reward term (before the manager's × dt): the paper's Table I, and
  any term of ``EXTRA_REWARD_WEIGHTS`` set by ``--env rewards.TERM=WEIGHT``. A term
  weighted 0 is not built."""

  def obs_noise(self, part: layout.ObsPart) -> float:
    """Half-width of the training noise on ``part`` (in its unit): the layout's, except
    the height samples', which ``height_scan_noise`` sets."""
    noise = self.height_scan_noise if part.name == "height_scan" else part.noise
    if noise < 0:
      raise ValueError(f"{part.name} noise must be at least 0, got {noise}")
    return noise

  @classmethod
  def from_dict(cls, values: Mapping[str, Any]) -> A1EnvSettings:
    """Settings from their ``asdict`` form, as a checkpoint's header holds them (lists
    back to tuples); a field this version does not have is an error naming it."""
    unknown = sorted(set(values) - {f.name for f in fields(cls)})
    if unknown:
      raise ValueError(f"env settings with unknown field(s) {', '.join(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

  def overridden(self, assignments: Sequence[str]) -> A1EnvSettings:
    """A copy with ``FIELD=VALUE`` assignments applied (``dreamwaq train --env``);
    a tuple's values are comma-separated, and ``rewards.TERM=WEIGHT`` sets one reward
    weight (before the manager's × dt)."""
    changes: dict[str, Any] = {}
    rewards = dict(self.rewards)
    settable = [f.name for f in fields(self) if f.name != "rewards"]
    terms = {**EXTRA_REWARD_WEIGHTS, **rewards}
    for assignment in assignments:
      name, sep, text = assignment.partition("=")
      term = name.removeprefix("rewards.")
      if sep and term != name and term in terms:
        rewards[term] = parse_value(text, float(terms[term]), f"--env {name}")
        continue
      if not sep or name not in settable:
        raise ValueError(
          f"--env {assignment!r}: expected FIELD=VALUE, FIELD one of {', '.join(settable)}"
          f", or rewards.TERM=WEIGHT, TERM one of {', '.join(terms)}"
        )
      changes[name] = parse_value(text, getattr(self, name), f"--env {name}")
    settings = replace(self, **changes, rewards=rewards)
    for part in layout.PRIVILEGED:
      settings.obs_noise(part)
    return settings

  def changes(self) -> dict[str, Any]:
    """The fields that differ from the defaults, for records of a run (of the reward
    weights, only the changed ones)."""
    default = asdict(A1EnvSettings())
    changed = {k: v for k, v in asdict(self).items() if v != default[k]}
    if "rewards" in changed:
      changed["rewards"] = {
        k: v for k, v in self.rewards.items() if v != default["rewards"].get(k)
      }
    return changed


def parse_value(text: str, like: object, what: str) -> Any:
  """``text`` as a value of ``like``'s type: a string, a number, a boolean, or a tuple
  of them (comma-separated; a tuple field that defaults to None takes names)."""
  if isinstance(like, bool):
    if text.lower() not in ("true", "false"):
      raise ValueError(f"{what}: {text!r} is not true or false")
    return text.lower() == "true"
  if isinstance(like, str):
    return text
  if isinstance(like, (int, float)):
    try:
      return type(like)(text)
    except ValueError:
      kind = "an integer" if isinstance(like, int) else "a number"
      raise ValueError(f"{what}: {text!r} is not {kind}") from None
  if like is None or isinstance(like, tuple):
    items = [t.strip() for t in text.split(",")]
    if like is None:
      return tuple(items)
    if len(items) != len(like):
      raise ValueError(f"{what}: expected {len(like)} comma-separated values, got {text!r}")
    return tuple(parse_value(t, v, what) for t, v in zip(items, like, strict=True))
  raise ValueError(f"{what}: only strings, numbers, booleans and tuples can be set")


REWARD_WEIGHTS: dict[str, float] = {
  "track_lin_vel": 1.0,
  "track_ang_vel": 0.5,
  "lin_vel_z": -2.0,
  "ang_vel_xy": -0.05,
  "orientation": -0.2,
  "joint_acc": -2.5e-7,
  "joint_power": -2e-5,
  "base_height": -1.0,
  "foot_clearance": -0.01,
  "action_rate": -0.01,
  "smoothness": -0.01,
  "power_distribution": -1e-5,
}
"""Paper Table I; the manager multiplies each by dt = 0.02."""

EXTRA_REWARD_WEIGHTS: dict[str, float] = {"leg_collision": 0.0}
"""Terms beyond the paper's, off unless ``--env rewards.TERM=WEIGHT`` sets them.
``leg_collision``, after legged_gym's ``collision`` (scale −1 there; it counts the thighs
and calves in contact): the number of the control step's 4 physics steps in which a thigh
or calf pushed on the terrain, the way robots trip over obstacle edges
(docs/training-notes.md)."""
LEG_CONTACT_SENSOR = "leg_contact"


def _proprio_term(noisy: bool, history: int = 0) -> ObservationTermCfg:
  return ObservationTermCfg(
    func=observations.proprioception,
    noise=UniformNoiseCfg(
      n_min=tuple(-n for n in layout.noise_vector(layout.PROPRIO)),
      n_max=layout.noise_vector(layout.PROPRIO),
    )
    if noisy
    else None,
    clip=(-layout.OBS_CLIP, layout.OBS_CLIP),
    history_length=history,
  )


def _privileged_terms(s: A1EnvSettings) -> dict[str, ObservationTermCfg]:
  terms = {}
  for part in layout.PRIVILEGED:
    half_width = s.obs_noise(part)
    noise = UniformNoiseCfg(n_min=-half_width, n_max=half_width) if half_width else None
    terms[part.name] = ObservationTermCfg(
      func=observations.PRIVILEGED_TERMS[part.name],
      noise=noise,
      clip=(-layout.OBS_CLIP, layout.OBS_CLIP),
    )
  return terms


def observation_groups(
  kind: str, settings: A1EnvSettings | None = None
) -> dict[str, ObservationGroupCfg]:
  """Observation groups of a task kind: ``base``, ``oracle`` or ``estimator``.

  ``history`` (estimator kinds) comes first: the actor's o_t is its newest frame.
  """
  s = settings or A1EnvSettings()
  critic_terms = {"proprio": _proprio_term(noisy=False)}
  if kind != "base":
    critic_terms |= _privileged_terms(s)
  critic = ObservationGroupCfg(terms=critic_terms, enable_corruption=False)
  if kind == "base":
    actor = ObservationGroupCfg({"proprio": _proprio_term(True)}, enable_corruption=True)
    return {"actor": actor, "critic": critic}
  if kind == "oracle":
    terms = {"proprio": _proprio_term(True)} | _privileged_terms(s)
    return {"actor": ObservationGroupCfg(terms, enable_corruption=True), "critic": critic}
  if kind == "estimator":
    history = ObservationGroupCfg(
      {"proprio": _proprio_term(True, layout.HISTORY_LENGTH)}, enable_corruption=True
    )
    actor = ObservationGroupCfg(
      {"proprio": ObservationTermCfg(func=observations.latest_history_frame)}
    )
    return {"history": history, "actor": actor, "critic": critic}
  raise ValueError(f"unknown observation kind {kind!r}")


def _sensors(s: A1EnvSettings, play: bool) -> tuple:
  height_scan = RayCastSensorCfg(
    name=observations.HEIGHT_SCAN_SENSOR,
    frame=ObjRef(type="body", name=a1.TRUNK_BODY, entity="robot"),
    ray_alignment="yaw",
    pattern=GridPatternCfg(
      size=layout.HEIGHT_SCAN_SIZE, resolution=layout.HEIGHT_SCAN_RESOLUTION
    ),
    max_distance=5.0,
    exclude_parent_body=True,
    include_geom_groups=(0,),  # Terrain only: robot geoms are groups 2 and 3.
  )
  foot_height = TerrainHeightSensorCfg(
    name=rewards.FOOT_HEIGHT_SENSOR,
    frame=tuple(ObjRef(type="site", name=s, entity="robot") for s in a1.FOOT_SITES),
    pattern=GridPatternCfg(size=(0.0, 0.0)),  # One ray straight down per foot.
    ray_alignment="yaw",
    max_distance=2.0,
    include_geom_groups=(0,),
  )
  trunk_contact = ContactSensorCfg(
    name="trunk_contact",
    primary=ContactMatch(mode="geom", pattern=(a1.TRUNK_GEOM,), entity="robot"),
    fields=("found", "force"),
    reduce="none",
    num_slots=1,
    history_length=DECIMATION,
  )
  sensors = (height_scan, foot_height, trunk_contact)
  if s.rewards.get("leg_collision"):
    # Only then: a sensor more changes the compiled kernels of every default run.
    sensors += (
      ContactSensorCfg(
        name=LEG_CONTACT_SENSOR,
        primary=ContactMatch(
          mode="geom", pattern=a1.leg_geoms(("thigh", "calf")), entity="robot"
        ),
        secondary=ContactMatch(mode="body", pattern="terrain"),
        fields=("found", "force"),
        reduce="maxforce",  # A capsule on a plane makes two contacts; keep the loaded one.
        num_slots=1,
        history_length=DECIMATION,
      ),
    )
  if not play:
    return sensors
  feet_contact = ContactSensorCfg(
    name=observations.FEET_CONTACT_SENSOR,
    primary=ContactMatch(mode="geom", pattern=a1.FOOT_GEOMS, entity="robot"),
    secondary=ContactMatch(mode="body", pattern="terrain"),
    fields=("found", "force"),
    reduce="netforce",
    num_slots=1,
  )
  return (*sensors, feet_contact)


def _events(s: A1EnvSettings) -> dict[str, EventTermCfg]:
  trunk = SceneEntityCfg("robot", body_names=(a1.TRUNK_BODY,))
  feet = SceneEntityCfg("robot", geom_names=a1.FOOT_GEOMS)
  return {
    "reset_base": EventTermCfg(
      func=envs_mdp.reset_root_state_uniform,
      mode="reset",
      params={
        "pose_range": {"x": (-1.0, 1.0), "y": (-1.0, 1.0), "yaw": (-math.pi, math.pi)},
        "velocity_range": {},
      },
    ),
    "reset_joints": EventTermCfg(
      func=envs_mdp.reset_joints_by_offset,
      mode="reset",
      params={"position_range": (0.0, 0.0), "velocity_range": (0.0, 0.0)},
    ),
    "pd_gains": EventTermCfg(
      func=events.randomize_pd_and_motor_strength,
      mode="reset",
      params={
        "kp_range": s.kp_range,
        "kd_range": s.kd_range,
        "strength_range": s.motor_strength_range,
      },
    ),
    "foot_friction": EventTermCfg(
      func=dr.geom_friction,
      mode="startup",
      params={
        "asset_cfg": feet,
        "operation": "abs",
        "ranges": s.friction_range,
        "shared_random": True,
      },
    ),
    "payload": EventTermCfg(
      func=dr.body_mass,
      mode="startup",
      params={"asset_cfg": trunk, "operation": "add", "ranges": s.payload_range},
    ),
    "com_shift": EventTermCfg(
      func=dr.body_com_offset,
      mode="startup",
      params={
        "asset_cfg": trunk,
        "operation": "add",
        "ranges": {i: (-s.com_shift, s.com_shift) for i in range(3)},
      },
    ),
    observations.PUSH_EVENT: EventTermCfg(
      func=events.push_robot,
      mode="interval",
      interval_range_s=(s.push_interval_s, s.push_interval_s),
      params={"max_push": s.max_push},
    ),
  }


def _rewards(s: A1EnvSettings) -> dict[str, RewardTermCfg]:
  feet = SceneEntityCfg("robot", site_names=a1.FOOT_SITES)
  funcs = {
    "track_lin_vel": (rewards.track_lin_vel, {}),
    "track_ang_vel": (rewards.track_ang_vel, {}),
    "lin_vel_z": (rewards.lin_vel_z, {}),
    "ang_vel_xy": (rewards.ang_vel_xy, {}),
    "orientation": (rewards.orientation, {}),
    "joint_acc": (rewards.joint_acc, {}),
    "joint_power": (rewards.joint_power, {}),
    "base_height": (rewards.base_height, {"target": s.base_height_target}),
    "foot_clearance": (
      rewards.foot_clearance,
      {"target": s.foot_clearance_target, "asset_cfg": feet},
    ),
    "action_rate": (envs_mdp.action_rate_l2, {}),
    "smoothness": (envs_mdp.action_acc_l2, {}),
    "power_distribution": (rewards.power_distribution, {}),
    # mjlab's count of physics steps with a contact force over the threshold (N).
    "leg_collision": (
      vel_mdp.self_collision_cost,
      {"sensor_name": LEG_CONTACT_SENSOR, "force_threshold": 1.0},
    ),
  }
  return {
    name: RewardTermCfg(func=funcs[name][0], weight=weight, params=funcs[name][1])
    for name, weight in s.rewards.items()
    if weight != 0
  }


def make_a1_env_cfg(
  kind: str,
  settings: A1EnvSettings | None = None,
  play: bool = False,
  heading: bool | None = None,
) -> ManagerBasedRlEnvCfg:
  """The environment of one task kind (``base``, ``oracle``, ``estimator``).

  ``play`` keeps the physics, observations and delays, and drops what only
  training needs: noise-free is *not* implied (a deployed robot is noisy too),
  but pushes, the curriculum and time-outs are off, yaw rates are drawn rather than
  steered by heading, and the feet's contact sensor is added for the plots.
  ``heading`` overrides how yaw is commanded (True: steered toward random headings, as
  in training), e.g. to evaluate under the training's commands.
  """
  s = settings or A1EnvSettings()
  steer = (s.heading_command and not play) if heading is None else heading
  terrain = dreamwaq_terrain_cfg(
    s.terrain_types,
    s.terrain_rows,
    s.terrain_cols,
    difficulty_range=s.difficulty_range,
    tile_size=s.terrain_tile_size,
  )
  cfg = ManagerBasedRlEnvCfg(
    scene=SceneCfg(
      terrain=TerrainEntityCfg(
        terrain_type="generator",
        terrain_generator=terrain,
        max_init_terrain_level=s.max_init_terrain_level,
      ),
      entities={"robot": a1.get_a1_robot_cfg(s.actuation_delay_steps)},
      sensors=_sensors(s, play),
      num_envs=1,
      extent=2.0,
    ),
    observations=observation_groups(kind, s),
    actions={
      "joint_pos": JointPositionActionCfg(
        entity_name="robot",
        actuator_names=a1.JOINT_NAMES,
        scale=a1.ACTION_SCALE,
        use_default_offset=True,
      )
    },
    commands={
      observations.COMMAND_NAME: DreamWaqVelocityCommandCfg(
        entity_name="robot",
        resampling_time_range=(s.command_resample_s, s.command_resample_s),
        rel_standing_envs=0.0,
        rel_heading_envs=1.0 if steer else 0.0,
        heading_command=steer,
        heading_control_stiffness=s.heading_stiffness,
        ranges=DreamWaqVelocityCommandCfg.Ranges(
          lin_vel_x=(-s.command_range, s.command_range),
          lin_vel_y=(-s.command_range, s.command_range),
          ang_vel_z=(-s.command_range, s.command_range),
          heading=(-math.pi, math.pi) if steer else None,
        ),
      )
    },
    events=_events(s),
    rewards=_rewards(s),
    terminations={
      "time_out": TerminationTermCfg(func=envs_mdp.time_out, time_out=True),
      "base_contact": TerminationTermCfg(
        func=vel_mdp.illegal_contact,
        params={"sensor_name": "trunk_contact", "force_threshold": 1.0},
      ),
      "upside_down": TerminationTermCfg(
        func=envs_mdp.bad_orientation, params={"limit_angle": math.radians(70.0)}
      ),
      "out_of_terrain": TerminationTermCfg(
        func=vel_mdp.out_of_terrain_bounds, time_out=True
      ),
    },
    curriculum={CURRICULUM_TERM: CurriculumTermCfg(func=terrain_levels)},
    viewer=ViewerConfig(
      origin_type=ViewerConfig.OriginType.ASSET_BODY,
      entity_name="robot",
      body_name=a1.TRUNK_BODY,
      distance=2.0,
      elevation=-15.0,
      azimuth=135.0,
    ),
    metrics={
      "contact_budget_overflow": MetricsTermCfg(
        func=metrics.contact_budget_overflow, reduce="max"
      ),
    },
    sim=SimulationCfg(
      nconmax=CONTACTS_PER_ENV,
      njmax=CONSTRAINT_ROWS_PER_ENV,
      mujoco=MujocoCfg(
        timestep=PHYSICS_DT, iterations=10, ls_iterations=20, cone="elliptic", impratio=10.0
      ),
    ),
    decimation=DECIMATION,
    episode_length_s=EPISODE_LENGTH_S,
  )
  if play:
    cfg.sim.nconmax, cfg.sim.njmax = PLAY_CONTACTS_PER_ENV, PLAY_CONSTRAINT_ROWS_PER_ENV
    cfg.events.pop(observations.PUSH_EVENT)
    cfg.curriculum = {}
    cfg.terminations.pop("time_out")
    cfg.terminations.pop("out_of_terrain")
    cfg.episode_length_s = 1e9
  return cfg
