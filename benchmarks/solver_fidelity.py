"""Does a cheaper constraint solver still hold a trained policy up?

A faster physics setting is only worth having if the robot still walks the same. This
runs an exported policy in plain MuJoCo (``dreamwaq sim2sim``'s loop: one robot, a fall
resets it) on each terrain at a few speeds, under the task's solver iterations and under
the variants asked for, and prints falls, distance and tracking error per run as JSON
lines. The model is the training model; only ``opt.iterations``/``opt.ls_iterations``
change.

    python benchmarks/solver_fidelity.py POLICY.onnx --variants 10/20 4/8
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from dreamwaq.export import sim2sim
from dreamwaq.export.onnx_policy import OnnxPolicy

TERRAINS = (
  ("stairs_up", 0.2),
  ("stairs_down", 0.34),
  ("rough_slope", 0.5),
  ("discrete", 0.34),
)
"""(terrain, difficulty): 8 cm and 10 cm steps, a 0.5 rough slope, 10 cm obstacles."""


def measure(
  policy: OnnxPolicy,
  iterations: int,
  ls_iterations: int,
  speeds: list[float],
  seconds: float,
) -> list[dict]:
  """One ``sim2sim`` run per terrain and speed (turning at 0.2 rad/s) under the solver."""
  rows = []
  for terrain, difficulty in TERRAINS:
    scene = sim2sim.build_scene(policy.contract["task"], terrain, difficulty, seed=0)
    scene.model.opt.iterations, scene.model.opt.ls_iterations = iterations, ls_iterations
    for vx in speeds:
      sim = sim2sim.Sim2Sim(policy, scene)
      s = sim2sim.run(sim, lambda t, vx=vx: np.array([vx, 0.0, 0.2]), seconds)
      rows.append({
        "solver": f"{iterations}/{ls_iterations}", "terrain": terrain,
        "difficulty": difficulty, "vx_mps": vx, "falls": s.falls,
        "distance_m": round(s.distance, 2),
        "lin_error_mps": round(float(np.mean(s.lin_errors)), 3),
        "yaw_error_radps": round(float(np.mean(s.yaw_errors)), 3),
      })  # fmt: skip
  return rows


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("policy", help="an exported policy.onnx (dreamwaq export)")
  parser.add_argument("--variants", nargs="+", default=["10/20", "4/8"],
                      help="ITERATIONS/LS_ITERATIONS; 10/20 is the task's")  # fmt: skip
  parser.add_argument("--speeds", type=float, nargs="+", default=[0.3, 0.6, 1.0])
  parser.add_argument("--seconds", type=float, default=10.0)
  args = parser.parse_args()
  policy = OnnxPolicy(args.policy)
  for variant in args.variants:
    iterations, ls_iterations = (int(v) for v in variant.split("/"))
    for row in measure(policy, iterations, ls_iterations, args.speeds, args.seconds):
      print(json.dumps(row))


if __name__ == "__main__":
  main()
