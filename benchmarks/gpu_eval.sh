#!/usr/bin/env bash
# `dreamwaq eval` of the newest checkpoint of each job's run under /root/runs, the jobs
# spread over the GPUs (and run side by side); to $OUT/eval_<JOBS_FILE's stem>.tgz: one
# folder per job, NAME/ with eval.json, eval.md and eval.log (one file, so that a call
# that also trains stays within $OUT's 8 files).
# Run on the GPU machine after `source /root/gpukit/env.sh`, from the repo root:
#   bash benchmarks/gpu_eval.sh JOBS_FILE [EVAL FLAGS ...]
# JOBS_FILE: as gpu_concurrent_train.sh's (NAME TASK ...; the rest of a line is not
# used: eval builds the env the checkpoint records). EVAL FLAGS go to every
# `dreamwaq eval` (default: its full suite). SEED_RUNS=DIR: see gpu_runs.sh.
# EVAL_TIMEOUT (s, default 540). CHECKPOINTS="N ..." (optional): evaluate these iterations
# (model_N.pt) of each job's run instead of its newest, each into NAME_N/, side by side,
# each from the run's folder that holds it; the word `newest` among them: the newest too,
# into NAME/.
set -uo pipefail
jobs_file=$1
shift
source "$(dirname "$0")/gpu_runs.sh"
stem=$(basename "$jobs_file" .txt)
evals=${EVAL_ROOT:-/root/eval}/$stem  # EVAL_ROOT: for the tests' stand-ins, as RUNS_ROOT
rm -rf "$evals" && mkdir -p "$evals"  # this call's evaluations only, in the tarball
job=0
while read -r name task _; do
  [ -z "$name" ] && continue
  run=$(newest_with_checkpoint "$name")
  if [ -z "$run" ]; then
    mkdir -p "$evals/$name"
    echo "$name: no checkpoint under $root" | tee "$evals/$name/eval.log"
    continue
  fi
  for n in ${CHECKPOINTS:-newest}; do
    out=$evals/$name pick=() folder=$run
    if [ "$n" != newest ]; then
      out=$evals/${name}_$n pick=(--checkpoint "$n")
      folder=$(folder_with_checkpoint "$name" "$n")
      folder=${folder:-$run}  # None holds it: eval names the checkpoints there are.
    fi
    mkdir -p "$out"
    gpu=$((job % gpus)); job=$((job + 1))
    CUDA_VISIBLE_DEVICES=$gpu timeout "${EVAL_TIMEOUT:-540}" python -m dreamwaq.cli.main eval \
      --task "$task" --load_run "$folder" "${pick[@]}" --out "$out" "$@" > "$out/eval.log" 2>&1 &
  done
done < "$jobs_file"
wait
tar czf "$OUT/eval_$stem.tgz" -C "$evals" .
ls -la "$OUT"
