"""`deepcorpus tokenize`: train a byte-level BPE and pack corpora into token shards."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "tokenize", "Train a tokenizer and write packed token shards.", [
        "deepcorpus tokenize train-tokenizer --input out/math out/code --vocab-size 32000 --output tokenizer.json",
        "deepcorpus tokenize run --input out/math out/code --tokenizer tokenizer.json --seq-len 2048 --output out/tokens",
    ])
    steps = p.add_subparsers(dest="tokenize_command", metavar="STEP")
    from pipelines.tokenize import cli as tokenize_cli

    tokenize_cli.register(steps)
