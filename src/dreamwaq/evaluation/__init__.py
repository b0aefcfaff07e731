"""Evaluation: the paper's measurements (spec §12) per terrain, row and condition,
push robustness (Table III protocol), and reports that compare runs."""
