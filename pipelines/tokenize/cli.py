"""Argument parsers of `deepcorpus tokenize STEP`. Heavy imports happen inside the handlers."""

from deepcorpus.cli import command_parser


def register(steps) -> None:
    p = command_parser(steps, "train-tokenizer", "Train a byte-level BPE on a sample of datasets.", [
        "deepcorpus tokenize train-tokenizer --input out/math out/code --vocab-size 32000 --output tokenizer.json",
    ])
    p.add_argument("--input", required=True, nargs="+", help="datasets or JSONL/Parquet with a text column")
    p.add_argument("--vocab-size", type=int, required=True)
    p.add_argument("--output", required=True, help="tokenizer.json to write")
    p.set_defaults(func=_train_tokenizer)

    p = command_parser(steps, "run", "Tokenize datasets into packed token shards.", [
        "deepcorpus tokenize run --input out/math out/code --tokenizer tokenizer.json --seq-len 2048 --output out/tokens",
    ], beam=True)
    p.add_argument("--input", required=True, nargs="+", help="datasets or JSONL/Parquet with a text column")
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--seq-len", type=int, required=True)
    p.add_argument("--output", required=True, help="the token-shard dataset to write")
    p.set_defaults(func=_run)


def _train_tokenizer(args):
    from pipelines.tokenize.train_tokenizer import run

    return run(args)


def _run(args, beam_args):
    from pipelines.tokenize.run import run

    return run(args, beam_args)
