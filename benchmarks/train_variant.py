"""``dreamwaq train`` with fields of the training config overridden: for experiments
on values the spec marks tunable, before one becomes a default.

    python benchmarks/train_variant.py --set algorithm.estimator.learning_rate=1e-3 \
      -- train --task a1_waq --headless --num_envs 4096

Each ``--set PATH=VALUE`` names a field of ``dreamwaq.learning.config.runner_cfg``'s
result by its dotted path; VALUE is parsed as the field's current type.
"""

from __future__ import annotations

import argparse
import sys

from dreamwaq.cli.main import main
from dreamwaq.learning import config


def _parse(value: str, like: object) -> object:
  if isinstance(like, bool):
    if value.lower() not in ("true", "false"):
      raise SystemExit(f"--set: {value!r} is not true or false")
    return value.lower() == "true"
  return type(like)(value)


def apply(cfg: object, assignment: str) -> None:
  path, _, value = assignment.partition("=")
  *parents, name = path.split(".")
  target = cfg
  for part in parents:
    target = getattr(target, part)
  if not hasattr(target, name):
    raise SystemExit(f"--set: the training config has no field {path!r}")
  setattr(target, name, _parse(value, getattr(target, name)))


if __name__ == "__main__":
  parser = argparse.ArgumentParser()
  parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
  argv = sys.argv[1:]
  split = argv.index("--") if "--" in argv else len(argv)
  args = parser.parse_args(argv[:split])
  original = config.runner_cfg

  def runner_cfg(task):
    cfg = original(task)
    for assignment in args.set:
      apply(cfg, assignment)
    return cfg

  config.runner_cfg = runner_cfg
  sys.exit(main(argv[split + 1 :]))
