"""DreamWaQ tasks on mjlab: the A1 environment, its terms, terrain and the task table."""
