# Sourced by the gpu_*.sh scripts that work on the runs of a jobs file under /root/runs
# (RUNS_ROOT overrides it: the tests run the scripts with stand-ins).
# SEED_RUNS=DIR (optional): run folders brought from an earlier machine, copied
# into /root/runs first (existing files are kept): benchmarks/carry/ holds the runs
# carried between sessions.
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}
root=${RUNS_ROOT:-/root/runs}
mkdir -p "$root"
[ -n "${SEED_RUNS:-}" ] && cp -rn "$SEED_RUNS"/. "$root"/
# The folders of run NAME, oldest first: each resumed call trains in a folder of its own.
run_folders() {
  ls -d "$root"/*/*_"$1" 2>/dev/null | sort
}
# The newest folder of run NAME that holds a checkpoint (a call stopped while compiling
# leaves a folder without one).
newest_with_checkpoint() {
  for d in $(run_folders "$1"); do
    ls "$d"/model_*.pt > /dev/null 2>&1 && echo "$d"
  done | tail -1
}
# The newest folder of run NAME that holds model_N.pt.
folder_with_checkpoint() {
  for d in $(run_folders "$1"); do
    [ -f "$d/model_$2.pt" ] && echo "$d"
  done | tail -1
}
# The newest model_N.pt of a run folder.
newest_checkpoint() {
  ls -v "$1"/model_*.pt | tail -1
}
# A checkpoint slimmed (no optimiser state; dreamwaq.learning.ppo.slim) to a new path, for
# bringing it back: slim_copy SOURCE TARGET.
slim_copy() {
  python -c 'import sys; from pathlib import Path; from dreamwaq.runs import write_slim; write_slim(Path(sys.argv[1]), Path(sys.argv[2]))' "$1" "$2"
}
# Jobs go round-robin over the machine's GPUs (one process a GPU at a time per job).
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
gpus=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)
[ "$gpus" -ge 1 ] || gpus=1
