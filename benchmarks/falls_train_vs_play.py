"""Does a policy fall on stairs in the training env as it does in the eval's play env?

``dreamwaq eval`` runs the play env (no observation noise, no pushes, no curriculum,
24 m tiles). This counts falls of a checkpoint walking straight ahead on one stairs-up
tile in either env, for 7.9 s (before the training env's first push at 8 s), so a
difference between the two cannot hide in the eval's setup.

    python benchmarks/falls_train_vs_play.py --task a1_waq \
      --load_run src/dreamwaq/pretrained/a1_waq --env train --tile 8 --vx 0.5
"""

from __future__ import annotations

import argparse

import numpy as np

from dreamwaq.cli.export import add_checkpoint_args, checkpoint_path
from dreamwaq.evaluation.grid import grid_env_cfg, place_robots
from dreamwaq.export.deployed import load_deployment
from dreamwaq.play.session import open_env, policy_actor
from dreamwaq.tasks.observations import COMMAND_NAME
from dreamwaq.tasks.registry import get_task

SECONDS = 7.9


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  add_checkpoint_args(parser)
  parser.add_argument("--env", choices=("train", "play"), default="train")
  parser.add_argument("--tile", type=float, default=8.0, help="tile side (m)")
  parser.add_argument("--row", type=int, default=5)
  parser.add_argument("--vx", type=float, default=0.5, help="forward command (m/s)")
  parser.add_argument("--num_envs", type=int, default=48)
  args = parser.parse_args()

  task = get_task(args.task)
  cfg = grid_env_cfg(
    task, ["stairs_up"], [args.row], args.num_envs, seed=0, command=(args.vx, 0.0, 0.0),
    play=args.env == "play", tile_size=args.tile,
  )  # fmt: skip
  cfg.curriculum = {}
  term = cfg.commands[COMMAND_NAME]  # Straight ahead: no steering toward a heading.
  term.heading_command, term.rel_heading_envs, term.ranges.heading = False, 0.0, None
  vec = open_env(cfg, "cpu")
  env = vec.unwrapped
  place_robots(env, [("stairs_up", args.row)] * args.num_envs, first_row=args.row)
  act = policy_actor(task, load_deployment(task, checkpoint_path(args)), "cpu")
  obs, _ = vec.reset()
  fallen = np.zeros(args.num_envs, dtype=bool)
  for _ in range(round(SECONDS / env.step_dt)):
    actions, _ = act(obs)
    obs, _, _, _ = vec.step(actions)
    fallen |= env.termination_manager.terminated.cpu().numpy()
  print(
    f"{args.env} env, {args.tile:g} m tile, row {args.row}, {args.vx:g} m/s: "
    f"{int(fallen.sum())} of {args.num_envs} robots fell in {SECONDS} s"
  )


if __name__ == "__main__":
  main()
