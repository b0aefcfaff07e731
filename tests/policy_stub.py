"""A stand-in for ``dreamwaq export`` in tests: a tiny fixed ONNX policy and its policy.json.

The module honours the contract's input/output names and sizes; the sim2sim tests use
it where they need an ONNX file and a policy.json that disagree (real exports agree).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from dreamwaq.export.contract import policy_contract, write_contract
from dreamwaq.tasks.registry import get_task


class StubPolicy(torch.nn.Module):
  """Small fixed linear maps: actions from o_t (near the default pose), est_vel from
  the other inputs."""

  def __init__(self, inputs: dict[str, int], outputs: dict[str, int]) -> None:
    super().__init__()
    g = torch.Generator().manual_seed(0)
    self.maps = torch.nn.ParameterDict(
      {
        f"{i}_{o}": torch.nn.Parameter(0.01 * torch.randn(n_in, n_out, generator=g))
        for i, n_in in inputs.items()
        for o, n_out in outputs.items()
      }
    )
    self.inputs, self.outputs = list(inputs), list(outputs)

  def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
    x = dict(zip(self.inputs, args, strict=True))
    return tuple(
      sum(x[i] @ self.maps[f"{i}_{o}"] for i in self.inputs) for o in self.outputs
    )


def write_stub_policy(
  folder: Path, task: str = "a1_waq", contract_task: str | None = None
) -> Path:
  """``folder/policy.onnx`` for ``task`` and a ``policy.json`` for ``contract_task``
  (the same task unless a mismatch is wanted); returns the ONNX path."""
  folder.mkdir(parents=True, exist_ok=True)
  contract = policy_contract(get_task(task))
  module = StubPolicy(contract["inputs"], contract["outputs"])
  names = [*contract["inputs"], *contract["outputs"]]
  path = folder / "policy.onnx"
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # The legacy exporter's deprecation notice.
    torch.onnx.export(
      module,
      tuple(torch.zeros(1, n) for n in contract["inputs"].values()),
      str(path),
      input_names=list(contract["inputs"]),
      output_names=list(contract["outputs"]),
      dynamic_axes={n: {0: "batch"} for n in names},
      dynamo=False,
    )
  write_contract(folder / "policy.json", policy_contract(get_task(contract_task or task)))
  return path
