#!/usr/bin/env bash
# Trains several runs at once (4096 envs each), spread over the GPUs, each resuming the latest
# folder of its name under /root/runs; logs and a tarball of each run to $OUT.
# Run on the GPU machine after `source /root/gpukit/env.sh`, from the repo root:
#   bash benchmarks/gpu_concurrent_train.sh ITERATIONS JOBS_FILE
# ITERATIONS: each run's total; a resumed run trains what it has left.
# JOBS_FILE lines: NAME TASK [--from EXPERIMENT/RUN] [--total N] [--set PATH=VALUE ...]
#   [--env FIELD=VALUE ...]   (--set, --env: see train_variant.py)
# --from: a fine-tune; the first call resumes that run's newest checkpoint into a new
#   folder of NAME (later calls resume NAME's own). --total: this job's ITERATIONS.
# SEED_RUNS=DIR (optional): see gpu_runs.sh.
# $OUT/NAME.tgz: the run's event files and params of every folder, and its newest
# checkpoint slimmed (no optimiser state; dreamwaq.learning.ppo.slim), ready to be extracted
# into benchmarks/carry/ and committed.
set -uo pipefail
iters=$1
jobs_file=$2
source "$(dirname "$0")/gpu_runs.sh"
job=0
while read -r name task rest; do
  [ -z "$name" ] && continue
  from="" total=$iters
  if [[ " $rest " =~ \ --from\ ([^ ]+) ]]; then from=${BASH_REMATCH[1]}; rest=${rest/--from $from/}; fi
  if [[ " $rest " =~ \ --total\ ([0-9]+) ]]; then total=${BASH_REMATCH[1]}; rest=${rest/--total $total/}; fi
  prev=$(newest_with_checkpoint "$name")
  [ -z "$prev" ] && [ -n "$from" ] && prev=$root/$from
  resume=()
  left=$total
  if [ -n "$prev" ]; then
    # ITERATIONS is the run's total: a resume trains what is left after model_N.pt.
    last=$(newest_checkpoint "$prev")
    last=${last##*/model_}
    left=$((total - ${last%.pt} - 1))
    resume=(--resume --experiment_name "$(basename "$(dirname "$prev")")" --load_run "$(basename "$prev")")
  fi
  if [ "$left" -le 0 ]; then
    echo "$name: trained $total iterations already" | tee "$OUT/$name.log"
    continue
  fi
  gpu=$((job % gpus)); job=$((job + 1))
  # shellcheck disable=SC2086
  CUDA_VISIBLE_DEVICES=$gpu timeout -s INT "${TRAIN_TIMEOUT:-540}" python benchmarks/train_variant.py $rest -- train \
    --task "$task" --headless --num_envs "${NUM_ENVS:-4096}" --max_iterations "$left" \
    --log_root "$root" --run_name "$name" "${resume[@]}" > "$OUT/$name.log" 2>&1 &
done < "$jobs_file"
wait
nvidia-smi --query-gpu=memory.used --format=csv,noheader
while read -r name task rest; do
  [ -z "$name" ] && continue
  dirs=$(run_folders "$name")
  prev=$(newest_with_checkpoint "$name")
  latest=${prev:+$(newest_checkpoint "$prev")}
  stage=/tmp/carry/$name
  rm -rf "$stage" && mkdir -p "$stage"
  for d in $dirs; do
    (cd "$root" && cp --parents "${d#$root/}"/events.out.tfevents.* "${d#$root/}"/params/* "$stage"/ 2>/dev/null)
  done
  if [ -n "$latest" ]; then
    slim_copy "$latest" "$stage/${latest#$root/}"
  fi
  tar czf "$OUT/$name.tgz" -C "$stage" .
done < "$jobs_file"
ls -la "$OUT"
