"""Argument parsers of `deepcorpus math STEP`. Heavy imports happen inside the handlers."""

from deepcorpus.cli import command_parser


def register(steps) -> None:
    p = command_parser(steps, "run", "Run the whole iterative mining loop.", [
        "deepcorpus math run --input 'crawl/*.warc.gz' --seed seed.jsonl --output out/math --iterations 4",
    ], beam=True)
    p.add_argument("--input", required=True, action="append", help="WARC/WET files or globs (repeatable)")
    p.add_argument("--seed", required=True, help="JSONL/Parquet of math texts (a `text` column)")
    p.add_argument("--output", required=True, help="run directory: iter_K/ per iteration, corpus/ at the end")
    p.add_argument("--iterations", type=int, default=4, help="maximum iterations (default 4)")
    p.add_argument("--benchmark", action="append", default=[], help="benchmark JSONL/Parquet to decontaminate against")
    p.set_defaults(func=_run)


def _run(args, beam_args):
    from pipelines.math.run import run

    return run(args, beam_args)
