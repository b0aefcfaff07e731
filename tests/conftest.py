"""Tests run on the CPU (Warp's CPU backend) with a handful of envs."""

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ.setdefault("MUJOCO_GL", "disable")
os.environ.setdefault("WANDB_MODE", "disabled")
