#!/usr/bin/env bash
# Chooses one of a run's checkpoints and confirms it, in one call on the GPU machine: the
# checkpoints are evaluated on the selection seeds (side by side), select_checkpoint.py
# applies its rule to those readings, and the chosen one is evaluated on the confirmation
# seeds (tiles it was not chosen on). One call, because a machine idle for 30 s between two
# calls is given back; one tarball, because $OUT brings back 8 files at most.
# Run on the GPU machine after `source /root/gpukit/env.sh`, from the repo root:
#   bash benchmarks/gpu_select_confirm.sh NAME TASK "N ... [newest]" [EVAL FLAGS ...]
# NAME TASK: as a jobs line of gpu_eval.sh. SELECT_SEEDS (default "0 1"), CONFIRM_SEEDS
# (default "2 3 4 5 6"), EVAL_TIMEOUT (s, per phase, default 300), SELECT_ARGS (more
# arguments of select_checkpoint.py, e.g. "--min-level 6"). SEED_RUNS, RUNS_ROOT,
# EVAL_ROOT: as gpu_eval.sh's.
# To $OUT/select_NAME.tgz: sel_s<SEED>/ and conf_s<SEED>/ (gpu_eval.sh's folders),
# selected.txt (the rule's output; its last line the chosen iteration or `none`) and
# carry/<experiment>/<run folder>/model_<N>.pt, the chosen checkpoint slimmed, to extract
# into benchmarks/carry/. Exits 3 when no checkpoint passes the rule, as select_checkpoint.py.
# Time on an H200 with the kernel cache, `--fields 4` on three terrains: one evaluation
# alone under 85 s, seven side by side 267 s, eight not done in 290 s; so three checkpoints
# on two seeds, then five seeds, fit one 600-s call.
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: gpu_select_confirm.sh NAME TASK \"N ... [newest]\" [EVAL FLAGS ...]" >&2; exit 2; }
name=$1 task=$2 checkpoints=$3
shift 3
here=$(dirname "$0")
source "$here/gpu_runs.sh"  # PYTHONPATH with src, added to the machine's (not replacing it)
evals=${EVAL_ROOT:-/root/eval}
pack=$(mktemp -d)
phase() {  # phase PREFIX "SEEDS" "CHECKPOINTS" EVAL FLAGS ...: one gpu_eval.sh per seed
  local prefix=$1 seeds=$2 picks=$3 seed
  shift 3
  for seed in $seeds; do
    echo "$name $task" > "$pack/${prefix}_s$seed.txt"
    OUT=$pack EVAL_ROOT=$evals CHECKPOINTS=$picks EVAL_TIMEOUT=${EVAL_TIMEOUT:-300} \
      bash "$here/gpu_eval.sh" "$pack/${prefix}_s$seed.txt" --seed "$seed" "$@" \
      > "$pack/${prefix}_s$seed.out" 2>&1 &
  done
  wait
  for seed in $seeds; do cp -r "$evals/${prefix}_s$seed" "$pack/"; done
}
phase sel "${SELECT_SEEDS:-0 1}" "$checkpoints" "$@"
# shellcheck disable=SC2086
python "$here/select_checkpoint.py" "$pack"/sel_s*/"$name"*/eval.json ${SELECT_ARGS:-} \
  > "$pack/selected.txt" 2>&1
status=$?
cat "$pack/selected.txt"
chosen=$(tail -1 "$pack/selected.txt")
if [ "$status" -eq 0 ] && [[ "$chosen" =~ ^[0-9]+$ ]]; then
  phase conf "${CONFIRM_SEEDS:-2 3 4 5 6}" "$chosen" "$@"
  folder=$(folder_with_checkpoint "$name" "$chosen")
  slim=$pack/carry/${folder#"$root"/}/model_$chosen.pt
  mkdir -p "$(dirname "$slim")"
  slim_copy "$folder/model_$chosen.pt" "$slim"
fi
rm -f "$pack"/*.tgz  # gpu_eval.sh's tarballs: their folders are copied beside them
tar czf "$OUT/select_$name.tgz" -C "$pack" --exclude='*_s[0-9]*.txt' .
ls -la "$OUT"
exit "$status"
