"""The seed's 3 × 3 playback figure for one robot, every quantity in physical units.

Row 1 (all tasks): commanded vs measured v_x, v_y, yaw rate. With an estimator:
row 2 estimated vs true body velocity (m/s; the seed mixed in normalised units),
row 3 squared estimation error per axis with its running mean (the MSE). Without:
row 2 one joint's position (and target) and velocity, base v_z; row 3 the four
feet's contact forces and the joint's torque.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dreamwaq.play.trace import Trace
from dreamwaq.robot import a1

PLOT_JOINT = "FL_thigh_joint"
"""The joint of the base model's rows (legged_gym's logger plotted joint 1)."""
AXES = ("x", "y", "z")


def plot_trace(trace: Trace, path: Path, title: str) -> Path:
  """Draw the figure of ``trace`` into ``path`` (PNG, PDF, SVG by the suffix)."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  estimator = "est_vel" in trace
  layout = [["vx", "vy", "wz"]] + (
    [["ex", "ey", "ez"], ["sx", "sy", "sz"]]
    if estimator
    else [["q", "dq", "vz"], ["feet", "feet", "tau"]]
  )
  fig, ax = plt.subplot_mosaic(layout, figsize=(15, 10), layout="constrained")
  fig.suptitle(title)
  t, cmd, vel = trace.time, trace["command"], trace["lin_vel"]
  measured = (vel[:, 0], vel[:, 1], trace["ang_vel"][:, 2])
  for k, (key, label) in enumerate(
    (("vx", "v_x [m/s]"), ("vy", "v_y [m/s]"), ("wz", "yaw rate [rad/s]"))
  ):
    _lines(ax[key], t, label, commanded=cmd[:, k], measured=measured[k])
  if estimator:
    est = trace["est_vel"]
    for k, axis in enumerate(AXES):
      _lines(ax[f"e{axis}"], t, f"body v_{axis} [m/s]", estimated=est[:, k], true=vel[:, k])
      squared = np.square(est[:, k] - vel[:, k])
      running = np.cumsum(squared) / np.arange(1, len(squared) + 1)
      _lines(
        ax[f"s{axis}"], t, f"squared error v_{axis} [(m/s)²]",
        squared=squared, running_MSE=running,
      )  # fmt: skip
      ax[f"s{axis}"].set_title(f"MSE v_{axis}: {squared.mean():.4f} (m/s)²")
  else:
    j = a1.JOINT_NAMES.index(PLOT_JOINT)
    _lines(
      ax["q"], t, f"{PLOT_JOINT} position [rad]",
      measured=trace["joint_pos"][:, j], target=trace["joint_target"][:, j],
    )  # fmt: skip
    _lines(ax["dq"], t, f"{PLOT_JOINT} velocity [rad/s]", measured=trace["joint_vel"][:, j])
    _lines(ax["vz"], t, "base v_z [m/s]", measured=vel[:, 2])
    forces = trace["foot_force"]
    _lines(
      ax["feet"], t, "foot contact force [N]",
      **{leg: forces[:, i] for i, leg in enumerate(a1.LEGS)},
    )  # fmt: skip
    _lines(ax["tau"], t, f"{PLOT_JOINT} torque [N·m]", measured=trace["torque"][:, j])
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return path


def _lines(ax, t: np.ndarray, ylabel: str, **series: np.ndarray) -> None:
  for name, values in series.items():
    ax.plot(t, values, label=name.replace("_", " "), linewidth=1.0)
  ax.set_xlabel("time [s]")
  ax.set_ylabel(ylabel)
  ax.grid(alpha=0.3)
  ax.legend(loc="upper right", fontsize="small")
