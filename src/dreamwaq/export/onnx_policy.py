"""An exported policy run with onnxruntime on one CPU thread, checked against policy.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from dreamwaq.export.contract import CONTRACT_FILE, load_contract


class OnnxPolicy:
  """``policy.onnx`` and the ``policy.json`` beside it; names and sizes must agree."""

  def __init__(self, onnx_path: Path) -> None:
    onnx_path = Path(onnx_path)
    if not onnx_path.is_file():
      raise FileNotFoundError(f"no policy at {onnx_path}")
    self.contract: dict[str, Any] = load_contract(onnx_path.with_name(CONTRACT_FILE))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # Deployment target: one core, no thread pool.
    options.inter_op_num_threads = 1
    try:
      self._session = ort.InferenceSession(
        str(onnx_path), options, providers=["CPUExecutionProvider"]
      )
    except Exception as e:  # noqa: BLE001 (onnxruntime's own exception types)
      reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
      raise ValueError(f"{onnx_path} is not a loadable ONNX model ({reason})") from None
    _check("input", self._session.get_inputs(), self.contract["inputs"], onnx_path)
    _check("output", self._session.get_outputs(), self.contract["outputs"], onnx_path)
    self.output_names = list(self.contract["outputs"])

  def __call__(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One step for one robot: unbatched float64 in, unbatched float64 out."""
    feeds = {name: x[None].astype(np.float32) for name, x in inputs.items()}
    outputs = self._session.run(self.output_names, feeds)
    return {
      n: o[0].astype(np.float64) for n, o in zip(self.output_names, outputs, strict=True)
    }


def _check(kind: str, args: list[Any], expected: dict[str, int], path: Path) -> None:
  """The ONNX graph's names and [batch, size] shapes must be the contract's."""
  names = [a.name for a in args]
  if sorted(names) != sorted(expected):
    raise ValueError(
      f"{path}: {kind}s {names} do not match {CONTRACT_FILE}'s {list(expected)}"
    )
  for a in args:
    if len(a.shape) != 2 or a.shape[1] != expected[a.name]:
      raise ValueError(
        f"{path}: {kind} '{a.name}' has shape {a.shape}, {CONTRACT_FILE} says "
        f"[batch, {expected[a.name]}]"
      )
