"""``dreamwaq eval``: the paper's measurements for a checkpoint, per terrain type,
row and randomisation extreme, and push robustness, into ``eval.json`` and
``eval.md`` beside the checkpoint (seeded: the same seed gives the same numbers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dreamwaq.cli.export import add_checkpoint_args, checkpoint_path


def add_parser(sub: argparse._SubParsersAction) -> None:
  from dreamwaq.evaluation.conditions import CONDITIONS
  from dreamwaq.evaluation.push import DEFAULT_PUSH_LEVELS
  from dreamwaq.evaluation.suite import ALL_ROWS, EvalConfig
  from dreamwaq.tasks.terrain import TERRAIN_TYPES

  default = EvalConfig()
  p = sub.add_parser(
    "eval", help="measure a checkpoint per terrain, row, push level; write eval.json/.md"
  )
  add_checkpoint_args(p)
  p.add_argument(
    "--num_envs", type=int, default=default.robots,
    help="robots per group: per condition × terrain type × row, and per push level",
  )  # fmt: skip
  p.add_argument("--duration", type=float, default=default.duration_s, help="episode (s)")
  p.add_argument("--seed", type=int, default=default.seed)
  p.add_argument(
    "--rows", type=int, nargs="+", default=list(ALL_ROWS), help="terrain rows 0..9"
  )
  p.add_argument(
    "--terrains", nargs="+", choices=list(TERRAIN_TYPES), default=list(TERRAIN_TYPES)
  )
  p.add_argument(
    "--fields", type=int, default=default.fields,
    help="tiles per terrain type and row, each its own draw of obstacles and noise; "
    "a group's robots are spread over them",
  )  # fmt: skip
  p.add_argument(
    "--conditions", nargs="+", choices=list(CONDITIONS), default=list(CONDITIONS),
    help="training randomisation, friction 0.2, payload +2 kg",
  )  # fmt: skip
  p.add_argument(
    "--push_levels", type=float, nargs="*", default=list(DEFAULT_PUSH_LEVELS),
    metavar="MPS", help="push levels searched (m/s; 1.0 is always added); none: no pushes",
  )  # fmt: skip
  p.add_argument(
    "--command", type=float, nargs=3, metavar=("VX", "VY", "WZ"),
    dest="fixed_command",  # ``args.command`` is the subcommand's name (cli.main).
    help="fixed command: m/s, m/s, rad/s (default: U[-1, 1] resampled every 10 s)",
  )  # fmt: skip
  p.add_argument(
    "--heading", action="store_true",
    help="random commands steered toward a random heading, as in training "
    "(default: yaw rate U[-1, 1])",
  )  # fmt: skip
  p.add_argument("--device", help="default: cuda:0 when there is a GPU, else cpu")
  p.add_argument("--out", type=Path, help="output folder (default: the run folder)")
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  from dreamwaq.cli.play import resolve_device
  from dreamwaq.evaluation.report import hardest_label, write_eval
  from dreamwaq.evaluation.suite import EvalConfig, evaluate
  from dreamwaq.export.deployed import load_deployment
  from dreamwaq.runs import trained_settings
  from dreamwaq.tasks.registry import get_task

  task = get_task(args.task)
  config = EvalConfig(
    robots=args.num_envs,
    duration_s=args.duration,
    seed=args.seed,
    rows=tuple(args.rows),
    fields=args.fields,
    terrains=tuple(args.terrains),
    conditions=tuple(args.conditions),
    push_levels=tuple(args.push_levels),
    command=tuple(args.fixed_command) if args.fixed_command else None,
    heading=args.heading,
  ).checked()
  checkpoint = checkpoint_path(args)
  policy = load_deployment(task, checkpoint)
  settings = trained_settings(checkpoint)
  device = resolve_device(args.device)
  print(f"[dreamwaq eval] {task.name} from {checkpoint} on {device}")
  results = evaluate(task, policy, config, device, settings, log=lambda s: print(f"  {s}"))
  results |= {"checkpoint": str(checkpoint), "device": device}
  for cond in results["conditions"].values():
    hardest = ", ".join(f"{k} {hardest_label(e)}" for k, e in cond["terrain"].items())
    print(f"  {cond['label']}: hardest row with success ≥ 80 %: {hardest}")
    if cond["push"]:
      push = cond["push"]
      survived = push["max_push_mps"]
      print(
        f"  {cond['label']}: max push survived "
        f"{'none' if survived is None else f'{survived:g} m/s'}, survival "
        f"{push['survival_pct_at_paper_level']:.1f} % at {push['paper_level_mps']:g} m/s"
      )
  for path in write_eval(results, args.out or checkpoint.parent):
    print(f"wrote {path}")
  return 0
