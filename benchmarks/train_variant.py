"""``dreamwaq train`` with fields of the training or env config overridden: for
experiments on values the spec marks tunable, before one becomes a default.

    python benchmarks/train_variant.py --set algorithm.estimator.learning_rate=1e-3 \
      --env foot_clearance_target=0.15 -- train --task a1_waq --headless

Each ``--set PATH=VALUE`` names a field of ``dreamwaq.learning.config.runner_cfg``'s
result by its dotted path, each ``--env FIELD=VALUE`` a field of
``dreamwaq.tasks.env_cfg.A1EnvSettings``; VALUE is parsed as the field's current type.
The run's ``params/env.yaml`` records the env that trained.
"""

from __future__ import annotations

import argparse
import sys

from dreamwaq.cli.main import main
from dreamwaq.learning import config
from dreamwaq.tasks import registry
from dreamwaq.tasks.env_cfg import A1EnvSettings


def _parse(value: str, like: object) -> object:
  if isinstance(like, (tuple, dict)):
    raise SystemExit(f"--set/--env: only numbers and booleans can be set, not {value!r}")
  if isinstance(like, bool):
    if value.lower() not in ("true", "false"):
      raise SystemExit(f"--set: {value!r} is not true or false")
    return value.lower() == "true"
  return type(like)(value)


def apply(cfg: object, assignment: str, what: str = "training config") -> None:
  path, _, value = assignment.partition("=")
  *parents, name = path.split(".")
  target = cfg
  for part in parents:
    target = getattr(target, part)
  if not hasattr(target, name):
    raise SystemExit(f"--set/--env: the {what} has no field {path!r}")
  setattr(target, name, _parse(value, getattr(target, name)))


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
  original_env = registry.TaskSpec.env_cfg

  def env_cfg(self, settings=None, play=False):
    settings = settings or A1EnvSettings()
    for assignment in args.env:
      apply(settings, assignment, "env settings")
    return original_env(self, settings, play)

  registry.TaskSpec.env_cfg = env_cfg
  sys.exit(main(argv[split + 1 :]))
