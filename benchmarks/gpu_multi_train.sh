#!/usr/bin/env bash
# a1_waq at 4096 envs per GPU for N iterations (default 50) on 1 GPU, then on 2 GPUs
# (`--gpus 2`: 8192 envs in all); to $OUT: multi_gpu.json (steps/s of each, the
# scaling efficiency, and whether the two ranks ended with identical networks,
# normalisers and optimiser states), the two training logs and gpu.txt.
# Needs a machine of 2 or more GPUs (nvidia-h200-x2). Run there after
# `source /root/gpukit/env.sh`, from the repo root:
#   bash benchmarks/gpu_multi_train.sh [ITERATIONS]
# TRAIN_TIMEOUT (s, each run; default 240) ends a run with SIGINT: its ranks save and
# stop, and what ran is still measured. Warm Warp's kernel cache first: a cold one
# compiles for minutes.
set -uo pipefail
export PYTHONPATH=src:.${PYTHONPATH:+:$PYTHONPATH}  # '.': tests.distributed_train
# NVLink multicast stays off on shared machines (the runner defaults NCCL's too).
export NCCL_NVLS_ENABLE=${NCCL_NVLS_ENABLE:-0}
export TORCH_SYMM_MEM_DISABLE_MULTICAST=${TORCH_SYMM_MEM_DISABLE_MULTICAST:-1}
export NVSHMEM_DISABLE_NVLS=${NVSHMEM_DISABLE_NVLS:-1}
iters=${1:-50}
logs=/tmp/multi_gpu_logs
dumps=/tmp/multi_gpu_ranks
rm -rf "$logs" "$dumps" && mkdir -p "$dumps"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
flags=(--task a1_waq --headless --num_envs 4096 --max_iterations "$iters" --log_root "$logs")
timeout -s INT "${TRAIN_TIMEOUT:-240}" python -m dreamwaq.cli.main train "${flags[@]}" \
  --run_name gpu1 2>&1 | tee "$OUT/train_1gpu.txt"
# The same `dreamwaq train --gpus 2`, each rank dumping what it trained when it ends
# (tests/distributed_train.py): rank 0 alone writes checkpoints.
DUMP_DIR=$dumps timeout -s INT "${TRAIN_TIMEOUT:-240}" python -m tests.distributed_train \
  "${flags[@]}" --gpus 2 --run_name gpu2 2>&1 | tee "$OUT/train_2gpu.txt"
python - "$OUT" "$dumps" "$iters" > "$OUT/multi_gpu.json" <<'EOF'
import json, re, statistics, sys
from pathlib import Path

import torch

out, dumps, iters = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])


def throughput(log: Path) -> dict:
  """Env steps/s (all GPUs, training included) of the progress lines, iteration 0
  (warm-up) left out."""
  rates = [float(m[2].replace(",", "")) for m in re.finditer(
    r"^it (\d+)/\d+ \| ([\d,]+) steps/s", log.read_text(), re.M) if int(m[1]) > 0]
  return {"iterations_timed": len(rates),
          "steps_per_s_mean": statistics.mean(rates) if rates else None,
          "steps_per_s_median": statistics.median(rates) if rates else None}


def differing(a, b, path=""):
  if isinstance(a, dict):
    return [d for k in sorted(a.keys() | b.keys(), key=str)
            for d in differing(a.get(k), b.get(k), f"{path}/{k}")]
  if isinstance(a, (list, tuple)):
    return [d for i, (x, y) in enumerate(zip(a, b)) for d in differing(x, y, f"{path}/{i}")]
  if isinstance(a, torch.Tensor):
    return [] if isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b) else [path]
  return [] if a == b else [path]


one, two = throughput(out / "train_1gpu.txt"), throughput(out / "train_2gpu.txt")
ranks = [torch.load(dumps / f"rank{r}.pt", map_location="cpu", weights_only=False)
         for r in range(2) if (dumps / f"rank{r}.pt").exists()]
result = {"iterations": iters, "num_envs_per_gpu": 4096, "one_gpu": one, "two_gpus": two}
if one["steps_per_s_mean"] and two["steps_per_s_mean"]:
  result["scaling_efficiency"] = two["steps_per_s_mean"] / (2 * one["steps_per_s_mean"])
if len(ranks) == 2:
  keys = ("networks", "optimizer", "estimator_optimizer")
  diff = [d for k in keys for d in differing(ranks[0][k], ranks[1][k], k)]
  result["ranks"] = {
    "identical": not diff, "differing": diff,
    "iterations_done": [r["iteration"] for r in ranks], "seeds": [r["seed"] for r in ranks],
    "rollouts_differ": not torch.equal(ranks[0]["rewards"], ranks[1]["rewards"]),
  }
print(json.dumps(result, indent=1))
EOF
cat "$OUT/multi_gpu.json"
