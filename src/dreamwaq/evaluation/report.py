"""Markdown reports: one run's ``eval.md`` and the ``compare`` report of several runs,
with the paper's Table III beside the measured push robustness."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dreamwaq.evaluation.curves import CURVE_TAGS, FINAL_WINDOW
from dreamwaq.tasks.terrain import TERRAIN_TYPES

if TYPE_CHECKING:
  from dreamwaq.evaluation.compare import RunSummary
  from dreamwaq.runs import TrainingTime

EVAL_JSON = "eval.json"
EVAL_MD = "eval.md"
NOMINAL = "nominal"


@dataclass(frozen=True)
class PaperRow:
  method: str
  max_push_mps: tuple[float, float]
  """Mean ± std."""
  survival_pct: tuple[float, float]


PAPER_TABLE_III: tuple[PaperRow, ...] = (
  PaperRow("Baseline", (0.511, 0.053), (20.51, 6.44)),
  PaperRow("EstimatorNet", (0.871, 0.124), (80.92, 5.73)),
  PaperRow("DreamWaQ w/o AdaBoot", (1.015, 0.121), (90.71, 1.25)),
  PaperRow("DreamWaQ w/ AdaBoot", (1.121, 0.164), (95.23, 1.61)),
)
"""DreamWaQ paper, Table III: pushes every 1 s in random directions while walking
(30 min); the largest push survived and the share of time alive."""


def _num(value: float | None, digits: int = 2, scale: float = 1.0) -> str:
  return "–" if value is None else f"{value * scale:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _parameter(p: dict[str, Any] | None) -> str:
  return "–" if p is None else f"{p['name']} {p['value']:.1f} {p['unit']}"


def hardest_label(entry: dict[str, Any]) -> str:
  """``row 6 (step height 14.0 cm)``, or ``none`` when even the easiest row failed."""
  if entry["hardest_row"] is None:
    return "none"
  return f"row {entry['hardest_row']} ({_parameter(entry['hardest_parameter'])})"


def _fields(cfg: dict[str, Any]) -> str:
  """How a group's robots met the terrain; eval.json files written before ``fields``
  existed had one tile per group."""
  n = cfg.get("fields", 1)
  if n == 1:
    return ", 1 tile per group (one draw of the terrain)"
  return f", {n} tiles per group (separate draws of the terrain)"


def eval_markdown(results: dict[str, Any]) -> str:
  """``eval.md``: the JSON's numbers as tables, with the definitions they follow."""
  cfg = results["config"]
  if cfg["command"]:
    command = "fixed command " + ", ".join(f"{v:g}" for v in cfg["command"])
  elif cfg.get("heading"):  # Absent from eval.json files written before the option.
    command = (
      "commands U[−1, 1] m/s with yaw steered toward a random heading as in training, "
      "resampled every 10 s"
    )
  else:
    command = "commands U[−1, 1] (m/s, m/s, rad/s) resampled every 10 s"
  lines = [
    f"# Evaluation of {results['task']}: {results.get('checkpoint', '')}",
    "",
    (
      f"Seed {cfg['seed']}, {cfg['robots']} robots per group{_fields(cfg)}, "
      f"{cfg['duration_s']:g} s episodes, {command}, on {results.get('device', '?')}."
    ),
    "",
    "## Definitions",
    "",
    *(f"- **{name}**: {text}" for name, text in results["definitions"].items()),
  ]
  conditions = results["conditions"]
  for cond in conditions.values():
    lines += ["", f"## Per terrain: {cond['label']}", ""]
    header = ["terrain", "row", "parameter", "success %", "alive %", "left tile %",
              "distance (m)", "commanded (m)", "lin. error (m/s)", "yaw error (rad/s)",
              "est. RMSE (m/s)", "time to fall (s)"]  # fmt: skip
    rows = []
    for kind, entry in cond["terrain"].items():
      for r in entry["rows"]:
        rows.append([
          kind, str(r["row"]), _parameter(r["parameter"]),
          _num(r["success_rate"], 0, 100), _num(r["alive_rate"], 0, 100),
          _num(r.get("left_tile_rate"), 0, 100),
          _num(r["distance_m"]), _num(r["commanded_distance_m"]),
          _num(r["lin_vel_error_mps"], 3), _num(r["yaw_rate_error_radps"], 3),
          _num(r["vel_est_rmse_mps"], 3), _num(r["time_to_fall_s"]),
        ])  # fmt: skip
    lines += _table(header, rows)
  lines += ["", "## Hardest row with success ≥ 80 %", ""]
  kinds = [k for k in TERRAIN_TYPES if any(k in c["terrain"] for c in conditions.values())]
  lines += _table(
    ["terrain", *(c["label"] for c in conditions.values())],
    [[k, *(hardest_label(c["terrain"][k]) for c in conditions.values())] for k in kinds],
  )
  pushes = {name: c for name, c in conditions.items() if c["push"]}
  if pushes:
    lines += ["", "## Push robustness (paper Table III protocol)", ""]
    level = next(iter(pushes.values()))["push"]["paper_level_mps"]
    lines += _table(
      ["condition", "max push survived (m/s)", f"survival at {level:g} m/s (%)"],
      [
        [c["label"], _num(c["push"]["max_push_mps"], 1),
         _num(c["push"]["survival_pct_at_paper_level"], 1)]
        for c in pushes.values()
      ],
    )  # fmt: skip
    levels = [e["level_mps"] for e in next(iter(pushes.values()))["push"]["levels"]]
    lines += ["", "Robots alive at the end (%), per push level:", ""]
    lines += _table(
      ["push level (m/s)", *(c["label"] for c in pushes.values())],
      [
        [
          f"{lv:g}",
          *(_num(c["push"]["levels"][i]["alive_rate"], 0, 100) for c in pushes.values()),
        ]
        for i, lv in enumerate(levels)
      ],
    )
    lines += ["", "Paper Table III (for reference):", "", *paper_table()]
  return "\n".join(lines) + "\n"


