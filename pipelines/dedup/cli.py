"""Argument parsers of `deepcorpus dedup METHOD`. Heavy imports happen inside the handlers."""

from deepcorpus.cli import command_parser


def register(steps) -> None:
    for method, help in [
        ("exact", "Keep one document per normalized-text hash."),
        ("url", "Keep one document per canonical URL."),
        ("minhash", "MinHash LSH near-dedup with distributed connected components."),
        ("decontaminate", "Drop documents sharing an n-gram with benchmark files."),
    ]:
        p = command_parser(steps, method, help, [
            f"deepcorpus dedup {method} --input DATA --output DATA --removed DATA",
        ], beam=True)
        p.add_argument("--input", required=True, action="append", help="dataset or JSONL/Parquet with id and text")
        p.add_argument("--output", required=True, help="the kept documents, every input column")
        p.add_argument("--removed", help="the dropped documents with id and duplicate_of")
        if method == "decontaminate":
            p.add_argument("--benchmark", action="append", required=True, help="benchmark JSONL/Parquet path")
        p.set_defaults(func=_run, method=method)


def _run(args, beam_args):
    from pipelines.dedup.run import run

    return run(args, beam_args)
