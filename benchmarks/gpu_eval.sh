#!/usr/bin/env bash
# `dreamwaq eval` of the newest checkpoint of each job's run under /root/runs, the jobs
# spread over the GPUs; to $OUT: NAME_eval.tgz (the run's eval.json and eval.md as
# <experiment>/<run>/eval.*, to extract into benchmarks/carry/ beside the checkpoint they
# measured) and NAME_eval.log.
# Run on the GPU machine after `source /root/gpukit/env.sh`, from the repo root:
#   bash benchmarks/gpu_eval.sh JOBS_FILE [EVAL FLAGS ...]
# JOBS_FILE: as gpu_concurrent_train.sh's (NAME TASK ...; the --set overrides are not
# used: eval builds the task's play env). EVAL FLAGS go to every `dreamwaq eval`
# (default: its full suite). SEED_RUNS=DIR: see gpu_runs.sh. EVAL_TIMEOUT (s, default 540).
set -uo pipefail
jobs_file=$1
shift
source "$(dirname "$0")/gpu_runs.sh"
job=0
while read -r name task _; do
  [ -z "$name" ] && continue
  run=$(newest_with_checkpoint "$name")
  if [ -z "$run" ]; then
    echo "$name: no checkpoint under $root" | tee "$OUT/${name}_eval.log"
    continue
  fi
  gpu=$((job % gpus)); job=$((job + 1))
  CUDA_VISIBLE_DEVICES=$gpu timeout "${EVAL_TIMEOUT:-540}" python -m dreamwaq.cli.main eval \
    --task "$task" --load_run "$run" "$@" > "$OUT/${name}_eval.log" 2>&1 &
done < "$jobs_file"
wait
while read -r name _; do
  [ -z "$name" ] && continue
  run=$(newest_with_checkpoint "$name")
  [ -f "$run/eval.json" ] || continue
  tar czf "$OUT/${name}_eval.tgz" -C "$root" "${run#$root/}/eval.json" "${run#$root/}/eval.md"
done < "$jobs_file"
ls -la "$OUT"
