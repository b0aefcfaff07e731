"""The policy's I/O contract, defined once: what ``policy.json`` holds.

Export writes it (beside ``policy.onnx`` and as ONNX metadata); sim-to-sim and any
deployment read it and nothing else. Every value comes from the robot constants,
the observation layout and the task's env settings, never retyped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dreamwaq.robot import a1
from dreamwaq.tasks import layout
from dreamwaq.tasks.env_cfg import DECIMATION, PHYSICS_DT, A1EnvSettings
from dreamwaq.tasks.registry import TaskSpec, get_task

FORMAT = "dreamwaq-policy/1"
CONTRACT_FILE = "policy.json"
"""The contract's file name, beside ``policy.onnx`` (and as its ONNX metadata key)."""

INPUT_OBS = "obs"
"""[B, 45] raw o_t in the layout's order (no normalisation: it is folded in); with
an estimator it must equal the newest frame of ``obs_history``, as in training."""
INPUT_HISTORY = "obs_history"
"""[B, 225] the last five raw o_t, oldest first (estimator tasks)."""
INPUT_PRIVILEGED = "privileged"
"""[B, 193] raw v_t, d_t, h_t (the oracle only)."""
OUTPUT_ACTIONS = "actions"
"""[B, 12] joint targets = default_joint_pos + action_scale · actions."""
OUTPUT_EST_VEL = "est_vel"
"""[B, 3] estimated body velocity in m/s (estimator tasks)."""


def input_names(task: TaskSpec) -> list[str]:
  if task.kind == "estimator":
    return [INPUT_OBS, INPUT_HISTORY]
  if task.kind == "oracle":
    return [INPUT_OBS, INPUT_PRIVILEGED]
  return [INPUT_OBS]


def output_names(task: TaskSpec) -> list[str]:
  return [OUTPUT_ACTIONS, OUTPUT_EST_VEL] if task.estimator else [OUTPUT_ACTIONS]


def _parts(parts: tuple[layout.ObsPart, ...], s: A1EnvSettings) -> list[dict[str, Any]]:
  return [
    {"name": p.name, "size": p.size, "unit": p.unit, "noise": s.obs_noise(p)} for p in parts
  ]


def policy_contract(
  task: TaskSpec, settings: A1EnvSettings | None = None
) -> dict[str, Any]:
  """The contract of a task's exported policy, as a JSON-ready dict."""
  s = settings or A1EnvSettings()
  sizes = {
    INPUT_OBS: layout.PROPRIO_DIM,
    INPUT_HISTORY: layout.HISTORY_DIM,
    INPUT_PRIVILEGED: layout.PRIVILEGED_DIM,
    OUTPUT_ACTIONS: len(a1.JOINT_NAMES),
    OUTPUT_EST_VEL: layout.VEL_DIM,
  }
  return {
    "format": FORMAT,
    "task": task.name,
    "estimator": task.estimator,
    "inputs": {name: sizes[name] for name in input_names(task)},
    "outputs": {name: sizes[name] for name in output_names(task)},
    "joint_names": list(a1.JOINT_NAMES),
    "default_joint_pos": a1.default_joint_pos(),
    "action_scale": a1.ACTION_SCALE,
    "kp": a1.KP,
    "kd": a1.KD,
    "effort_limits": [a1.effort_limit(j) for j in a1.JOINT_NAMES],
    "control_dt": PHYSICS_DT * DECIMATION,
    "sim_dt": PHYSICS_DT,
    "decimation": DECIMATION,
    "actuation_delay_steps": list(s.actuation_delay_steps),
    "observation": _parts(layout.PROPRIO, s),
    "privileged": _parts(layout.PRIVILEGED, s),
    "history_length": layout.HISTORY_LENGTH,
    "history_order": "oldest first; at reset every frame is the first observation",
    "obs_clip": layout.OBS_CLIP,
    "height_clip": layout.HEIGHT_CLIP,
    "height_scan": {
      "size": list(layout.HEIGHT_SCAN_SIZE),
      "resolution": layout.HEIGHT_SCAN_RESOLUTION,
      "alignment": "yaw",
      "order": "x fastest, then y; from (−x, −y) to (+x, +y)",
    },
    "projected_gravity": "quat_apply_inverse(q_base, [0, 0, -1])",
    "command_ranges": {
      "lin_vel_x": [-s.command_range, s.command_range],
      "lin_vel_y": [-s.command_range, s.command_range],
      "ang_vel_z": [-s.command_range, s.command_range],
    },
  }


def write_contract(path: Path, contract: dict[str, Any]) -> None:
  path.write_text(json.dumps(contract, indent=2) + "\n")


def load_contract(path: Path) -> dict[str, Any]:
  """Read a ``policy.json``; a wrong format or a contract that disagrees with this
  version's constants is an error naming the field."""
  try:
    contract = json.loads(Path(path).read_text())
  except FileNotFoundError:
    raise FileNotFoundError(f"no policy contract at {path}") from None
  except json.JSONDecodeError as e:
    raise ValueError(f"{path} is not valid JSON ({e.msg}, line {e.lineno})") from None
  if contract.get("format") != FORMAT:
    raise ValueError(f"{path}: format {contract.get('format')!r}, expected {FORMAT!r}")
  expected = policy_contract(get_task(contract["task"]))
  for key in ("joint_names", "inputs", "outputs", "observation", "history_length"):
    if contract.get(key) != expected[key]:
      raise ValueError(
        f"{path}: '{key}' does not match task {contract['task']} of this version"
      )
  return contract
