"""dreamwaq: DreamWaQ (ICRA 2023) for the Unitree A1 on MuJoCo Warp through mjlab."""

__version__ = "0.1.0"
