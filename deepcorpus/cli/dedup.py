"""`deepcorpus dedup`: exact, URL and MinHash near-dedup, and n-gram decontamination (dedup/)."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "dedup", "Deduplicate or decontaminate any dataset or JSONL/Parquet with id and text.", [
        "deepcorpus dedup minhash --input out/math/corpus --output out/math_dedup --removed out/math_dups",
        "deepcorpus dedup decontaminate --input docs.jsonl --benchmark gsm8k/test.jsonl --output out/clean",
    ])
    steps = p.add_subparsers(dest="dedup_command", metavar="METHOD")
    from pipelines.dedup import cli as dedup_cli

    dedup_cli.register(steps)
