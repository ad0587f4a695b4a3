"""`deepcorpus formal`: Lean 4 statement and proof synthesis (formal/, pipelines/formal/)."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "formal", "Synthesize verified Lean 4 statements and proofs (DeepSeek-Prover).", [
        "deepcorpus formal run --generator template --count 200 --output out/formal",
        "deepcorpus formal run --generator hf --model ./prover-7b --problems problems.jsonl --output out/formal",
    ])
    steps = p.add_subparsers(dest="formal_command", metavar="STEP")
    from pipelines.formal import cli as formal_cli

    formal_cli.register(steps)
