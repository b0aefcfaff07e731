# The pooled tables of README.md, from the repository root:
#   bash benchmarks/results/2026-12-02d_h200_waqc3/pool.sh
R=benchmarks/results/2026-12-02d_h200_waqc3/eval
S=benchmarks/results/2026-12-01j_h200_fields4/eval
python benchmarks/pool_evals.py \
  "waqc3 3135, seeds 0-6=$(ls $R/c3_s*/waqc3_3135/eval.json | paste -sd,)" \
  "a1_waq waqp2 2496 (shipped), seeds 0-6=$(ls $S/seed*/waqp2/eval.json | paste -sd,)" \
  "waqc3 3135, seeds 0-1=$R/c3_s0/waqc3_3135/eval.json,$R/c3_s1/waqc3_3135/eval.json" \
  "a1_waq 1499 (the paper's settings), seeds 0-1=$R/w_s0/waq/eval.json,$R/w_s1/waq/eval.json"
