"""Pretrained policies in the package: ``benchmarks/ship_pretrained.py`` writes a task's
folder (here a tiny run's, into ``$DREAMWAQ_PRETRAINED_DIR``); ``sim2sim --pretrained``,
``play --pretrained`` and fine-tuning (``train --resume --load_run <folder>``) use it;
the files shipped for real, once they exist, are checked against their checkpoint."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import onnxruntime as ort
import pytest
import torch

from dreamwaq import pretrained
from dreamwaq.cli.main import main
from dreamwaq.export.contract import load_contract, policy_contract
from dreamwaq.export.deployed import load_deployment, outputs
from dreamwaq.export.onnx_policy import OnnxPolicy
from dreamwaq.learning.ppo import OPTIMIZER_STATE
from dreamwaq.learning.runner import CURRICULUM_STATE
from dreamwaq.runs import append_history, read_checkpoint
from dreamwaq.tasks.registry import get_task

from .cli import one_line_error
from .scripts import REPO, load_script
from .trained import ITERATIONS, tiny_run

SHIPPED = pretrained.available()
"""The tasks shipped in the package (none until the trained policies land)."""


ship_pretrained = load_script("ship_pretrained")


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory) -> Path:
  """A one-robot, one-row ``dreamwaq eval`` of the tiny a1_waq run."""
  run, out = tiny_run("a1_waq"), tmp_path_factory.mktemp("eval")
  argv = ["eval", "--task", "a1_waq", "--log_root", str(run.log_root), "--num_envs", "1",
          "--duration", "0.4", "--rows", "0", "--terrains", "stairs_up",
          "--conditions", "nominal", "--push_levels", "--device", "cpu",
          "--out", str(out)]  # fmt: skip
  assert main(argv) == 0
  return out / "eval.json"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, evaluation) -> Path:
  """The tiny a1_waq run shipped by the script into a temporary pretrained folder."""
  root = tmp_path_factory.mktemp("pretrained")
  argv = [str(tiny_run("a1_waq").checkpoint), "--task", "a1_waq", "--gpu", "none (CPU)",
          "--eval", str(evaluation)]  # fmt: skip
  with pytest.MonkeyPatch.context() as mp:
    mp.setenv(pretrained.ENV_VAR, str(root))
    assert ship_pretrained.main(argv) == 0
  return root


@pytest.fixture
def use_shipped(shipped, monkeypatch) -> Path:
  monkeypatch.setenv(pretrained.ENV_VAR, str(shipped))
  return shipped


def assert_matches_its_checkpoint(task: str) -> None:
  """A shipped folder is its checkpoint and that checkpoint's export: the card, the
  contract of this version, ONNX and TorchScript computing the checkpoint's policy."""
  checkpoint = pretrained.checkpoint(task)
  card = json.loads((checkpoint.parent / pretrained.CARD_FILE).read_text())
  assert card["task"] == task and card["checkpoint"] == checkpoint.name
  assert card["iteration"] == read_checkpoint(checkpoint)["iter"]
  onnx = pretrained.policy(task)
  contract = load_contract(onnx.with_name("policy.json"))
  expected = policy_contract(get_task(task)) | {"checkpoint": f"{task}/{checkpoint.name}"}
  assert contract == json.loads(json.dumps(expected))
  session = ort.InferenceSession(str(onnx))
  assert json.loads(session.get_modelmeta().custom_metadata_map["policy.json"]) == contract
  g = torch.Generator().manual_seed(0)
  inputs = tuple(torch.randn(64, n, generator=g) for n in contract["inputs"].values())
  with torch.no_grad():
    reference = outputs(load_deployment(get_task(task), checkpoint), inputs)
    scripted = outputs(torch.jit.load(str(onnx.with_name("policy.pt"))), inputs)
  from_onnx = session.run(
    list(contract["outputs"]), {n: x.numpy() for n, x in zip(contract["inputs"], inputs)}
  )
  for ref, script, ort_out in zip(reference, scripted, from_onnx, strict=True):
    np.testing.assert_allclose(ort_out, ref.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(script.numpy(), ref.numpy(), atol=1e-4, rtol=0)
  assert OnnxPolicy(onnx).output_names == list(contract["outputs"])  # sim2sim loads it.


def test_ship_writes_the_slim_checkpoint_its_export_and_a_card(use_shipped):
  folder = use_shipped / "a1_waq"
  files = sorted(p.name for p in folder.iterdir())
  assert files == ["card.json", "model_1.pt", "policy.json", "policy.onnx", "policy.pt"]
  assert pretrained.available() == ["a1_waq"]
  full = read_checkpoint(tiny_run("a1_waq").checkpoint)
  shipped = read_checkpoint(folder / "model_1.pt")
  assert set(full) - set(shipped) == set(OPTIMIZER_STATE)
  for key in ("actor_state_dict", "critic_state_dict", "estimator_state_dict"):
    for name, value in full[key].items():
      torch.testing.assert_close(shipped[key][name], value, rtol=0, atol=0)
  assert shipped["infos"][CURRICULUM_STATE].keys() == full["infos"][CURRICULUM_STATE].keys()
  assert shipped["learning_rate"] == full["optimizer_state_dict"]["param_groups"][0]["lr"]
  size = (folder / "model_1.pt").stat().st_size
  assert size < 0.5 * tiny_run("a1_waq").checkpoint.stat().st_size
  card = json.loads((folder / "card.json").read_text())
  assert card["iteration"] == ITERATIONS - 1 and card["gpu"] == "none (CPU)"
  assert card["env_steps"] == ITERATIONS * 24 * 8 and card["num_envs"] == 8
  assert card["run"] == tiny_run("a1_waq").checkpoint.parent.name and card["command"]
  assert card["training_iterations"] == 0  # The tiny run's one session never closed.
  assert card["stages"] == [{"from_iteration": 0, "command": card["command"]}]
  headline = card["eval"]
  assert headline["condition"] == "training randomisation"
  assert set(headline["success_pct_mean_over_rows"]) == {"stairs_up"}
  assert headline["vel_est_rmse_mps"]["stairs_up"] > 0 and headline["max_push_mps"] is None
  assert_matches_its_checkpoint("a1_waq")


def test_the_card_lists_each_stage_that_changed_the_env_settings(tmp_path):
  """A fine-tune's recipe: the start, then each resume with new ``--env`` settings;
  a plain resume (settings kept from the checkpoint) or a repeated ``--env`` is not a
  new stage."""
  train = ["/usr/bin/dreamwaq", "train", "--task", "a1_waq"]
  sessions = [
    ("start", 0, None),
    ("resume", 70, None),
    ("resume", 1500, ["push_interval_s=4"]),
    ("resume", 1600, ["push_interval_s=4"]),
    ("resume", 1777, ["push_interval_s=4", "rewards.foot_clearance=-1"]),
  ]
  for event, iteration, env in sessions:
    argv = [*train, *(["--resume"] if event == "resume" else [])]
    argv += [f"--env={e}" for e in env or []]
    append_history(tmp_path, event, argv=argv, args={"env": env}, iteration=iteration)
    append_history(tmp_path, "stopped", iteration=iteration + 50)
  stages = ship_pretrained._training_stages(tmp_path)
  assert [s["from_iteration"] for s in stages] == [0, 1500, 1777]
  assert stages[0]["command"] == "dreamwaq train --task a1_waq"
  assert stages[2]["command"].endswith("--env=rewards.foot_clearance=-1")


def test_wheels_and_editable_installs_carry_every_shipped_file(use_shipped):
  tomllib = pytest.importorskip("tomllib")  # Python 3.11+.
  setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
  globs = setuptools["package-data"]["dreamwaq"]
  for path in (use_shipped / "a1_waq").iterdir():
    assert any(fnmatch(f"pretrained/a1_waq/{path.name}", g) for g in globs), path.name


def test_sim2sim_runs_the_shipped_policy_on_stairs(use_shipped, tmp_path, capsys):
  gif = tmp_path / "stairs.gif"
  argv = ["sim2sim", "--pretrained", "a1_waq", "--terrain", "stairs_up",
          "--duration", "2", "--video", str(gif)]  # fmt: skip
  assert main(argv) == 0, capsys.readouterr().err
  assert "sim2sim a1_waq on stairs_up" in capsys.readouterr().out
  assert len(imageio.mimread(gif)) == 25  # 2 s at 12.5 fps.


def test_play_runs_the_shipped_checkpoint(use_shipped, capsys):
  argv = ["play", "--task", "a1_waq", "--pretrained", "--num_envs", "1", "--steps", "10"]
  assert main(argv) == 0, capsys.readouterr().err
  out = capsys.readouterr().out
  assert f"a1_waq from {use_shipped / 'a1_waq' / 'model_1.pt'} on cpu" in out
  assert "10 steps (0.2 s) of robot 0" in out


def test_fine_tuning_resumes_the_shipped_checkpoint(use_shipped, tmp_path, capsys):
  folder = pretrained.folder("a1_waq")
  assert main(["list"]) == 0
  assert str(folder) in capsys.readouterr().out  # Where `dreamwaq list` says it is.
  argv = ["train", "--task", "a1_waq", "--headless", "--device", "cpu", "--resume",
          "--load_run", str(folder), "--max_iterations", "1",
          "--log_root", str(tmp_path)]  # fmt: skip
  assert main(argv) == 0, capsys.readouterr().err
  (run,) = (tmp_path / "rough_a1_waq").iterdir()
  assert sorted(p.name for p in run.glob("model_*.pt")) == ["model_2.pt"]
  resumed = read_checkpoint(run / "model_2.pt")
  assert resumed["iter"] == ITERATIONS
  assert set(OPTIMIZER_STATE) <= set(resumed)  # Fresh optimisers, saved in full again.
  assert len(list(folder.iterdir())) == 5  # Nothing is written into the shipped folder.


def test_a_task_without_a_shipped_policy_is_a_one_line_error(use_shipped, capsys):
  err = one_line_error(capsys, "sim2sim", ["--pretrained", "a1_est"])
  assert err.endswith("no pretrained policy for a1_est; shipped: a1_waq")
  err = one_line_error(capsys, "play", ["--task", "a1_base", "--pretrained"])
  assert err.endswith("no pretrained policy for a1_base; shipped: a1_waq")
  argv = ["--task", "a1_waq", "--pretrained", "--checkpoint", "1"]
  err = one_line_error(capsys, "play", argv)
  assert "drop --load_run, --checkpoint" in err
  with pytest.raises(SystemExit):  # argparse: one policy or the other.
    main(["sim2sim", "--pretrained", "a1_waq", "--policy", "policy.onnx"])
  assert "not allowed with argument" in capsys.readouterr().err


def test_ship_refuses_another_task_or_another_checkpoints_eval(
  use_shipped, evaluation, tmp_path, capsys
):
  card = (use_shipped / "a1_waq" / "card.json").read_bytes()
  checkpoint = str(tiny_run("a1_waq").checkpoint)
  assert ship_pretrained.main([checkpoint, "--task", "a1_base", "--gpu", "x"]) == 2
  assert "is an a1_waq checkpoint, not a1_base" in capsys.readouterr().err
  other = json.loads(evaluation.read_text())
  other["checkpoint"] = other["checkpoint"].replace("model_1.pt", "model_0.pt")
  other_eval = tmp_path / "eval.json"
  other_eval.write_text(json.dumps(other))
  argv = [checkpoint, "--task", "a1_waq", "--gpu", "x", "--eval", str(other_eval)]
  assert ship_pretrained.main(argv) == 2
  assert "model_0.pt, not a1_waq" in capsys.readouterr().err
  assert ship_pretrained.main([checkpoint, "--task", "a1_waq"]) == 2  # Trained on CPU.
  assert "history records no GPU; pass --gpu" in capsys.readouterr().err
  assert (use_shipped / "a1_waq" / "card.json").read_bytes() == card  # Still shipped.


@pytest.mark.skipif(not SHIPPED, reason="no pretrained policy is shipped yet")
@pytest.mark.parametrize("task", SHIPPED)
def test_each_shipped_policy_matches_its_checkpoint(task):
  assert_matches_its_checkpoint(task)
