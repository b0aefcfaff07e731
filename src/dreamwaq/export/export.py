"""``<run>/exported/``: a checkpoint's deterministic policy as ONNX and TorchScript,
with the contract beside it (``policy.json``) and inside the ONNX file (metadata)."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch

from dreamwaq.export import contract as io
from dreamwaq.export.deployed import example_inputs, load_deployment
from dreamwaq.runs import trained_settings
from dreamwaq.tasks.registry import TaskSpec

EXPORT_DIR = "exported"
ONNX_FILE = "policy.onnx"
TORCHSCRIPT_FILE = "policy.pt"
ONNX_OPSET = 18
"""mjlab's export opset."""


@dataclass(frozen=True)
class ExportedPolicy:
  onnx: Path
  torchscript: Path
  contract: Path


def export_policy(
  task: TaskSpec, checkpoint: Path, out_dir: Path | None = None
) -> ExportedPolicy:
  """Write ``policy.onnx``, ``policy.pt`` and ``policy.json`` of a checkpoint into
  ``out_dir`` (default: ``exported/`` in the checkpoint's run folder)."""
  module = load_deployment(task, checkpoint)
  out_dir = Path(out_dir) if out_dir else Path(checkpoint).parent / EXPORT_DIR
  out_dir.mkdir(parents=True, exist_ok=True)
  contract = io.policy_contract(task, trained_settings(checkpoint)) | {
    "checkpoint": f"{Path(checkpoint).parent.name}/{Path(checkpoint).name}"
  }
  inputs = example_inputs(task)
  names = [*contract["inputs"], *contract["outputs"]]
  paths = ExportedPolicy(
    out_dir / ONNX_FILE, out_dir / TORCHSCRIPT_FILE, out_dir / io.CONTRACT_FILE
  )
  with warnings.catch_warnings(), torch.no_grad():
    # The TorchScript exporters' deprecation notices: both still write these formats.
    warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
    torch.onnx.export(
      module,
      inputs,
      str(paths.onnx),
      input_names=list(contract["inputs"]),
      output_names=list(contract["outputs"]),
      dynamic_axes={name: {0: "batch"} for name in names},
      opset_version=ONNX_OPSET,
      dynamo=False,
    )
    torch.jit.trace(module, inputs).save(str(paths.torchscript))
  _attach_contract(paths.onnx, contract)
  io.write_contract(paths.contract, contract)
  return paths


def _attach_contract(path: Path, contract: dict) -> None:
  """The contract travels inside the ONNX file too, under its file name."""
  model = onnx.load(str(path))
  entry = model.metadata_props.add()
  entry.key = io.CONTRACT_FILE
  entry.value = json.dumps(contract)
  onnx.save(model, str(path))
