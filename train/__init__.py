"""The trainer, torchtitan-shaped: components built from TrainConfig by `build_*` functions, a Trainer
that owns the loop and `save`, and `run.py`, the `deepcorpus train` entry point that assembles them."""
