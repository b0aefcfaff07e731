"""The GPU machine's training and evaluation scripts, run here with ``nvidia-smi`` and
``python`` replaced by stand-ins that record their arguments: which run each jobs line
resumes, how many iterations it is given and which checkpoints are evaluated decide what
a session of device time measures."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, Path]:
  """A runs root holding a finished run (model_1499.pt) and a fine-tune at 1776."""
  bin_dir = tmp_path / "bin"
  bin_dir.mkdir()
  (bin_dir / "nvidia-smi").write_text("#!/bin/sh\necho 0\n")
  (bin_dir / "python").write_text('#!/bin/sh\necho "python $*"\n')
  for tool in bin_dir.iterdir():
    tool.chmod(0o755)
  runs = tmp_path / "runs" / "rough_a1_waq"
  for folder, checkpoint in (
    ("2026-11-30_14-58-46_waq", 1499),
    ("2026-12-01_09-37-38_ft", 1776),
  ):
    (runs / folder).mkdir(parents=True)
    (runs / folder / f"model_{checkpoint}.pt").write_bytes(b"")
  out = tmp_path / "out"
  out.mkdir()
  return {
    "bin": bin_dir,
    "runs": tmp_path / "runs",
    "out": out,
    "jobs": tmp_path / "jobs.txt",
  }


def run_script(
  machine: dict[str, Path], script: str, jobs: str, *args: str, **env: str
) -> None:
  """``bash benchmarks/<script>`` on the stand-in machine with ``jobs`` as its jobs file."""
  machine["jobs"].write_text(jobs)
  run_env = {
    **os.environ,
    "PATH": f"{machine['bin']}:{os.environ['PATH']}",
    "RUNS_ROOT": str(machine["runs"]),
    "OUT": str(machine["out"]),
    **env,
  }
  subprocess.run(
    ["bash", str(REPO / "benchmarks" / script), *args],
    cwd=REPO, env=run_env, check=True, capture_output=True,
  )  # fmt: skip


def train_commands(machine: dict[str, Path], iterations: int, jobs: str) -> dict[str, str]:
  run_script(
    machine, "gpu_concurrent_train.sh", jobs, str(iterations), str(machine["jobs"])
  )
  return {log.stem: log.read_text().strip() for log in machine["out"].glob("*.log")}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_jobs_resume_their_own_run_or_fine_tune_from_another(machine):
  commands = train_commands(
    machine,
    1500,
    "new a1_waq --from rough_a1_waq/2026-11-30_14-58-46_waq --total 1800 --env push_interval_s=4\n"
    "ft a1_waq --from rough_a1_waq/2026-11-30_14-58-46_waq --total 1800\n"
    "waq a1_waq --set save_interval=10\n"
    "fresh a1_base\n",
  )
  # A fine-tune's first call resumes the run it names, with what its own total leaves.
  new = commands["new"]
  assert "--load_run 2026-11-30_14-58-46_waq" in new and "--max_iterations 300" in new
  assert "--run_name new" in new and new.startswith(
    "python benchmarks/train_variant.py --env"
  )
  assert "--from" not in new and "--total" not in new
  # Once it has a folder of its own, that folder is resumed, not the one it started from.
  assert "--load_run 2026-12-01_09-37-38_ft" in commands["ft"]
  assert "--max_iterations 23" in commands["ft"]
  # Without --total a run's total is ITERATIONS: a finished one is skipped ...
  assert commands["waq"] == "waq: trained 1500 iterations already"
  # ... and a run with no folder starts from scratch.
  assert (
    "--max_iterations 1500" in commands["fresh"] and "--resume" not in commands["fresh"]
  )


def eval_logs(machine: dict[str, Path], jobs: str, **env: str) -> dict[str, str]:
  """Run gpu_eval.sh; each evaluation folder's eval.log (the stand-in's command line)."""
  evals = machine["out"].parent / "eval"
  run_script(
    machine, "gpu_eval.sh", jobs, str(machine["jobs"]), "--fields", "4",
    EVAL_ROOT=str(evals), **env,
  )  # fmt: skip
  assert (machine["out"] / "eval_jobs.tgz").is_file()
  folder = evals / "jobs"
  return {d.name: (d / "eval.log").read_text().strip() for d in folder.iterdir()}


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_eval_reads_the_newest_checkpoint_or_the_ones_named(machine):
  logs = eval_logs(machine, "ft a1_waq\nnone a1_base\n")
  assert set(logs) == {"ft", "none"}
  assert "--load_run" in logs["ft"] and "2026-12-01_09-37-38_ft" in logs["ft"]
  assert "--checkpoint" not in logs["ft"] and logs["ft"].endswith("--fields 4")
  assert logs["none"].startswith("none: no checkpoint under")
  # CHECKPOINTS: one evaluation per iteration named, each in a folder of its own, each
  # from the run's folder that holds it (1700 was saved before the resume into 09-37-38).
  earlier = machine["runs"] / "rough_a1_waq" / "2026-12-01_09-27-00_ft"
  earlier.mkdir()
  (earlier / "model_1700.pt").write_bytes(b"")
  named = eval_logs(machine, "ft a1_waq\n", CHECKPOINTS="1700 1776 1800 newest")
  assert set(named) == {"ft_1700", "ft_1776", "ft_1800", "ft"}
  assert "--checkpoint" not in named["ft"]  # "newest": the run's newest, as without.
  assert "2026-12-01_09-27-00_ft --checkpoint 1700 --out" in named["ft_1700"]
  assert "2026-12-01_09-37-38_ft --checkpoint 1776 --out" in named["ft_1776"]
  # One no folder holds: the newest folder, whose eval then names what it has.
  assert "2026-12-01_09-37-38_ft --checkpoint 1800 --out" in named["ft_1800"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
  """A clone of this repository's last commit, with pack.py replaced by a stand-in."""
  repo = tmp_path_factory.mktemp("stage") / "repo"
  subprocess.run(["git", "clone", "-q", str(REPO), str(repo)], check=True)
  return repo


