"""The tables of README.md: python benchmarks/results/2026-12-02c_h200_waqr_1838/windows.py"""

from pathlib import Path

from dreamwaq.evaluation.curves import read_curves

carry = Path("benchmarks/carry/rough_a1_waq")
WAQR, PAPER = "2026-12-02_04-42-39_waqr", "2026-11-30_14-58-46_waq"

print("mean terrain level over the 50 iterations ending at each mark")
for run in (WAQR, PAPER):
  for kind in ("mean", "stairs_up", "stairs_down", "discrete"):
    c = read_curves(carry / run, [f"Curriculum/terrain_levels/{kind}"]).popitem()[1]
    ends = [e for e in [*range(900, 1839, 100), 1838] if e <= c.iterations.max() + 1]
    print(run, kind, {e: round(c.ending_at(e), 2) for e in ends})

print("per env step (terminations) and per episode (rewards), iterations lo-hi")
tags = ["Episode_Termination/base_contact", "Episode_Termination/time_out",
        "Episode_Reward/track_lin_vel"]  # fmt: skip
for run, lo, hi in ((WAQR, 1789, 1838), (WAQR, 1450, 1499), (PAPER, 1450, 1499)):
  curves = read_curves(carry / run, tags)
  window = {tag.split("/")[1]: round(c.ending_at(hi), 3) for tag, c in curves.items()}
  print(run, f"{lo}-{hi}", window)
