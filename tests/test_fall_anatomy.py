"""``benchmarks/fall_anatomy.py``'s tally of falls by command, on hand-made records."""

from __future__ import annotations

import numpy as np

from .scripts import load_script

fall_anatomy = load_script("fall_anatomy")


def test_falls_are_counted_under_the_command_in_force_per_minute_alive():
  steps, dt = 3000, 0.02  # 60 s per robot.
  command = np.zeros((steps, 2, 3))
  command[:, 0] = (0.0, 0.8, 0.0)  # Robot 0: sideways and fast; falls at 30 s.
  command[:, 1] = (-0.3, 0.0, 1.0)  # Robot 1: turning, slow; never falls.
  fall = {"robot": 0, "time_s": 30.0, "terms": ["upside_down"]}
  rec = fall_anatomy.Records(
    dt=dt,
    contacts=np.zeros((steps, 2, 12), dtype=bool),
    height=np.zeros((steps, 2)),
    foot_height=np.zeros((steps, 2, 4)),
    command=command,
    falls=[fall],
  )
  tally = fall_anatomy.falls_by_command(rec)
  sideways = tally["sideways |v_y| > 0.5 m/s"]
  assert sideways["minutes_alive"] == 0.5 and sideways["falls"] == 1
  assert sideways["falls_per_min"] == 2.0 and sideways["by_term"] == {"upside_down": 1}
  turning = tally["turning |w_z| > 0.5 rad/s"]
  assert turning == {"minutes_alive": 1.0, "falls": 0, "by_term": {}, "falls_per_min": 0.0}
  assert tally["fast |v_xy| > 0.7 m/s"]["falls"] == 1
  assert tally["|v_x| <= 0.5 m/s"]["minutes_alive"] == 1.5  # Both robots' time alive.
