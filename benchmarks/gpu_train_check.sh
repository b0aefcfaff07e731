#!/usr/bin/env bash
# a1_waq trains N iterations at 4096 envs (at most TRAIN_TIMEOUT s); summary, log,
# latest checkpoint and events to $OUT.
# Run on the GPU machine after `source /root/gpukit/env.sh`, from the repo root:
#   bash benchmarks/gpu_train_check.sh ITERATIONS
set -uo pipefail
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}
iters=${1:-50}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
timeout "${TRAIN_TIMEOUT:-480}" python -m dreamwaq.cli.main train --task a1_waq --headless --num_envs 4096 \
  --max_iterations "$iters" --log_root /tmp/logs --run_name gpucheck 2>&1 | tee "$OUT/train_log.txt"
run=$(ls -d /tmp/logs/rough_a1_waq/*gpucheck | tail -1)
python benchmarks/tb_summary.py "$run" Estimator Perf Train/mean_reward Curriculum/terrain_levels/mean Loss > "$OUT/summary.json"
nvidia-smi --query-gpu=memory.used --format=csv,noheader >> "$OUT/gpu.txt"
latest=$(ls -v "$run"/model_*.pt | tail -1)
cp "$latest" "$run/params/agent.yaml" "$OUT/" 2>/dev/null
cp "$run"/events.out.tfevents.* "$OUT/" 2>/dev/null