def stage(clone: Path, *args: str) -> subprocess.CompletedProcess:
  """gpu_stage.sh with a pack.py stand-in that records its arguments in pack_calls.txt,
  and an empty pack cache (as on a new checkout)."""
  pack = clone.parent / "pack.py"
  pack.write_text(
    "import sys\nfrom pathlib import Path\nPath('.gpu/1').mkdir(parents=True)\n"
    f"with open({str(clone.parent / 'pack_calls.txt')!r}, 'a') as f:\n"
    "  f.write(' '.join(sys.argv[1:]) + '\\n')\n"
  )
  (clone.parent / "pack_calls.txt").write_text("")
  cache = clone.parent / "pack_cache"
  cache.mkdir(exist_ok=True)
  return subprocess.run(
    ["bash", "benchmarks/gpu_stage.sh", *args],
    cwd=clone, env={**os.environ, "PACK": str(pack), "PACK_CACHE": str(cache)},
    capture_output=True, text=True, check=False,
  )  # fmt: skip


def git(clone: Path, *args: str) -> str:
  return subprocess.run(
    ["git", *args], cwd=clone, capture_output=True, text=True, check=True
  ).stdout


def tracked(clone: Path, path: str) -> list[str]:
  return git(clone, "ls-files", path).split()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_staging_takes_the_large_folders_out_and_snapshots_only_the_named_runs(clone):
  carry = clone / "benchmarks" / "carry"
  runs = sorted(str(d.relative_to(carry)) for d in carry.glob("*/*") if d.is_dir())
  named = runs[-1]
  exclude = clone / ".git" / "info" / "exclude"
  before = exclude.read_text()
  assert stage(clone, named).returncode == 0
  assert tracked(clone, "benchmarks/carry") == tracked(clone, "docs/media") == []
  assert (clone / "benchmarks" / "carry" / named).is_dir()  # Untracked, not deleted.
  snap = clone / ".gpu" / "snap"
  assert (clone / ".gpu" / "1").is_dir()  # pack.py ran before the snapshot.
  assert (snap / "src" / "dreamwaq" / "tasks" / "env_cfg.py").is_file()
  assert (snap / "benchmarks" / "gpu_concurrent_train.sh").is_file()
  snapped = sorted(str(d.relative_to(snap / "benchmarks" / "carry"))
                   for d in (snap / "benchmarks" / "carry").glob("*/*"))  # fmt: skip
  assert snapped == [named]
  assert not list((snap / "src" / "dreamwaq" / "pretrained").glob("*/"))
  assert not (snap / "benchmarks" / "results").exists()
  # The committed kernel cache: imported into the empty pack cache, then packed; out
  # of the tree and of the snapshot (a call carries 64 MiB at most).
  calls = (clone.parent / "pack_calls.txt").read_text().splitlines()
  assert calls == ["--import-kernels benchmarks/kernels", ""]
  assert tracked(clone, "benchmarks/kernels") == []
  assert not (snap / "benchmarks" / "kernels").exists()
  # Staged twice: refused, nothing changed.
  again = stage(clone, named)
  assert again.returncode == 2 and "already staged" in again.stderr
  assert stage(clone, "--restore").returncode == 0
  assert exclude.read_text() == before
  assert tracked(clone, "benchmarks/carry")
  assert git(clone, "status", "--porcelain") == ""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_staging_a_run_not_committed_is_a_one_line_error_that_changes_nothing(clone):
  files = tracked(clone, "benchmarks/carry")
  staged = sorted(clone.glob(".gpu/**/*"))  # What an earlier staging left, if any.
  result = stage(clone, "rough_a1_waq/no_such_run")
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [
    "gpu_stage: no run folder benchmarks/carry/rough_a1_waq/no_such_run in the last commit"
  ]
  assert tracked(clone, "benchmarks/carry") == files
  assert sorted(clone.glob(".gpu/**/*")) == staged
  restore = stage(clone, "--restore")
  assert restore.returncode == 2 and "nothing to restore" in restore.stderr


