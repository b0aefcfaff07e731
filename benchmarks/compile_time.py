"""Warp kernel compilation of a task from an empty kernel cache, module by module.

Builds the task's training env (small terrain grid: same geom types, so the same
kernels) in a fresh cache folder, steps it, and reads Warp's own per-module load
times. On a GPU machine this is the wait before the first training step when no saved
cache is carried; on the CPU the same modules compile, faster and in the same order of
cost.

    python benchmarks/compile_time.py --task a1_waq [--device cpu|cuda:0] [--out compile.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import tempfile
import time
from pathlib import Path

LOAD = re.compile(r"Module (\S+) \S+ load on device '[^']+' took ([0-9.]+) ms(.*)")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--task", default="a1_waq")
  parser.add_argument("--device", default="cpu")
  parser.add_argument("--out", type=Path)
  args = parser.parse_args()

  import warp as wp

  cache = tempfile.mkdtemp(prefix="warp-cache-")
  wp.config.kernel_cache_dir = cache

  import torch
  from op_count import report, small_env  # After the cache is set: it imports mjlab.

  log = io.StringIO()
  start = time.perf_counter()
  with contextlib.redirect_stdout(log):
    env = small_env(args.task, 2, args.device)
    env.reset()
    for _ in range(3):
      env.step(torch.zeros(2, env.action_manager.total_action_dim, device=args.device))
  wall = time.perf_counter() - start
  compiled = [
    (m.group(1), float(m.group(2)) / 1e3)
    for m in map(LOAD.search, log.getvalue().splitlines())
    if m and "cached" not in m.group(3)
  ]
  compiled.sort(key=lambda kv: -kv[1])
  result = {
    "task": args.task,
    "device": args.device,
    "wall_s": round(wall, 1),
    "compile_s": round(sum(s for _, s in compiled), 1),
    "modules": len(compiled),
    "slowest": {name: round(s, 2) for name, s in compiled[:12]},
  }
  report(result, args.out)


if __name__ == "__main__":
  main()
