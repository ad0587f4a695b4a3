"""Argument parsers of `deepcorpus code STEP`. Heavy imports happen inside the handlers."""

from deepcorpus.cli import command_parser


def register(steps) -> None:
    p = command_parser(steps, "run", "Build repository-level documents from repositories.", [
        "deepcorpus code run --input repos/ --output out/code",
    ], beam=True)
    p.add_argument("--input", required=True, action="append",
                   help="a folder of repositories, .tar.gz/.zip archives, or a JSONL/Parquet file listing")
    p.add_argument("--output", required=True, help="run directory; the documents go to OUTPUT/corpus")
    p.add_argument("--benchmark", action="append", default=[], help="benchmark JSONL/Parquet to decontaminate against")
    p.set_defaults(func=_run)


def _run(args, beam_args):
    from pipelines.code.run import run

    return run(args, beam_args)
