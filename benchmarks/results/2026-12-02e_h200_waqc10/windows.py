"""The tables of README.md: python benchmarks/results/2026-12-02e_h200_waqc10/windows.py"""

from pathlib import Path

from dreamwaq.evaluation.curves import read_curves

carry = Path("benchmarks/carry/rough_a1_waq")
WAQC10, WAQC3 = "2026-12-02_09-49-25_waqc10", "2026-12-02_07-18-22_waqc3"
MARKS = [2600, 2700, 2742, 2800, 2824, 2900, 3000, 3100, 3135, 3136]

print("mean terrain level over the 50 iterations ending at each mark")
KINDS = ("mean", "smooth_slope", "rough_slope", "stairs_up", "stairs_down", "discrete")
for run in (WAQC10, WAQC3):
  for kind in KINDS:
    c = read_curves(carry / run, [f"Curriculum/terrain_levels/{kind}"]).popitem()[1]
    marks = [m for m in MARKS if m <= c.iterations.max()]
    print(run, kind, {m: round(c.ending_at(m), 2) for m in marks})

print("per env step (terminations) and per episode (rewards), the 50 iterations ending at")
tags = ["Episode_Termination/base_contact", "Episode_Termination/upside_down",
        "Episode_Reward/track_lin_vel", "Episode_Reward/foot_clearance"]  # fmt: skip
for run, end in ((WAQC10, 2824), (WAQC10, 3136), (WAQC3, 2834), (WAQC3, 3135)):
  window = {
    tag.split("/")[1]: round(c.ending_at(end), 4)
    for tag, c in read_curves(carry / run, tags).items()
  }
  print(run, end, window)
