"""`deepcorpus train`: pre-train the DeepSeek-style model on token shards (train/)."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "train", "Train the model on token shards; resumable.", [
        "deepcorpus train --preset tiny --data out/tokens --steps 200 --output runs/tiny",
        "deepcorpus train --preset tiny --data out/tokens --steps 400 --output runs/tiny --resume",
        "torchrun --nproc_per_node 8 -m deepcorpus train --preset small --data gs://B/tokens --output runs/s",
        "deepcorpus train --preset v3 --count-params --json",
    ])
    from train import cli as train_cli

    train_cli.register(p)
