"""Training: the loop, losses, densification and resume (the run folder, its checkpoints and
settings are in run/)."""
