"""Argument parsers of `deepcorpus formal STEP`. Heavy imports happen inside the handlers."""

from deepcorpus.cli import command_parser


def register(steps) -> None:
    p = command_parser(steps, "run", "Generate, verify and iterate Lean 4 statements and proofs.", [
        "deepcorpus formal run --generator template --count 200 --output out/formal",
    ], beam=True)
    p.add_argument("--generator", choices=["template", "hf", "checkpoint"], default="template")
    p.add_argument("--problems", help="JSONL/Parquet of natural-language problems")
    p.add_argument("--count", type=int, default=200, help="statements to generate per round")
    p.add_argument("--output", required=True, help="run directory; the data goes to OUTPUT/corpus")
    p.set_defaults(func=_run)


def _run(args, beam_args):
    from pipelines.formal.run import run

    return run(args, beam_args)
