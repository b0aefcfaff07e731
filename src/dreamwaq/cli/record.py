"""``dreamwaq record``: one GIF per terrain type of a checkpoint's policy (the seed's
result GIFs) and, with ``--compare_run``, side-by-side GIFs of two models on the same
terrain, spawn and command (the seed's DreamWaQ-vs-base comparison).

Each clip is ``dreamwaq play --terrain T --level L --follow --command ...``: one robot
in the play env, rebuilt with the same seed for each model."""

from __future__ import annotations

import argparse
from pathlib import Path

from dreamwaq.cli.export import add_checkpoint_args, checkpoint_path
from dreamwaq.export.sim2sim import DEFAULT_COMMAND, TERRAINS

ALL = "all"


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("record", help="GIFs per terrain type, side by side with another run")
  add_checkpoint_args(p)
  p.add_argument(
    "--terrains", nargs="+", choices=[ALL, *TERRAINS], default=[ALL],
    help="terrain types to record (all: the five of the training grid)",
  )  # fmt: skip
  p.add_argument("--level", type=int, default=5, help="terrain row 0 (easiest) to 9")
  p.add_argument("--compare_run", help="a second run, shown beside the first")
  p.add_argument("--compare_task", help="the second run's task (default: --task)")
  p.add_argument("--compare_checkpoint", type=int, help="default: its latest")
  default = " ".join(f"{v:g}" for v in DEFAULT_COMMAND)
  p.add_argument(
    "--command", type=float, nargs=3, metavar=("VX", "VY", "WZ"), default=DEFAULT_COMMAND,
    dest="fixed_command",  # ``args.command`` is the subcommand's name (cli.main).
    help=f"fixed command: m/s, m/s, rad/s (default: {default})",
  )  # fmt: skip
  p.add_argument("--duration", type=float, default=8.0, help="seconds per clip")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--device", help="default: cuda:0 when there is a GPU, else cpu")
  p.add_argument("--out", type=Path, help="output folder (default: <run>/record)")
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  from dreamwaq.cli.main import UserError
  from dreamwaq.cli.play import require_offscreen_gl, resolve_device
  from dreamwaq.export.deployed import load_deployment
  from dreamwaq.play.scene import PlayScene, play_env_cfg
  from dreamwaq.play.session import open_env, play, policy_actor
  from dreamwaq.rendering import COMPACT_GIF, side_by_side, write_video
  from dreamwaq.runs import find_checkpoint, trained_settings
  from dreamwaq.tasks.registry import get_task
  from dreamwaq.tasks.terrain import TERRAIN_TYPES

  if args.duration <= 0:
    raise UserError(f"--duration must be positive, got {args.duration}")
  task = get_task(args.task)
  checkpoint = checkpoint_path(args)
  models = [(task, checkpoint)]
  if args.compare_run:
    other = get_task(args.compare_task or args.task)
    experiment = args.log_root / other.experiment
    models.append(
      (other, find_checkpoint(experiment, args.compare_run, args.compare_checkpoint))
    )
  elif args.compare_task or args.compare_checkpoint is not None:
    raise UserError("--compare_task and --compare_checkpoint need --compare_run")
  same_task = len({t.name for t, _ in models}) == 1
  labels = [c.parent.name if same_task else t.name for t, c in models]
  policies = [load_deployment(t, c) for t, c in models]
  trained = [trained_settings(c) for _, c in models]
  terrains = (
    list(TERRAIN_TYPES) if ALL in args.terrains else list(dict.fromkeys(args.terrains))
  )
  command = tuple(args.fixed_command)
  device = resolve_device(args.device)
  out = args.out or checkpoint.parent / "record"
  require_offscreen_gl()
  print(f"[dreamwaq record] {', '.join(labels)} on {device}, command {command}")
  for terrain in terrains:
    level = None if terrain == "flat" else args.level
    scene = PlayScene(1, terrain, level, command)
    clips = []
    for (t, _), policy, label, settings in zip(
      models, policies, labels, trained, strict=True
    ):
      cfg = play_env_cfg(t, scene, COMPACT_GIF, settings)
      cfg.seed = args.seed
      vec = open_env(cfg, device, render=True)
      steps = max(1, round(args.duration / vec.unwrapped.step_dt))
      playback = play(vec, policy_actor(t, policy, device), steps, COMPACT_GIF)
      vec.close()
      clips.append(playback.frames)
      falls = int(playback.trace["reset"].sum())
      print(f"  {terrain}: {label}, {falls} falls in {steps * vec.unwrapped.step_dt:g} s")
    print(f"wrote {write_video(out / f'{terrain}.gif', clips[0], COMPACT_GIF.fps)}")
    if len(clips) > 1:
      path = out / f"{terrain}_side_by_side.gif"
      print(f"wrote {write_video(path, side_by_side(clips, labels), COMPACT_GIF.fps)}")
  return 0
