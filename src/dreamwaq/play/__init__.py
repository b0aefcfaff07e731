"""Playback: a trained policy in the mjlab play env, as video, viewer and plots."""
