"""Evaluation: image metrics on white, bootstrap confidence intervals, reports and gates."""
