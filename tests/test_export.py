"""``dreamwaq export``: ONNX and TorchScript reproduce the trained PyTorch policy,
normalisers included; the contract travels with them; bad inputs are one-line errors."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict

import numpy as np
import onnxruntime as ort
import pytest
import torch

from dreamwaq.cli.main import main
from dreamwaq.export import contract as io
from dreamwaq.export.export import export_policy
from dreamwaq.export.onnx_policy import OnnxPolicy
from dreamwaq.tasks import layout
from dreamwaq.tasks.env_cfg import A1EnvSettings
from dreamwaq.tasks.registry import get_task

from .cli import one_line_error
from .trained import tiny_run

TASKS = ("a1_waq", "a1_base", "a1_oracle")
BATCH = 64


@pytest.fixture(scope="module")
def exported() -> dict:
  """Each task's tiny run, exported through the CLI (latest run and checkpoint)."""
  result = {}
  for task in TASKS:
    run = tiny_run(task)
    assert main(["export", "--task", task, "--log_root", str(run.log_root)]) == 0
    result[task] = run.checkpoint.parent / "exported"
  return result


def _reference(task: str, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
  """The trained algorithm's own deterministic policy (learning package), in m/s."""
  alg = tiny_run(task).session.runner.alg
  alg.eval_mode()
  policy = alg.inference_policy()
  with torch.no_grad():
    if task == "a1_base":
      return {io.OUTPUT_ACTIONS: policy(inputs[io.INPUT_OBS])}
    if task == "a1_oracle":
      actor_obs = torch.cat([inputs[io.INPUT_OBS], inputs[io.INPUT_PRIVILEGED]], dim=-1)
      return {io.OUTPUT_ACTIONS: policy(actor_obs)}
    history = inputs[io.INPUT_HISTORY]
    estimate = alg.estimator(history, sample=False)[:, : layout.VEL_DIM]
    return {
      io.OUTPUT_ACTIONS: policy(inputs[io.INPUT_OBS], history)[0],
      io.OUTPUT_EST_VEL: alg.estimator.velocity_normalizer.inverse(estimate),
    }


def _random_inputs(task: str) -> dict[str, torch.Tensor]:
  """Observation-sized random inputs; o_t is the history's newest frame, as deployed."""
  g = torch.Generator().manual_seed(0)
  sizes = io.policy_contract(get_task(task))["inputs"]
  inputs = {name: torch.randn(BATCH, n, generator=g) for name, n in sizes.items()}
  if io.INPUT_HISTORY in inputs:
    inputs[io.INPUT_OBS] = inputs[io.INPUT_HISTORY][:, -layout.PROPRIO_DIM :].clone()
  return inputs


def _normalizers(task: str) -> list[torch.nn.Module]:
  alg = tiny_run(task).session.runner.alg
  if alg.estimator is not None:
    return [alg.estimator.obs_normalizer, alg.estimator.velocity_normalizer]
  return [alg.get_policy().obs_normalizer]


@pytest.mark.parametrize("task", TASKS)
def test_onnx_and_torchscript_reproduce_the_pytorch_policy(exported, task):
  for normalizer in _normalizers(task):  # Trained statistics, not the initial 0 and 1.
    assert normalizer.mean.abs().max() > 1e-3 and (normalizer.std - 1).abs().max() > 1e-3
  inputs = _random_inputs(task)
  expected = _reference(task, inputs)
  folder = exported[task]
  session = ort.InferenceSession(str(folder / "policy.onnx"))
  assert [i.name for i in session.get_inputs()] == list(inputs)
  names = [o.name for o in session.get_outputs()]
  assert names == list(expected)
  onnx_out = session.run(names, {k: v.numpy() for k, v in inputs.items()})
  scripted = torch.jit.load(str(folder / "policy.pt"))
  with torch.no_grad():
    script_out = scripted(*inputs.values())
  script_out = script_out if isinstance(script_out, tuple) else (script_out,)
  for name, from_onnx, from_script in zip(names, onnx_out, script_out, strict=True):
    reference = expected[name].numpy()
    assert np.abs(from_onnx - reference).max() <= 1e-5, name
    assert np.abs(from_script.numpy() - reference).max() <= 1e-5, name
  assert np.abs(expected[io.OUTPUT_ACTIONS].numpy()).max() > 1e-3  # Not trivially zero.


@pytest.mark.parametrize("task", TASKS)
def test_contract_is_beside_and_inside_the_onnx_file(exported, task):
  folder = exported[task]
  contract = json.loads((folder / "policy.json").read_text())
  assert contract["task"] == task
  assert contract["checkpoint"].endswith("/model_1.pt")
  metadata = ort.InferenceSession(str(folder / "policy.onnx")).get_modelmeta()
  assert json.loads(metadata.custom_metadata_map["policy.json"]) == contract
  policy = OnnxPolicy(folder / "policy.onnx")  # sim2sim's loader accepts it.
  assert policy.output_names == list(contract["outputs"])


def test_a_run_folder_copied_from_another_machine_exports(tmp_path, capsys, monkeypatch):
  run = tiny_run("a1_waq")
  copied = tmp_path / "logs" / "rough_a1_waq" / "from_computer_a"
  copied.mkdir(parents=True)
  shutil.copy(run.checkpoint, copied)
  argv = ["export", "--task", "a1_waq", "--log_root", str(tmp_path / "logs"),
          "--load_run", "from_computer_a", "--checkpoint", "1"]  # fmt: skip
  assert main(argv) == 0
  assert (copied / "exported" / "policy.onnx").is_file()
  assert main(["export", "--task", "a1_waq", "--load_run", str(copied)]) == 0  # A path.
  monkeypatch.chdir(tmp_path)
  relative = ["--load_run", "logs/rough_a1_waq/from_computer_a", "--out", "relative"]
  assert main(["export", "--task", "a1_waq", *relative]) == 0  # A path from here.
  assert (tmp_path / "relative" / "policy.onnx").is_file()
  capsys.readouterr()


def _error(capsys, argv: list[str]) -> str:
  return one_line_error(capsys, "export", argv)


def test_wrong_task_missing_run_and_damaged_files_are_one_line_errors(tmp_path, capsys):
  base = tiny_run("a1_base").checkpoint
  err = _error(capsys, ["--task", "a1_waq", "--load_run", str(base.parent)])
  assert "is an a1_base checkpoint, not a1_waq" in err
  logs = ["--log_root", str(tmp_path)]
  assert "no runs in" in _error(capsys, ["--task", "a1_waq", *logs])
  err = _error(capsys, ["--task", "a1_waq", *logs, "--load_run", "nope"])
  assert "no run 'nope'" in err
  run = tmp_path / "rough_a1" / "damaged"
  run.mkdir(parents=True)
  shutil.copy(base, run / "model_1.pt")
  (run / "model_2.pt").write_bytes(base.read_bytes()[: base.stat().st_size // 2])
  (run / "model_3.pt").write_bytes(b"not a checkpoint")
  argv = ["--task", "a1_base", *logs, "--load_run", "damaged"]
  assert "no model_9.pt" in _error(capsys, [*argv, "--checkpoint", "9"])
  for n in (2, 3):
    err = _error(capsys, [*argv, "--checkpoint", str(n)])
    assert f"model_{n}.pt is not a readable checkpoint" in err
  torch.save({"actor_state_dict": {}}, run / "model_4.pt")
  assert "no known task" in _error(capsys, [*argv, "--checkpoint", "4"])


def test_the_contract_records_the_env_settings_the_checkpoint_trained_with(tmp_path):
  saved = torch.load(tiny_run("a1_oracle").checkpoint, weights_only=False)
  trained = A1EnvSettings(height_scan_noise=0.02, actuation_delay_steps=(1, 2))
  saved["infos"]["dreamwaq"]["env"] = asdict(trained)
  torch.save(saved, tmp_path / "model_1.pt")
  exported = export_policy(get_task("a1_oracle"), tmp_path / "model_1.pt")
  contract = json.loads(exported.contract.read_text())
  heights = next(p for p in contract["privileged"] if p["name"] == "height_scan")
  assert heights["noise"] == 0.02 and contract["actuation_delay_steps"] == [1, 2]
