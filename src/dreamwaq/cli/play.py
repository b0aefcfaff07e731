"""``dreamwaq play``: a checkpoint's deterministic policy (the one ``export`` writes)
in the task's play env: headless video, mjlab's native or web viewer, and the seed's
logger plot of one robot."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dreamwaq.cli.export import add_checkpoint_args, checkpoint_path
from dreamwaq.cli.main import UserError
from dreamwaq.export.sim2sim import TERRAINS

VIEWERS = ("native", "viser")


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("play", help="run a trained policy: video, viewer, plots")
  add_checkpoint_args(p)
  p.add_argument(
    "--pretrained", action="store_true",
    help="the checkpoint shipped with dreamwaq for --task (no --load_run, --checkpoint)",
  )  # fmt: skip
  p.add_argument("--num_envs", type=int, default=16)
  p.add_argument("--terrain", choices=TERRAINS, help="default: the training mix")
  p.add_argument("--level", type=int, help="terrain row 0 (easiest) to 9 (hardest)")
  p.add_argument(
    "--command", type=float, nargs=3, metavar=("VX", "VY", "WZ"),
    dest="fixed_command",  # ``args.command`` is the subcommand's name (cli.main).
    help="fixed command: m/s, m/s, rad/s (default: resampled as in training)",
  )  # fmt: skip
  p.add_argument("--follow", action="store_true", help="one robot up close")
  p.add_argument(
    "--viewer", nargs="?", const="auto", choices=VIEWERS,
    help="mjlab's viewer: native (needs a display) or viser (a browser); "
    "the flag alone picks native when there is a display",
  )  # fmt: skip
  p.add_argument("--video", type=Path, help="write an offscreen .gif or .mp4")
  p.add_argument("--plot", type=Path, help="write the one-robot figure (.png)")
  p.add_argument("--steps", type=int, default=500, help="policy steps (50 per second)")
  p.add_argument("--device", help="default: cuda:0 when there is a GPU, else cpu")
  p.add_argument("--seed", type=int, default=0)
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  from dreamwaq.export.deployed import load_deployment
  from dreamwaq.play.plots import plot_trace
  from dreamwaq.play.scene import PlayScene, play_env_cfg
  from dreamwaq.play.session import open_env, play, policy_actor
  from dreamwaq.rendering import video_format, write_video
  from dreamwaq.runs import trained_settings
  from dreamwaq.tasks.registry import get_task

  task = get_task(args.task)
  if args.steps <= 0:
    raise UserError(f"--steps must be positive, got {args.steps}")
  viewer = _viewer(args.viewer) if args.viewer else None
  video = video_format(args.video) if args.video else None
  checkpoint = _pretrained(args) if args.pretrained else checkpoint_path(args)
  policy = load_deployment(task, checkpoint)
  device = resolve_device(args.device)
  fixed = tuple(args.fixed_command) if args.fixed_command else None
  scene = PlayScene(args.num_envs, args.terrain, args.level, fixed, args.follow)
  cfg = play_env_cfg(task, scene, video, trained_settings(checkpoint))
  cfg.seed = args.seed
  if video is not None:
    require_offscreen_gl()
  vec = open_env(cfg, device, render=video is not None)
  act = policy_actor(task, policy, device)
  print(f"[dreamwaq play] {task.name} from {checkpoint} on {device}")
  if viewer is not None:
    viewer(vec, lambda obs: act(obs)[0]).run()
    vec.close()
    return 0
  playback = play(vec, act, args.steps, video)
  vec.close()
  for line in playback.trace.summary():
    print(f"  {line}")
  if video:
    print(f"wrote {write_video(args.video, playback.frames, video.fps)}")
  if args.plot:
    title = f"{task.name}, {checkpoint.parent.name}/{checkpoint.name}, robot 0"
    print(f"wrote {plot_trace(playback.trace, args.plot, title)}")
  return 0


def _pretrained(args: argparse.Namespace) -> Path:
  """The shipped checkpoint of ``--task``; a run named as well is a mistake."""
  from dreamwaq import pretrained

  if args.load_run is not None or args.checkpoint is not None:
    raise UserError(
      "--pretrained plays the shipped checkpoint: drop --load_run, --checkpoint"
    )
  return pretrained.checkpoint(args.task)


def require_offscreen_gl() -> None:
  """Offscreen rendering, or a one-line error saying what to install."""
  from dreamwaq.rendering import offscreen_gl

  try:
    offscreen_gl()
  except RuntimeError as e:
    raise UserError(str(e)) from None


def _viewer(choice: str):
  """mjlab's viewer class: native with a display, else viser (a web page)."""
  has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
  if choice == "auto":
    choice = "native" if has_display else "viser"
  if choice == "native":
    if not has_display:
      raise UserError(
        "--viewer native needs a display; try --viewer viser or --video out.gif"
      )
    from mjlab.viewer import NativeMujocoViewer

    return NativeMujocoViewer
  try:
    from mjlab.viewer import ViserPlayViewer
  except ImportError as e:
    raise UserError(f"--viewer viser needs viser ({e}); use --video out.gif") from None
  return ViserPlayViewer


def resolve_device(requested: str | None) -> str:
  """``--device``: the first GPU when there is one, else the CPU."""
  import torch

  if requested is None:
    return "cuda:0" if torch.cuda.is_available() else "cpu"
  if requested.startswith("cuda") and not torch.cuda.is_available():
    raise UserError(f"--device {requested}: no CUDA device is available")
  return requested
