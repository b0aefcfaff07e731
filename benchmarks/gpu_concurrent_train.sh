#!/usr/bin/env bash
# Trains several runs at once on one GPU (4096 envs each), each resuming the latest
# folder of its name under /root/runs; logs and a tarball of each run to $OUT.
# Run on the GPU machine after `source /root/gpukit/env.sh`, from the repo root:
#   bash benchmarks/gpu_concurrent_train.sh ITERATIONS JOBS_FILE
# JOBS_FILE lines: NAME TASK [--set PATH=VALUE ...]   (see train_variant.py)
# SEED_RUNS=DIR (optional): run folders brought from an earlier machine, copied
# into /root/runs first (existing files are kept), so that training resumes there.
set -uo pipefail
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}
root=/root/runs
mkdir -p "$root"
[ -n "${SEED_RUNS:-}" ] && cp -rn "$SEED_RUNS"/. "$root"/
iters=$1
jobs_file=$2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
while read -r name task rest; do
  [ -z "$name" ] && continue
  prev=$(ls -d "$root"/*/*_"$name" 2>/dev/null | sort | tail -1)
  resume=()
  [ -n "$prev" ] && resume=(--resume --experiment_name "$(basename "$(dirname "$prev")")" --load_run "$(basename "$prev")")
  # shellcheck disable=SC2086
  timeout -s INT "${TRAIN_TIMEOUT:-540}" python benchmarks/train_variant.py $rest -- train \
    --task "$task" --headless --num_envs "${NUM_ENVS:-4096}" --max_iterations "$iters" \
    --log_root "$root" --run_name "$name" "${resume[@]}" > "$OUT/$name.log" 2>&1 &
done < "$jobs_file"
wait
nvidia-smi --query-gpu=memory.used --format=csv,noheader
while read -r name task rest; do
  [ -z "$name" ] && continue
  dirs=$(ls -d "$root"/*/*_"$name" | sort)
  latest=$(ls -v "$(echo "$dirs" | tail -1)"/model_*.pt 2>/dev/null | tail -1)
  # Event files of every folder of the run, the newest checkpoint and its params.
  tar czf "$OUT/$name.tgz" -C "$root" $(for d in $dirs; do
    (cd "$root" && ls "${d#$root/}"/events.out.tfevents.* "${d#$root/}"/params/*.yaml 2>/dev/null); done) \
    ${latest:+"${latest#$root/}"}
done < "$jobs_file"
ls -la "$OUT"
