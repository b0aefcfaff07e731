"""The Unitree A1: MJCF and constants."""
