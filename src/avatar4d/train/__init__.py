"""Training: the loop, losses, densification, checkpoints and resume, the run folder."""
