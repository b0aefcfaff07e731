"""The four tasks of the seed (spec §10), by name."""

from __future__ import annotations

from dataclasses import dataclass

from mjlab.envs import ManagerBasedRlEnvCfg

from dreamwaq.tasks import layout
from dreamwaq.tasks.env_cfg import A1EnvSettings, make_a1_env_cfg


@dataclass(frozen=True)
class TaskSpec:
  name: str
  kind: str
  """Observation kind: ``base``, ``oracle`` or ``estimator``."""
  experiment: str
  """Log folder name, as in the seed (``logs/<experiment>/<run>``)."""
  estimator: str | None
  """``cenet`` (DreamWaQ), ``estnet`` (explicit velocity estimator) or None."""
  policy_input: int
  """Numbers the actor MLP reads: o_t plus what the estimator adds."""
  description: str

  @property
  def group_dims(self) -> dict[str, int]:
    """Size of each observation group the env provides."""
    if self.kind == "base":
      return {"actor": layout.PROPRIO_DIM, "critic": layout.PROPRIO_DIM}
    if self.kind == "oracle":
      return {"actor": layout.CRITIC_DIM, "critic": layout.CRITIC_DIM}
    return {
      "history": layout.HISTORY_DIM,
      "actor": layout.PROPRIO_DIM,
      "critic": layout.CRITIC_DIM,
    }

  def env_cfg(
    self,
    settings: A1EnvSettings | None = None,
    play: bool = False,
    heading: bool | None = None,
  ) -> ManagerBasedRlEnvCfg:
    return make_a1_env_cfg(self.kind, settings, play=play, heading=heading)


_P, _V, _Z = layout.PROPRIO_DIM, layout.VEL_DIM, layout.LATENT_DIM
TASKS: dict[str, TaskSpec] = {
  t.name: t
  for t in (
    TaskSpec("a1_base", "base", "rough_a1", None, _P, "blind baseline: o_t only"),
    TaskSpec(
      "a1_oracle", "oracle", "rough_a1_oracle", None, layout.CRITIC_DIM,
      "oracle: o_t + true velocity, push, terrain heights",
    ),
    TaskSpec(
      "a1_waq", "estimator", "rough_a1_waq", "cenet", _P + _V + _Z,
      "DreamWaQ: o_t + CENet velocity and latent from 5-step history",
    ),
    TaskSpec(
      "a1_est", "estimator", "rough_a1_est", "estnet", _P + _V,
      "estimator baseline: o_t + EstNet velocity from 5-step history",
    ),
  )
}  # fmt: skip


def get_task(name: str) -> TaskSpec:
  """The task of that name, or a one-line error naming the choices."""
  try:
    return TASKS[name]
  except KeyError:
    raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}") from None
