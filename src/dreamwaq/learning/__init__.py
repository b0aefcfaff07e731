"""Learning: the estimators (CENet, EstNet), AdaBoot and their PPO integration.

Everything plugs into rsl-rl-lib and mjlab by name (``class_name`` strings and
config fields); neither library is forked.
"""
