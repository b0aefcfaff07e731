"""Give a checkpoint written before checkpoint format 1 the parts format 1 adds, so
that ``dreamwaq train --resume`` continues it.

    python benchmarks/upgrade_checkpoint.py RUN_DIR/model_N.pt --task a1_waq

The first GPU runs (2026-11-25) started before format 1. What they lack is added
plainly: the header (task, env count, seed, planned iterations, the runner config
of ``params/agent.yaml``), rsl_rl's counters (env steps from the iteration count,
training time unknown: 0) and the random generators' states *of this process*, so
the resumed run's random streams start afresh there. Written atomically, in place.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import yaml

from dreamwaq.learning.runner import rng_state
from dreamwaq.runs import HEADER, checkpoint_header


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("checkpoint", type=Path)
  parser.add_argument("--task", required=True)
  parser.add_argument("--num_envs", type=int, default=4096)
  parser.add_argument("--seed", type=int, default=42)
  parser.add_argument("--until", type=int, default=1500, help="iterations planned")
  args = parser.parse_args()
  saved = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
  infos = saved.get("infos") or {}
  if HEADER in infos:
    raise SystemExit(f"{args.checkpoint} already has a header")
  # Written by this project (tuples and all), so the full loader is safe here.
  agent = yaml.unsafe_load((args.checkpoint.parent / "params" / "agent.yaml").read_text())
  steps = agent["num_steps_per_env"] * args.num_envs * (saved["iter"] + 1)
  # The env settings were not recorded then: an empty record reads as the defaults.
  infos[HEADER] = checkpoint_header(
    args.task, args.num_envs, args.seed, args.until, agent, env={}
  )
  infos["counters"] = {"timesteps": steps, "time_s": 0.0}
  infos["rng"] = rng_state("cpu")
  saved["infos"] = infos
  tmp = args.checkpoint.with_suffix(".tmp")
  with open(tmp, "wb") as f:
    torch.save(saved, f)
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, args.checkpoint)
  print(f"upgraded {args.checkpoint} ({args.task}, iteration {saved['iter']})")


if __name__ == "__main__":
  main()