SELECT_STAND_IN = """#!/bin/sh
# dreamwaq eval: its command line as its log, and an eval.json in --out;
# select_checkpoint.py: $CHOSEN, or `none` and exit 3.
case "$1" in
  *select_checkpoint.py) echo "select $*"; [ -n "$CHOSEN" ] && echo "$CHOSEN" && exit 0
    echo none; exit 3 ;;
esac
echo "python $*"
while [ $# -gt 1 ]; do [ "$1" = --out ] && touch "$2/eval.json"; shift; done
"""


def select_confirm(
  machine: dict[str, Path], tmp_path: Path, **env: str
) -> tuple[subprocess.CompletedProcess, Path]:
  """gpu_select_confirm.sh for run ``ft`` on the stand-in machine; its tarball unpacked."""
  (machine["bin"] / "python").write_text(SELECT_STAND_IN)
  result = subprocess.run(
    ["bash", str(REPO / "benchmarks" / "gpu_select_confirm.sh"), "ft", "a1_waq",
     "1700 newest", "--fields", "4"],
    cwd=REPO, capture_output=True, text=True, check=False,
    env={**os.environ, "PATH": f"{machine['bin']}:{os.environ['PATH']}",
         "RUNS_ROOT": str(machine["runs"]), "OUT": str(machine["out"]),
         "EVAL_ROOT": str(tmp_path / "eval"), **env},
  )  # fmt: skip
  unpacked = tmp_path / "unpacked"
  unpacked.mkdir()
  subprocess.run(
    ["tar", "xzf", str(machine["out"] / "select_ft.tgz"), "-C", str(unpacked)],
    check=True,
  )
  return result, unpacked


def log(folder: Path) -> str:
  return (folder / "eval.log").read_text().strip()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_select_confirm_evaluates_the_chosen_checkpoint_on_the_other_seeds(
  machine, tmp_path
):
  earlier = machine["runs"] / "rough_a1_waq" / "2026-12-01_09-27-00_ft"
  earlier.mkdir()
  (earlier / "model_1700.pt").write_bytes(b"")
  result, got = select_confirm(
    machine, tmp_path, CHOSEN="1700", SELECT_ARGS="--min-level 6"
  )
  assert result.returncode == 0, result.stderr
  # Both checkpoints on seeds 0 and 1; the rule read those readings and nothing else.
  assert {d.name for d in (got / "sel_s0").iterdir()} == {"ft_1700", "ft"}
  assert "--checkpoint 1700" in log(got / "sel_s1" / "ft_1700")
  assert log(got / "sel_s1" / "ft").endswith("--seed 1 --fields 4")
  selected = (got / "selected.txt").read_text().splitlines()
  assert selected[-1] == "1700" and selected[0].endswith("--min-level 6")
  assert selected[0].count("eval.json") == 4 and "conf_s" not in selected[0]
  # The chosen one alone on seeds 2-6, from the folder that holds it, slimmed for carry/.
  confirmed = sorted(d.name for d in got.glob("conf_s*") if d.is_dir())
  assert confirmed == [f"conf_s{s}" for s in range(2, 7)]
  assert [d.name for d in (got / "conf_s4").iterdir()] == ["ft_1700"]
  assert "2026-12-01_09-27-00_ft --checkpoint 1700 --out" in log(
    got / "conf_s4" / "ft_1700"
  )
  assert "--seed 4 --fields 4" in log(got / "conf_s4" / "ft_1700")
  slim = "carry/rough_a1_waq/2026-12-01_09-27-00_ft/model_1700.pt"
  source = f"{machine['runs']}/rough_a1_waq/2026-12-01_09-27-00_ft/model_1700.pt"
  assert f"{source} " in result.stdout and result.stdout.count(slim) == 1
  assert not list(got.glob("*.tgz")) and not list(got.glob("*_s[0-9].txt"))


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_select_confirm_with_no_checkpoint_chosen_brings_back_the_readings(
  machine, tmp_path
):
  result, got = select_confirm(machine, tmp_path)
  assert result.returncode == 3
  assert (got / "selected.txt").read_text().splitlines()[-1] == "none"
  assert (got / "sel_s0" / "ft" / "eval.log").is_file()
  assert not list(got.glob("conf_s*/")) and not (got / "carry").exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_select_confirm_without_its_checkpoints_is_a_one_line_error():
  result = subprocess.run(
    ["bash", str(REPO / "benchmarks" / "gpu_select_confirm.sh"), "ft", "a1_waq"],
    capture_output=True, text=True, check=False,
  )  # fmt: skip
  assert result.returncode == 2 and result.stdout == ""
  assert result.stderr.startswith("usage: gpu_select_confirm.sh NAME TASK")
  assert len(result.stderr.splitlines()) == 1
