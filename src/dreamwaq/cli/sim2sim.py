"""``dreamwaq sim2sim --policy <run>/exported/policy.onnx`` (or ``--pretrained TASK``,
the one shipped): an exported policy in plain CPU MuJoCo (no Warp, no torch in the
loop), driven only by the policy.json beside it."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from dreamwaq.cli.main import UserError
from dreamwaq.export.sim2sim import DEFAULT_COMMAND, SCHEDULES, TERRAINS


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser(
    "sim2sim", help="run an exported policy in CPU MuJoCo and summarise it"
  )
  source = p.add_mutually_exclusive_group(required=True)
  source.add_argument("--policy", type=Path, help="exported policy.onnx")
  source.add_argument(
    "--pretrained", metavar="TASK", help="the policy shipped with dreamwaq for TASK"
  )
  p.add_argument("--terrain", choices=TERRAINS, default="flat")
  p.add_argument("--difficulty", type=float, default=0.5, help="0 (easiest) to 1 (hardest)")
  cmd = p.add_mutually_exclusive_group()
  default = " ".join(f"{v:g}" for v in DEFAULT_COMMAND)
  cmd.add_argument(
    "--command", type=float, nargs=3, metavar=("VX", "VY", "WZ"),
    dest="fixed_command",  # ``args.command`` is the subcommand's name (cli.main).
    help=f"fixed command: m/s, m/s, rad/s (default: {default})",
  )  # fmt: skip
  cmd.add_argument("--schedule", choices=list(SCHEDULES), help="scripted commands, cycled")
  p.add_argument("--duration", type=float, default=20.0, help="simulated seconds")
  p.add_argument(
    "--delay_steps", type=int,
    help="actuation delay in physics steps (default: the largest trained)",
  )  # fmt: skip
  p.add_argument("--video", type=Path, help="write an offscreen .gif or .mp4")
  p.add_argument("--viewer", action="store_true", help="MuJoCo's viewer (needs a display)")
  p.add_argument("--seed", type=int, default=0, help="terrain generation seed")
  p.add_argument(
    "--spawn_yaw", type=float, default=0.0, metavar="DEG",
    help="heading at spawn, degrees (0: +x, square on to the stairs; eval spawns at random)",
  )  # fmt: skip
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  from dreamwaq import pretrained
  from dreamwaq.export import sim2sim
  from dreamwaq.export.onnx_policy import OnnxPolicy

  if args.duration <= 0:
    raise UserError("--duration must be positive")
  if args.viewer and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    raise UserError("--viewer needs a display; use --video out.gif on a headless machine")
  policy = OnnxPolicy(args.policy or pretrained.policy(args.pretrained))
  contract = policy.contract
  fixed = tuple(args.fixed_command) if args.fixed_command else None
  commands = sim2sim.command_schedule(contract, fixed, args.schedule)
  scene = sim2sim.build_scene(contract["task"], args.terrain, args.difficulty, args.seed)
  spawn_yaw = math.radians(args.spawn_yaw)
  sim = sim2sim.Sim2Sim(policy, scene, args.delay_steps, spawn_yaw=spawn_yaw)
  hooks: list[sim2sim.VideoRecorder | sim2sim.LiveViewer] = []

  def on_step(s: sim2sim.Sim2Sim) -> None:
    for hook in hooks:
      hook(s)

  try:
    try:
      if args.video:
        hooks.append(sim2sim.VideoRecorder(sim, args.video))
      if args.viewer:
        hooks.append(sim2sim.LiveViewer(sim))
    except RuntimeError as e:  # No GL or no display: say so in one line.
      raise UserError(str(e)) from None
    summary = sim2sim.run(sim, commands, args.duration, on_step=on_step)
  finally:
    written = [h.close() for h in hooks]
  what = (
    f"schedule {args.schedule}"
    if args.schedule
    else "command " + " ".join(f"{v:g}" for v in commands(0.0))
  )
  print(
    f"sim2sim {contract['task']} on {args.terrain} (difficulty {args.difficulty:g}), "
    f"{what}, spawn yaw {args.spawn_yaw:g}°, actuation delay {sim.delay} physics steps"
  )
  for line in summary.lines():
    print(f"  {line}")
  for path in written:
    if path is not None:
      print(f"wrote {path}")
  return 0
