"""The sim-to-sim tables of docs/results.md, in one process: an exported policy walking
straight ahead at 0.3–1.0 m/s on each test tile for 10 s, or (``--yaws``) at 0.5 m/s for
20 s from several spawn headings, or (``--sweep``) square on to stairs of 8.5–13.4 cm at
0.3–0.7 m/s for 20 s. Each run is `dreamwaq sim2sim --terrain T --difficulty
D --command V 0 0 --duration S [--spawn_yaw Y]`.

  python benchmarks/sim2sim_matrix.py --pretrained a1_waq > matrix.txt
  python benchmarks/sim2sim_matrix.py --pretrained a1_waq --yaws 0 15 30 45 60 90
  python benchmarks/sim2sim_matrix.py --pretrained a1_waq --sweep
  python benchmarks/sim2sim_matrix.py --policy <run>/exported/policy.onnx

One line per run: terrain, difficulty, v_x (m/s), spawn yaw (°), distance (m), falls,
times the trunk left the tile (each respawns the robot), distances of the falls from the
spawn (m), and the RMSE of the estimated body velocity (m/s, 3 axes; "-" without an
estimator).

The sweep is there because the simulator is deterministic: square on, at one speed the
robot meets the first riser at the same phase of its gait every time, and a policy can
stall there (pawing at the riser, neither falling nor climbing) at one speed and climb at
the next. One speed per tile reads such a stall as the policy's; the sweep shows how often.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from dreamwaq import pretrained
from dreamwaq.export import sim2sim
from dreamwaq.export.onnx_policy import OnnxPolicy

TILES = (
  ("stairs_up", 0.34),  # 10 cm steps
  ("stairs_down", 0.34),
  ("smooth_slope", 0.5),  # 11°
  ("rough_slope", 0.5),
  ("stairs_up", 0.56),  # 13.4 cm steps and obstacles
  ("stairs_down", 0.56),
  ("discrete", 0.56),
)
SPEEDS = (0.3, 0.5, 0.7, 1.0)
YAW_TILES = (
  ("stairs_up", 0.34),
  ("stairs_up", 0.56),
  ("smooth_slope", 0.5),
  ("rough_slope", 0.5),
)
SWEEP_TILES = tuple(
  (t, d) for t in ("stairs_up", "stairs_down") for d in (0.25, 0.34, 0.45, 0.56)
)  # 8.5, 10.1, 12.0 and 13.4 cm steps
SWEEP_SPEEDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def plan(
  yaws: list[float] | None, sweep: bool
) -> tuple[list[tuple[str, float, float, float]], float]:
  """The runs (terrain, difficulty, v_x in m/s, spawn yaw in °) of a table and their
  simulated seconds."""
  if sweep:
    return [(t, d, v, 0.0) for t, d in SWEEP_TILES for v in SWEEP_SPEEDS], 20.0
  if yaws:
    return [(t, d, 0.5, y) for t, d in YAW_TILES for y in yaws], 20.0
  return [(t, d, v, 0.0) for t, d in TILES for v in SPEEDS], 10.0


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  source = p.add_mutually_exclusive_group(required=True)
  source.add_argument("--policy", type=Path, help="exported policy.onnx")
  source.add_argument("--pretrained", metavar="TASK", help="the policy shipped for TASK")
  table = p.add_mutually_exclusive_group()
  table.add_argument(
    "--yaws", type=float, nargs="+", help="spawn headings (°): the yaw table"
  )
  table.add_argument(
    "--sweep",
    action="store_true",
    help="square on to stairs at 0.3–0.7 m/s: the stall table",
  )
  p.add_argument(
    "--duration", type=float, help="simulated seconds per run (10; --yaws, --sweep: 20)"
  )
  args = p.parse_args()
  policy = OnnxPolicy(args.policy or pretrained.policy(args.pretrained))
  c = policy.contract
  runs, duration = plan(args.yaws, args.sweep)
  duration = args.duration or duration
  print(f"# {duration:g} s each: terrain difficulty v_x(m/s) spawn_yaw(deg) distance(m) "
        "falls left_tile fall_radii(m) est_rmse(m/s)")  # fmt: skip
  scenes: dict[tuple[str, float], sim2sim.Sim2SimScene] = {}
  for terrain, difficulty, v, yaw in runs:
    if (terrain, difficulty) not in scenes:
      scenes[terrain, difficulty] = sim2sim.build_scene(
        c["task"], terrain, difficulty, seed=0
      )
    sim = sim2sim.Sim2Sim(policy, scenes[terrain, difficulty], spawn_yaw=math.radians(yaw))
    s = sim2sim.run(sim, sim2sim.command_schedule(c, (v, 0.0, 0.0), None), duration)
    radii = ",".join(f"{r:.1f}" for r in s.fall_radii) or "-"
    est = "-" if s.est_rmse is None else f"{s.est_rmse:.3f}"
    row = (terrain, difficulty, v, f"{yaw:g}", f"{s.distance:.2f}", s.falls, s.tile_exits)
    print(*row, radii, est)


if __name__ == "__main__":
  main()
