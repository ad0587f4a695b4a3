"""`deepcorpus tokenize STEP`, the whole command: its parsers and handlers, registered with the
top-level parser (`deepcorpus.cli`). A handler imports its step (`run.py`, `train_tokenizer.py`,
`show.py`) when it runs, so `--help` stays quick."""

from deepcorpus.core.command import (
    command_parser,
    fraction,
    integer,
    nonnegative_int,
    output_dir,
    output_file,
    positive_int,
    seed,
)
from pipelines.tokenize.tokenizer import MAX_VOCAB_SIZE, MIN_VOCAB_SIZE


def register(sub) -> None:
    p = command_parser(sub, "tokenize", "Train a tokenizer and write packed token shards.", [
        "deepcorpus tokenize train-tokenizer --input out/math out/code --vocab-size 32000 --output tokenizer.json",
        "deepcorpus tokenize run --input out/math out/code --tokenizer tokenizer.json --seq-len 2048 --output out/tokens",
    ])
    steps = p.add_subparsers(dest="tokenize_command", metavar="STEP")

    p = command_parser(steps, "train-tokenizer", "Train a byte-level BPE on a sample of datasets.", [
        "deepcorpus tokenize train-tokenizer --input out/math out/code --vocab-size 32000 --output tokenizer.json",
        "deepcorpus tokenize train-tokenizer --input out/code data/web.jsonl --vocab-size 128000 "
        "--sample-bytes 4000000000 --output gs://B/tokenizer.json",
    ])
    p.add_argument("--input", required=True, nargs="+", help="datasets or JSONL/Parquet with a text column")
    p.add_argument("--vocab-size", type=integer(MIN_VOCAB_SIZE, MAX_VOCAB_SIZE), required=True,
                   help=f"tokens in the vocabulary, {MIN_VOCAB_SIZE} to {MAX_VOCAB_SIZE:,} (e.g. 32000)")
    p.add_argument("--output", required=True, type=output_file,
                   help="tokenizer.json to write (its sha256 goes to OUTPUT.sha256)")
    p.add_argument("--sample-bytes", type=positive_int, default=1_000_000_000,
                   help="bytes of text to train on, split evenly over the inputs (default: 1e9)")
    p.add_argument("--min-frequency", type=nonnegative_int, default=2, help="least count for a merge (default: 2)")
    p.add_argument("--seed", type=seed, default=0, help="which documents the sample takes (default: 0)")
    p.set_defaults(func=_train_tokenizer)

    p = command_parser(steps, "run", "Tokenize datasets into packed token shards.", [
        "deepcorpus tokenize run --input out/math out/code --tokenizer tokenizer.json --seq-len 2048 --output out/tokens",
        "deepcorpus tokenize run --mixture mix.yaml --tokenizer tokenizer.json --seq-len 4096 --fim-mode spm "
        "--output gs://B/tokens --runner DataflowRunner --project P --region R --temp_location gs://B/tmp",
    ], beam=True)
    p.add_argument("--input", nargs="+", help="datasets or JSONL/Parquet with a text column (or give --mixture)")
    p.add_argument("--tokenizer", required=True, help="tokenizer.json (from train-tokenizer); gs:// on Dataflow")
    p.add_argument("--seq-len", type=positive_int, required=True, help="rows hold seq_len + 1 tokens")
    p.add_argument("--output", required=True, type=output_dir, help="the token-shard dataset to write")
    p.add_argument("--mixture", help="YAML naming sources and weights, instead of --input")
    p.add_argument("--total-tokens", type=positive_int,
                   help="with --mixture: tokens to produce; small sources repeat (default: no repeats)")
    p.add_argument("--fim-rate", type=fraction, default=0.5, help="share of code documents given FIM (default: 0.5)")
    p.add_argument("--fim-mode", choices=("psm", "spm"), default="psm", help="FIM layout (default: psm)")
    p.add_argument("--seed", type=seed,
                   help="seeds FIM, mixture sampling and order (default: the mixture's seed, else 0)")
    p.add_argument("--num-parts", type=positive_int,
                   help="part files to write (default: one per ~256 MiB of input text)")
    p.add_argument("--add-bos", action="store_true", help="begin every document with BOS as well")
    p.add_argument("--force", action="store_true",
                   help="rebuild even if OUTPUT was made from the same inputs, tokenizer, options and code, "
                        "and replace a dataset of another kind there (an out-of-date token-shard dataset is "
                        "rebuilt without it; anything that is not a dataset is never replaced)")
    p.add_argument("--formal-keep", choices=("verified", "not-failed", "all"), default="not-failed",
                   help="formal proofs to train on: verified only; not-failed adds never-checked ones "
                        "(default); all adds those Lean rejected")
    p.set_defaults(func=_run)

    p = command_parser(steps, "show", "Decode rows of token shards, or check every part's packing.", [
        "deepcorpus tokenize show out/tokens --rows 3",
        "deepcorpus tokenize show out/tokens --check",
    ])
    p.add_argument("shards", help="a token-shard dataset")
    p.add_argument("--tokenizer", help="tokenizer.json (default: the one the manifest names)")
    p.add_argument("--rows", type=positive_int, default=2, help="rows to decode from the start (default: 2)")
    p.add_argument("--part", type=nonnegative_int, default=0, help="which part file, by position (default: 0)")
    p.add_argument("--check", action="store_true",
                   help="decode nothing; check that every part unpacks into whole documents")
    p.set_defaults(func=_show)


def _show(args):
    from pipelines.tokenize.show import run

    return run(args)


def _train_tokenizer(args):
    from pipelines.tokenize.train_tokenizer import run

    return run(args)


def _run(args, beam_args):
    from pipelines.tokenize.run import run

    return run(args, beam_args)
