"""Where one env step of a dreamwaq task goes, and what the physics costs under
alternative solver and collision settings. GPU only; writes JSON.

    python benchmarks/profile_step.py --task a1_waq --num_envs 4096 --out profile.json

Part 1 times each stage of ``ManagerBasedRlEnv.step`` (CUDA-synchronised around each
stage, so the parts add up to a little more than an unprofiled step). Part 2 replays
the physics step alone (``mujoco_warp.step`` in a CUDA graph) on the task's model with
the robots' current states, once per variant: broadphase, cone, solver iterations,
collision geoms, contact budgets. Each variant's result is written as soon as it is
measured, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import mujoco
import mujoco_warp as mjwarp
import numpy as np
import torch
import warp as wp
from mjlab.envs import ManagerBasedRlEnv

from dreamwaq.robot import a1
from dreamwaq.tasks.registry import get_task


def _timer(totals: dict[str, float], name: str, fn: Callable) -> Callable:
  def timed(*args, **kwargs):
    torch.cuda.synchronize()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    torch.cuda.synchronize()
    totals[name] += time.perf_counter() - start
    return result

  return timed


def _ms_per_call(fn: Callable[[], None], calls: int) -> float:
  torch.cuda.synchronize()
  start = time.perf_counter()
  for _ in range(calls):
    fn()
  torch.cuda.synchronize()
  return (time.perf_counter() - start) / calls * 1e3


def step_stages(env: ManagerBasedRlEnv) -> dict[object, tuple[str, ...]]:
  """The methods ``ManagerBasedRlEnv.step`` spends its time in, by owner: what the
  profile times and ``op_count.py`` counts."""
  return {
    env.sim: ("step", "forward", "sense"),
    env.scene: ("update", "write_data_to_sim"),
    env.action_manager: ("process_action", "apply_action"),
    env.observation_manager: ("compute",),
    env.reward_manager: ("compute",),
    env.termination_manager: ("compute",),
    env.command_manager: ("compute",),
    env.event_manager: ("apply",),
    env: ("_reset_idx",),
  }


def stage_breakdown(env: ManagerBasedRlEnv, steps: int) -> dict:
  """Milliseconds per env step of each stage, and of an unprofiled step."""
  actions = torch.zeros(
    env.num_envs, env.action_manager.total_action_dim, device=env.device
  )

  def step() -> None:
    actions.normal_(0.0, 0.5)
    env.step(actions)

  _ms_per_call(step, steps)  # Warm-up: the first resets and falls load more kernels.
  plain_ms = _ms_per_call(step, steps)

  totals: dict[str, float] = defaultdict(float)
  originals = []
  for obj, names in step_stages(env).items():
    for name in names:
      original = getattr(obj, name)
      label = f"{type(obj).__name__}.{name}"
      setattr(obj, name, _timer(totals, label, original))
      originals.append((obj, name))
  profiled_ms = _ms_per_call(step, steps)
  for obj, name in originals:
    delattr(obj, name)  # the instance attribute shadowed the class method
  stages = {k: v / steps * 1e3 for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}
  return {
    "plain_step_ms": plain_ms,
    "env_steps_per_s": env.num_envs / plain_ms * 1e3,
    "profiled_step_ms": profiled_ms,
    "stages_ms": stages,
    "note": "_reset_idx includes the event/curriculum/command work it calls",
  }


def contact_stats(env: ManagerBasedRlEnv) -> dict:
  d = env.sim.wp_data
  nacon = int(d.nacon.numpy()[0])
  nefc = d.nefc.numpy()
  return {
    "ncon_per_env_mean": nacon / env.num_envs,
    "nefc_per_env_mean": float(nefc.mean()),
    "nefc_per_env_max": int(nefc.max()),
    "naconmax": int(d.naconmax),
    "njmax": int(d.njmax),
  }


def physics_variant(
  mjm: mujoco.MjModel,
  qpos: np.ndarray,
  qvel: np.ndarray,
  ctrl: np.ndarray,
  steps: int,
  broadphase: str | None = None,
  cone: int | None = None,
  iterations: int | None = None,
  ls_iterations: int | None = None,
  collide_only: tuple[str, ...] | None = None,
  nconmax: int | None = None,
  njmax: int | None = None,
) -> dict:
  """ms per physics step of the model under one variant, with the given states."""
  mjm = mjm.__copy__()
  if cone is not None:
    mjm.opt.cone = cone
  if iterations is not None:
    mjm.opt.iterations = iterations
  if ls_iterations is not None:
    mjm.opt.ls_iterations = ls_iterations
  if collide_only is not None:
    keep = {
      mujoco.mj_name2id(mjm, mujoco.mjtObj.mjOBJ_BODY, f"robot/{b}") for b in collide_only
    }
    for i in range(mjm.ngeom):
      body = mjm.geom_bodyid[i]
      floating = mjm.body_jntnum[mjm.body_rootid[body]] > 0  # the robot, not the terrain
      if floating and body not in keep:
        mjm.geom_contype[i] = mjm.geom_conaffinity[i] = 0
  m = mjwarp.put_model(mjm)
  if broadphase is not None:
    m.opt.broadphase = {
      "nxn": mjwarp.BroadphaseType.NXN,
      "sap_tile": mjwarp.BroadphaseType.SAP_TILE,
      "sap_segmented": mjwarp.BroadphaseType.SAP_SEGMENTED,
    }[broadphase]
  nworld = qpos.shape[0]
  d = mjwarp.put_data(mjm, mujoco.MjData(mjm), nworld=nworld, nconmax=nconmax, njmax=njmax)
  d.qpos.assign(qpos)
  d.qvel.assign(qvel)
  d.ctrl.assign(ctrl)
  compile_start = time.perf_counter()
  mjwarp.step(m, d)
  wp.synchronize()
  compile_s = time.perf_counter() - compile_start
  with wp.ScopedCapture() as capture:
    mjwarp.step(m, d)
  wp.capture_launch(capture.graph)
  wp.synchronize()
  start = time.perf_counter()
  for _ in range(steps):
    wp.capture_launch(capture.graph)
  wp.synchronize()
  ms = (time.perf_counter() - start) / steps * 1e3
  nefc = d.nefc.numpy()
  return {
    "physics_step_ms": ms,
    "first_step_s": compile_s,
    "ncon_per_env_mean": int(d.nacon.numpy()[0]) / nworld,
    "nefc_per_env_max": int(nefc.max()),
    "broadphase": int(m.opt.broadphase),
    "naconmax": int(d.naconmax),
    "njmax": int(d.njmax),
  }


VARIANTS: dict[str, dict] = {
  # Ordered cheapest first: later ones may compile new kernels.
  "as_trained": {},
  "budgets_sized": {"nconmax": 16, "njmax": 96},
  "collide_feet_calves_trunk": {
    "collide_only": ("trunk", *(f"{leg}_{b}" for leg in a1.LEGS for b in ("calf", "foot"))),
  },
  "iterations_4_ls_8": {"iterations": 4, "ls_iterations": 8},
  "sap_tile": {"broadphase": "sap_tile"},
  "sap_segmented": {"broadphase": "sap_segmented"},
  "pyramidal": {"cone": int(mujoco.mjtCone.mjCONE_PYRAMIDAL)},
}


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--task", default="a1_waq")
  parser.add_argument("--num_envs", type=int, default=4096)
  parser.add_argument("--steps", type=int, default=50)
  parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
  parser.add_argument("--out", type=Path, required=True)
  args = parser.parse_args()

  result: dict = {
    "gpu": torch.cuda.get_device_name(),
    "task": args.task,
    "num_envs": args.num_envs,
  }

  def write() -> None:
    args.out.write_text(json.dumps(result, indent=2))

  cfg = get_task(args.task).env_cfg()
  cfg.scene.num_envs = args.num_envs
  start = time.perf_counter()
  env = ManagerBasedRlEnv(cfg, device="cuda:0")
  result["build_s"] = time.perf_counter() - start
  result["decimation"] = cfg.decimation
  result["stages"] = stage_breakdown(env, args.steps)
  result["contacts"] = contact_stats(env)
  write()
  print(json.dumps(result, indent=2), flush=True)

  d = env.sim.wp_data
  states = d.qpos.numpy(), d.qvel.numpy(), d.ctrl.numpy()
  mjm = env.sim.mj_model
  result["variants"] = {}
  for name in args.variants:
    try:
      result["variants"][name] = physics_variant(
        mjm, *states, args.steps * 2, **VARIANTS[name]
      )
    except Exception as e:  # noqa: BLE001 (a variant that fails is reported, the others still run)
      result["variants"][name] = {"error": f"{type(e).__name__}: {e}"}
    print(name, json.dumps(result["variants"][name]), flush=True)
    write()


if __name__ == "__main__":
  main()
