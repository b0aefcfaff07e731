"""Summarise a run's TensorBoard scalars as JSON: first/last value of every tag, and the
full series of the tags named on the command line (substring match).

  python benchmarks/tb_summary.py RUN_DIR [TAG_SUBSTRING ...] > summary.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def summarise(run_dir: Path, series: list[str]) -> dict:
  acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
  acc.Reload()
  out: dict = {"run": str(run_dir), "tags": {}, "series": {}}
  for tag in acc.Tags()["scalars"]:
    events = acc.Scalars(tag)
    out["tags"][tag] = {
      "first": events[0].value,
      "last": events[-1].value,
      "n": len(events),
    }
    if any(s in tag for s in series):
      out["series"][tag] = [[e.step, e.value] for e in events]
  return out


if __name__ == "__main__":
  print(json.dumps(summarise(Path(sys.argv[1]), sys.argv[2:]), indent=1))
