"""``dreamwaq train`` with fields of the training config overridden: for experiments
on values the spec marks tunable, before one becomes a default.

    python benchmarks/train_variant.py --set algorithm.estimator.learning_rate=1e-3 \
      --env foot_clearance_target=0.15 -- train --task a1_waq --headless

Each ``--set PATH=VALUE`` names a field of ``dreamwaq.learning.config.runner_cfg``'s
result by its dotted path; VALUE is parsed as the field's current type. Each ``--env
FIELD=VALUE`` is passed on to ``dreamwaq train --env`` (a field of
``dreamwaq.tasks.env_cfg.A1EnvSettings``, recorded in the run's checkpoints), so the
jobs files of ``gpu_concurrent_train.sh`` name both before the ``--``.
"""

from __future__ import annotations

import argparse
import sys

from dreamwaq.cli.main import main
from dreamwaq.learning import config
from dreamwaq.tasks.env_cfg import parse_value


def apply(cfg: object, assignment: str) -> None:
  path, _, value = assignment.partition("=")
  *parents, name = path.split(".")
  target = cfg
  for part in parents:
    target = getattr(target, part)
  if not hasattr(target, name):
    raise SystemExit(f"--set: the training config has no field {path!r}")
  setattr(target, name, parse_value(value, getattr(target, name), f"--set {path}"))


if __name__ == "__main__":
  parser = argparse.ArgumentParser()
  parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
  parser.add_argument("--env", action="append", default=[], metavar="FIELD=VALUE")
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
  env = [word for assignment in args.env for word in ("--env", assignment)]
  sys.exit(main(argv[split + 1 :] + env))
