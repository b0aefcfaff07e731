"""``dreamwaq <command>``: one entry point, one module per command.

Each command module exposes ``add_parser(subparsers)`` and ``run(args) -> int``.
Errors a user can cause (a wrong task, a missing run, a bad file) are raised as
``UserError`` and printed as one line with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

COMMANDS = (
  "list", "terrain", "train", "export", "play", "sim2sim", "bench", "eval", "compare", "record",
)  # fmt: skip
"""Command modules under ``dreamwaq.cli`` (``list`` lives in ``list_tasks``)."""
_MODULES = {"list": "list_tasks"}


class UserError(Exception):
  """A problem with the user's input: printed as one line, exit code 2."""


def say(line: str) -> None:
  """Write one line to stderr in a single write: the ranks of ``train --gpus N`` share
  the stream, and a line written in two pieces (``print`` writes the newline apart)
  interleaves with another rank's."""
  sys.stderr.write(line + "\n")
  sys.stderr.flush()


def setup_environment() -> None:
  """Defaults every command (and every rank of ``train --gpus N``) runs with."""
  # mjlab sets MUJOCO_GL=egl on import; a headless machine without EGL needs
  # rendering off unless a command asks for it (video recording sets its own).
  os.environ.setdefault("MUJOCO_GL", "disable")
  os.environ.setdefault("WANDB_MODE", "disabled")
  # torch warns about torch.jit.script when mjlab's imports use it: noise above every
  # command's output, and not something a user can act on.
  warnings.filterwarnings("ignore", message=r"`torch.jit.script` is deprecated")


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog="dreamwaq", description=__doc__.splitlines()[0])
  sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
  for name in COMMANDS:
    module = importlib.import_module(f"dreamwaq.cli.{_MODULES.get(name, name)}")
    module.add_parser(sub)
  return parser


def main(argv: list[str] | None = None) -> int:
  setup_environment()
  return run_command(build_parser().parse_args(argv))


def run_command(args: argparse.Namespace) -> int:
  """Run a parsed command: its exit code, a user's mistake as one line and exit 2."""
  try:
    return int(args.run(args) or 0)
  except (UserError, ValueError, FileNotFoundError) as e:
    say(f"dreamwaq {args.command}: error: {e}")
    return 2
  except KeyboardInterrupt:
    say(f"dreamwaq {args.command}: interrupted")
    return 130


if __name__ == "__main__":
  sys.exit(main())
