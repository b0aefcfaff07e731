# The pooled table of README.md, from the repository root:
#   bash benchmarks/results/2026-12-02e_h200_waqc10/pool.sh
R=benchmarks/results/2026-12-02e_h200_waqc10/eval
C=benchmarks/results/2026-12-02d_h200_waqc3/eval
S=benchmarks/results/2026-12-01j_h200_fields4/eval
python benchmarks/pool_evals.py --se \
  "waqc10 3136, seeds 0-6=$(ls $R/c10_s*/waqc10/eval.json | paste -sd,)" \
  "waqc3 3135, seeds 0-6=$(ls $C/c3_s*/waqc3_3135/eval.json | paste -sd,)" \
  "a1_waq waqp2 2496 (shipped), seeds 0-6=$(ls $S/seed*/waqp2/eval.json | paste -sd,)"
