"""Run folders: their config.yml, checkpoints and the trained model they hold, used by train,
evaluate and output alike (nothing here imports the training code)."""
