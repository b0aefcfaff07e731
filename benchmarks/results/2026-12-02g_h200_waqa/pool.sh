# The pooled table of README.md (seven seeds, 256 robots per group and seed, 4 tiles), from the repository root:
#   bash benchmarks/results/2026-12-02g_h200_waqa/pool.sh
R=benchmarks/results/2026-12-02g_h200_waqa/eval
C=benchmarks/results/2026-12-02d_h200_waqc3/eval
S=benchmarks/results/2026-12-01j_h200_fields4/eval
python benchmarks/pool_evals.py --se \
  "waqa 3047 (annealed), seeds 0-6=$(ls $R/a_s*/eval.json | paste -sd,)" \
  "waqc3 3135, seeds 0-6=$(ls $C/c3_s*/waqc3_3135/eval.json | paste -sd,)" \
  "waqp2 2496 (shipped before), seeds 0-6=$(ls $S/seed*/waqp2/eval.json | paste -sd,)"
