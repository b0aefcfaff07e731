"""The level table of README.md: python benchmarks/results/2026-12-02b_h200_waq_recipe/windows.py"""

from pathlib import Path

from dreamwaq.evaluation.curves import read_curves

carry = Path("benchmarks/carry/rough_a1_waq")
for run in ("2026-12-02_02-39-32_waqr", "2026-11-30_14-58-46_waq"):
  for kind in ("mean", "stairs_up"):
    c = read_curves(carry / run, [f"Curriculum/terrain_levels/{kind}"]).popitem()[1]
    ends = [*range(100, 918, 100), 917]
    print(run, kind, [round(c.ending_at(e), 2) for e in ends])
