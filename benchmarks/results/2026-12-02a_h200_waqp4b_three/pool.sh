# The pooled table (table.md) from the eval.json files: bash benchmarks/results/2026-12-02a_h200_waqp4b_three/pool.sh > benchmarks/results/2026-12-02a_h200_waqp4b_three/table.md
python benchmarks/pool_evals.py \
  "a1_waq waqp2 2496 (shipped), seeds 0-6=$(ls benchmarks/results/2026-12-01j_h200_fields4/eval/seed*/waqp2/eval.json | paste -sd,)" \
  "a1_waq waqp2 2496 (shipped), seeds 0-1=benchmarks/results/2026-12-01j_h200_fields4/eval/seed0/waqp2/eval.json,benchmarks/results/2026-12-01j_h200_fields4/eval/seed1/waqp2/eval.json" \
  "waqp4b 2738 (level 5.91)=benchmarks/results/2026-12-01k_h200_push_3_4/eval/seed0/waqp4b/eval.json,benchmarks/results/2026-12-01k_h200_push_3_4/eval/seed1/waqp4b/eval.json" \
  "waqp4b 3022 (level 6.06)=benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed0/waqp4b_3022/eval.json,benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed1/waqp4b_3022/eval.json" \
  "waqp4b 3241 (level 6.04)=benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed0/waqp4b_3241/eval.json,benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed1/waqp4b_3241/eval.json" \
  "a1_est 1499=benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed0/est/eval.json,benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed1/est/eval.json" \
  "a1_oracle 1499=benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed0/oracle/eval.json,benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed1/oracle/eval.json" \
  "a1_base 1499 (shipped)=benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed0/base/eval.json,benchmarks/results/2026-12-02a_h200_waqp4b_three/eval/seed1/base/eval.json"
