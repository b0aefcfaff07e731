# The seed-0 table of README.md, from the repository root:
#   bash benchmarks/results/2026-12-02f_h200_waqc3_3580/pool.sh
R=benchmarks/results
python benchmarks/pool_evals.py \
  "waqc3 3580, seed 0=$R/2026-12-02f_h200_waqc3_3580/eval/n_s0/eval.json" \
  "waqc3 3135, seed 0=$R/2026-12-02d_h200_waqc3/eval/c3_s0/waqc3_3135/eval.json" \
  "waqc10 3136, seed 0=$R/2026-12-02e_h200_waqc10/eval/c10_s0/waqc10/eval.json" \
  "a1_waq waqp2 2496 (shipped), seed 0=$R/2026-12-01j_h200_fields4/eval/seed0/waqp2/eval.json"
