"""The trainer: token-shard loader, optimizer and schedule, checkpoints, the training loop."""
