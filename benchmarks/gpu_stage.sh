#!/usr/bin/env bash
# Here, before a session's device calls (not on the GPU machine). A call carries the working
# tree and its carry paths, 64 MiB in all, and pack.py's .gpu/1 alone is 58 MiB: the large
# tracked folders leave the tree (untracked and ignored; their files stay on disk),
# pack.py packs the environment into .gpu/1.., and .gpu/snap gets the commit's code with
# only the carried run folders the calls resume. Where pack.py's cache holds no Warp kernel
# cache (a new checkout or machine), benchmarks/kernels/'s is imported first: without it
# the GPU machine compiles for minutes before training or evaluating.
#   bash benchmarks/gpu_stage.sh [RUN ...]   RUN: a run folder under benchmarks/carry/,
#                                            e.g. rough_a1_waq/2026-12-02_04-42-39_waqr
#   bash benchmarks/gpu_stage.sh --restore   after the calls: the folders tracked again
# PACK: pack.py (default ../shared/gpu/pack.py). Then carry [".gpu/3", ".gpu/snap"] and
# `cd .gpu/snap; SEED_RUNS=$PWD/benchmarks/carry bash benchmarks/gpu_concurrent_train.sh ...`.
set -euo pipefail
cd "$(dirname "$0")/.."
large=(benchmarks/carry src/dreamwaq/pretrained docs/media benchmarks/results benchmarks/kernels)
pack=${PACK:-../shared/gpu/pack.py}
cache=${PACK_CACHE:-$HOME/.cache/gpu-pack}  # pack.py's
exclude=.git/info/exclude
saved=.git/info/exclude.before-gpu-stage
if [ "${1:-}" = --restore ]; then
  [ -f "$saved" ] || { echo "gpu_stage: nothing to restore (not staged)" >&2; exit 2; }
  mv "$saved" "$exclude"
  git reset -q -- "${large[@]}"
  exit 0
fi
[ -f "$saved" ] && { echo "gpu_stage: already staged; run it with --restore first" >&2; exit 2; }
git diff --quiet HEAD -- "${large[@]}" ||
  { echo "gpu_stage: uncommitted changes under ${large[*]}: commit them first" >&2; exit 2; }
for run in "$@"; do
  git cat-file -e "HEAD:benchmarks/carry/$run" 2> /dev/null ||
    { echo "gpu_stage: no run folder benchmarks/carry/$run in the last commit" >&2; exit 2; }
done
mkdir -p .git/info && touch "$exclude" && cp "$exclude" "$saved"
printf '/%s/\n' "${large[@]}" >> "$exclude"
git rm -r -q --cached "${large[@]}"
if ! ls "$cache"/kernels/kernels.tar.xz.part* > /dev/null 2>&1 &&
  ls benchmarks/kernels/kernels.tar.xz.part* > /dev/null 2>&1; then
  python3 "$pack" --import-kernels benchmarks/kernels
fi
rm -rf .gpu
python3 "$pack"
mkdir -p .gpu/snap  # After pack.py, which empties .gpu/.
git archive HEAD src benchmarks tests pyproject.toml | tar -x -C .gpu/snap
rm -rf .gpu/snap/src/dreamwaq/pretrained/*/ .gpu/snap/benchmarks/results .gpu/snap/benchmarks/kernels
for dir in .gpu/snap/benchmarks/carry/*/*/; do
  run=${dir#.gpu/snap/benchmarks/carry/}
  [[ " $* " == *" ${run%/} "* ]] || rm -rf "$dir"
done
du -sh .gpu/*