def paper_table(
  measured: Sequence[tuple[str, float | None, float | None]] = (),
) -> list[str]:
  """Table III, with measured (label, max push m/s, survival %) rows after it."""
  rows = [
    [f"paper: {p.method}", f"{p.max_push_mps[0]:.3f} ± {p.max_push_mps[1]:.3f}",
     f"{p.survival_pct[0]:.2f} ± {p.survival_pct[1]:.2f}"]
    for p in PAPER_TABLE_III
  ]  # fmt: skip
  rows += [[label, _num(push, 1), _num(survival, 1)] for label, push, survival in measured]
  return _table(["method", "max push (m/s)", "survival (%)"], rows)


def write_eval(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
  """``eval.json`` and ``eval.md`` in ``folder``."""
  import json

  folder.mkdir(parents=True, exist_ok=True)
  json_path, md_path = folder / EVAL_JSON, folder / EVAL_MD
  json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
  md_path.write_text(eval_markdown(results))
  return json_path, md_path


def headline_condition(results: dict[str, Any]) -> dict[str, Any]:
  """The condition a run's headline numbers come from (``compare``'s bars, a pretrained
  policy's card): nominal, else the first evaluated."""
  conditions = results["conditions"]
  return conditions.get(NOMINAL) or next(iter(conditions.values()))


def per_terrain_mean(condition: dict[str, Any], key: str) -> dict[str, float | None]:
  """Terrain type → the mean of ``key`` over its evaluated rows."""
  means = {}
  for kind, entry in condition["terrain"].items():
    values = [r[key] for r in entry["rows"] if r[key] is not None]
    means[kind] = sum(values) / len(values) if values else None
  return means


def _training(trained: TrainingTime) -> tuple[str, str, str]:
  """Iterations, ``h:mm:ss`` and GPU of a run's training, with its uncounted sessions."""
  minutes, seconds = divmod(round(trained.seconds), 60)
  took = f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
  if trained.unclosed:
    took += f" (+{trained.unclosed} session(s) with no end recorded)"
  return str(trained.iterations), took, ", ".join(trained.gpus) or "not recorded"


def _conditions_table(runs: Sequence[RunSummary], kinds: Sequence[str]) -> list[str]:
  """Success per terrain type under every evaluated condition of every run (none when
  each run was evaluated under one condition only)."""
  columns = [
    (r.label, condition)
    for r in runs
    if len(r.evaluation["conditions"]) > 1
    for condition in r.evaluation["conditions"].values()
  ]
  if not columns:
    return []
  means = [per_terrain_mean(condition, "success_rate") for _, condition in columns]
  lines = ["", "## Success under each condition", ""]
  lines += ["Success % per terrain type, mean over the evaluated rows:", ""]
  return lines + _table(
    ["terrain", *(f"{label}: {condition['label']}" for label, condition in columns)],
    [[kind, *(_num(m.get(kind), 0, 100) for m in means)] for kind in kinds],
  )


def _final_cell(run: RunSummary, curve: str) -> str:
  """A curve's mean over the run's last logged iterations; "–" when it was never logged."""
  logged = run.curves.get(CURVE_TAGS[curve])
  return "–" if logged is None else _num(logged.final())


def _checkpoint_cell(run: RunSummary) -> str:
  """The evaluated checkpoint: its file name when it is the run folder's own (the folder
  column names the run; an evaluation on another machine recorded that machine's path),
  else its whole path."""
  checkpoint = Path((run.evaluation or {}).get("checkpoint", "?"))
  if checkpoint.parent.name == run.run_dir.name:
    return checkpoint.name
  return str(checkpoint)


def compare_markdown(runs: Sequence[RunSummary], plots: dict[str, str]) -> str:
  """The ``compare`` report: runs, curves, per-terrain bars and tables, push table."""
  lines = [f"# Comparison: {', '.join(r.label for r in runs)}", ""]
  not_evaluated = "not evaluated (`dreamwaq eval`)"
  lines += _table(
    ["run", "task", "folder", "iterations trained", "training time", "GPU",
     f"mean terrain level, last {FINAL_WINDOW} iterations",
     f"mean episode return, last {FINAL_WINDOW} iterations",
     "evaluated checkpoint", "robots per group"],
    [
      [r.label, r.task or "?", str(r.run_dir), *_training(r.training),
       _final_cell(r, "terrain_level"), _final_cell(r, "reward"),
       _checkpoint_cell(r) if r.evaluation else not_evaluated,
       str(r.evaluation["config"]["robots"]) if r.evaluation else "–"]
      for r in runs
    ],
  )  # fmt: skip
  lines += [
    "",
    (
      "Training time: wall clock of every session of the run (resumes included), from "
      "its `params/history.jsonl`; building the env and compiling kernels excluded. "
      "Success rates of runs evaluated with different numbers of robots differ in "
      "precision as well."
    ),
  ]
  missing = [r.label for r in runs if not r.curves]
  lines += ["", "## Learning curves", ""]
  lines += [
    f"![{name}]({plots[name]})" for name in ("rewards", "terrain_levels") if name in plots
  ]
  if missing:
    lines += ["", f"No TensorBoard events in: {', '.join(missing)}."]
  evaluated = [r for r in runs if r.evaluation is not None]
  if not evaluated:
    return "\n".join(lines) + "\n"
  conditions = {r.label: r.condition() for r in evaluated}
  labels = ", ".join(f"{label}: {c['label']}" for label, c in conditions.items())
  lines += [
    "",
    "## Per terrain",
    "",
    f"Conditions: {labels}; means over the evaluated rows.",
    "",
  ]
  lines += [
    f"![{name}]({plots[name]})" for name in ("success", "tracking") if name in plots
  ]
  success = {k: per_terrain_mean(c, "success_rate") for k, c in conditions.items()}
  tracking = {k: per_terrain_mean(c, "lin_vel_error_mps") for k, c in conditions.items()}
  kinds = [k for k in TERRAIN_TYPES if any(k in c["terrain"] for c in conditions.values())]
  header = [
    "terrain",
    *(f"{k} success %" for k in conditions),
    *(f"{k} lin. error (m/s)" for k in conditions),
  ]
  lines += [""] + _table(
    header,
    [
      [kind, *(_num(success[k].get(kind), 0, 100) for k in conditions),
       *(_num(tracking[k].get(kind), 3) for k in conditions)]
      for kind in kinds
    ],
  )  # fmt: skip
  lines += ["", "Hardest row with success ≥ 80 %:", ""]
  lines += _table(
    ["terrain", *conditions],
    [
      [kind, *(hardest_label(c["terrain"][kind]) if kind in c["terrain"] else "–"
               for c in conditions.values())]
      for kind in kinds
    ],
  )  # fmt: skip
  estimated = {k: per_terrain_mean(c, "vel_est_rmse_mps") for k, c in conditions.items()}
  estimated = {k: v for k, v in estimated.items() if any(x is not None for x in v.values())}
  if estimated:
    what = (
      "RMSE of the estimated against the true body velocity (m/s, three axes), mean over "
      "the evaluated rows:"
    )
    lines += ["", "## Velocity estimation", "", what, ""]
    lines += _table(
      ["terrain", *estimated],
      [[kind, *(_num(estimated[k].get(kind), 3) for k in estimated)] for kind in kinds],
    )
  lines += _conditions_table(evaluated, kinds)
  pushes = {label: c["push"] for label, c in conditions.items() if c["push"]}
  if pushes:
    level = next(iter(pushes.values()))["paper_level_mps"]
    lines += ["", "## Push robustness beside the paper's Table III", ""]
    lines += [
      (
        "Measured: pushes every 1 s while walking with random commands; survival at "
        f"{level:g} m/s over the evaluation's episodes (the paper: 30 min of walking)."
      ),
      "",
    ]
    lines += paper_table(
      [(k, p["max_push_mps"], p["survival_pct_at_paper_level"]) for k, p in pushes.items()]
    )
  return "\n".join(lines) + "\n"
