"""Every line of ``benchmarks/jobs/*.txt`` (what ``gpu_concurrent_train.sh`` trains) names
a task, fields and values that exist: a typo there would otherwise surface only on the
GPU machine, as a call of device time spent on an error. Files named for a date
(``2026-11-25_*.txt``) record what ran that day, with options since removed, and are
not checked."""

from __future__ import annotations

import re
import shlex

import pytest

from dreamwaq.learning import config
from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.registry import get_task

from .scripts import REPO, load_script

train_variant = load_script("train_variant")

LINES = [
  pytest.param(line, id=f"{path.name}:{n}")
  for path in sorted((REPO / "benchmarks" / "jobs").glob("*.txt"))
  if not re.match(r"\d{4}-\d\d-\d\d_", path.name)
  for n, line in enumerate(path.read_text().splitlines(), 1)
  if line.strip()
]


def test_there_are_jobs_files():
  assert len(LINES) >= 10


@pytest.mark.parametrize("line", LINES)
def test_a_jobs_line_names_a_task_and_settable_fields(line: str):
  name, task, *rest = shlex.split(line)
  assert re.fullmatch(r"[\w.-]+", name), name
  spec = get_task(task)
  options: dict[str, list[str]] = {"--set": [], "--env": [], "--from": [], "--total": []}
  words = iter(rest)
  for word in words:
    assert word in options, f"unknown option {word!r}"
    options[word].append(next(words))
  for source in options["--from"]:
    # A fine-tune starts from a run carried between sessions.
    assert (REPO / "benchmarks" / "carry" / source).is_dir(), source
  assert all(total.isdigit() for total in options["--total"])
  cfg = config.runner_cfg(spec)
  for assignment in options["--set"]:
    train_variant.apply(cfg, assignment)
  A1EnvSettings().overridden(options["--env"])
