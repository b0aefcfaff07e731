"""``dreamwaq list``: the tasks, their observation groups and network inputs, and the
pretrained policies shipped with the package."""

from __future__ import annotations

import argparse

from dreamwaq.tasks.registry import TASKS


def add_parser(sub: argparse._SubParsersAction) -> None:
  p = sub.add_parser("list", help="list the tasks with their actor/critic input sizes")
  p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  header = f"{'task':<10} {'experiment':<16} {'actor obs':>9} {'history':>7} {'critic':>6} {'policy in':>9}  description"
  print(header)
  print("-" * len(header))
  for t in TASKS.values():
    dims = t.group_dims
    print(
      f"{t.name:<10} {t.experiment:<16} {dims['actor']:>9} {dims.get('history', 0):>7} "
      f"{dims['critic']:>6} {t.policy_input:>9}  {t.description}"
    )
  _print_pretrained()
  return 0


def _print_pretrained() -> None:
  """The shipped policies' folders: what ``train --resume --load_run`` fine-tunes."""
  from dreamwaq import pretrained

  shipped = pretrained.available()
  print(
    "\npretrained (play --task T --pretrained, sim2sim --pretrained T; fine-tune: "
    "train --task T --resume --load_run FOLDER --max_iterations N):"
  )
  for task in shipped:
    print(f"  {task:<10} {pretrained.folder(task)}")
  if not shipped:
    print("  none shipped yet")
