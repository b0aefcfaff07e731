"""Offscreen rendering and video files, shared by ``play``, ``record`` and ``sim2sim``.

All render headless (Mesa's software EGL on a CPU machine), so all keep frames
small and sparse and write them the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class VideoFormat:
  """Frame rate and size of a video file, chosen by its suffix."""

  fps: float
  width: int
  height: int

  def frame_every(self, control_dt: float) -> int:
    """Policy steps between frames."""
    return max(1, round(1.0 / (self.fps * control_dt)))


def video_format(path: Path) -> VideoFormat:
  """GIFs have no inter-frame compression: smaller and sparser frames keep them small."""
  suffix = Path(path).suffix.lower()
  if suffix == ".gif":
    return VideoFormat(12.5, 320, 240)
  if suffix == ".mp4":
    return VideoFormat(25.0, 640, 480)
  raise ValueError(f"--video {path}: write a .gif or an .mp4")


COMPACT_GIF = VideoFormat(10.0, 240, 180)
"""For sets of GIFs (``record``): a few hundred KB for 8 s."""
GIF_COLOURS = 64
"""Palette size of each GIF frame: 64 keeps the robot's colours and made ``record``'s
clips of the shipped policy 12–37 % smaller than GIF's full 256 (32 washes the trunk's
yellow out)."""


def side_by_side(
  videos: Sequence[Sequence[np.ndarray]], labels: Sequence[str]
) -> list[np.ndarray]:
  """Equally long videos of equal frame size next to each other, left to right, each
  frame labelled in its top-left corner."""
  from PIL import Image, ImageDraw

  frames = []
  for row in zip(*videos, strict=True):
    labelled = []
    for frame, label in zip(row, labels, strict=True):
      image = Image.fromarray(frame)
      ImageDraw.Draw(image).text((4, 2), label, fill=(255, 255, 255))
      labelled.append(np.asarray(image))
    frames.append(np.concatenate(labelled, axis=1))
  return frames


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
  """Write RGB frames as a looping GIF or an MP4 (by the suffix)."""
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  if path.suffix.lower() == ".gif":
    from PIL import Image

    images = [
      Image.fromarray(f).quantize(colors=GIF_COLOURS, method=Image.Quantize.MEDIANCUT)
      for f in frames
    ]
    images[0].save(
      path, save_all=True, append_images=images[1:], duration=round(1000.0 / fps),
      loop=0, optimize=True,
    )  # fmt: skip
  else:
    import imageio.v2 as imageio

    imageio.mimsave(path, frames, fps=fps, macro_block_size=8)
  return path


def offscreen_gl() -> None:
  """Give mujoco.Renderer a headless GL context even when MUJOCO_GL was ``disable``.

  mujoco picks its GL backend once, at import, from MUJOCO_GL; ``dreamwaq`` disables
  it so that commands without video run on machines without GL. EGL (Mesa's
  software EGL works on a CPU machine) is then set up here, on demand.
  """
  from mujoco.rendering.classic import gl_context

  if getattr(gl_context, "GLContext", None) is not None:
    return
  try:
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    from mujoco.egl import GLContext

    GLContext(8, 8).free()
  except Exception as e:  # noqa: BLE001 (missing or broken EGL: one line, no GL trace)
    raise RuntimeError(
      f"offscreen rendering needs EGL (Debian: apt-get install libegl1 libegl-mesa0); {e}"
    ) from None
  gl_context.GLContext = GLContext
