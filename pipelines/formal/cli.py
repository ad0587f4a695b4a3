"""`deepcorpus formal STEP`, the whole command: its parsers and handler, registered with the top-level
parser (`deepcorpus.cli`). The handler imports `run.py` when it runs, so `--help` stays quick."""

from deepcorpus.core.command import (
    command_parser,
    fraction,
    nonnegative,
    nonnegative_int,
    output_dir,
    output_file,
    positive,
    positive_int,
    seed,
)


def register(sub) -> None:
    p = command_parser(sub, "formal", "Synthesize verified Lean 4 statements and proofs (DeepSeek-Prover).", [
        "deepcorpus formal run --generator template --count 200 --output out/formal",
        "deepcorpus formal run --generator hf --model ./prover-7b --problems problems.jsonl --output out/formal",
    ])
    steps = p.add_subparsers(dest="formal_command", metavar="STEP")

    p = command_parser(steps, "run", "Generate, verify and iterate Lean 4 statements and proofs.", [
        "deepcorpus formal run --generator template --count 200 --output out/formal",
        "deepcorpus formal run --generator template --problems problems.jsonl --count 60 --output out/formal "
        "--require-verification --workers 4",
        "deepcorpus formal run --generator hf --model ./prover-7b --problems problems.jsonl --header mathlib "
        "--lean-server http://localhost:8000 --rounds 3 --output out/formal",
    ], beam=True)
    p.add_argument("--generator", choices=["template", "hf", "checkpoint"], default="template")
    p.add_argument("--problems", help="JSONL/Parquet of natural-language problems")
    p.add_argument("--count", type=positive_int, default=200, help="statements to generate per round")
    p.add_argument("--output", required=True, type=output_dir, help="run directory; the data goes to OUTPUT/corpus")

    g = p.add_argument_group("generator")
    g.add_argument("--model", help="hf: a local Hugging Face model directory; checkpoint: a run or checkpoint dir")
    g.add_argument("--tokenizer", help="checkpoint: tokenizer.json when the checkpoint does not name one")
    g.add_argument("--min-quality", type=fraction, default=0.5,
                   help="model generators: drop formalizations graded below this (fair=0.4, poor=0.2)")
    g.add_argument("--temperature", type=nonnegative, default=1.0,
                   help="model generators: sampling temperature of proofs (0: greedy)")
    g.add_argument("--seed", type=seed, default=0, help="template generator: seed of the statement families")

    s = p.add_argument_group("synthesis")
    s.add_argument("--header", default="core",
                   help="Lean header: 'core' (no Mathlib), 'mathlib' (Prover-V1.5's), or a file of header lines")
    s.add_argument("--rounds", type=positive_int, default=1, help="expert-iteration rounds (default 1)")
    s.add_argument("--attempts", type=positive_int, default=8, help="proof attempts per statement and round (default 8)")
    s.add_argument("--timeout", type=positive, default=60.0, help="seconds per Lean request (default 60)")
    s.add_argument("--batch-size", type=positive_int, default=16, help="statements per batch sent to a worker's pool")
    s.add_argument("--no-negation", action="store_true", help="do not try to prove the negation")
    s.add_argument("--no-hypothesis-check", action="store_true", help="do not test the hypotheses for False")
    s.add_argument("--no-decompose", action="store_true", help="no subgoal decomposition of sketches")
    s.add_argument("--native-decide", action="store_true",
                   help="add native_decide to the portfolio (trusts the compiler: axiom Lean.ofReduceBool)")

    v = p.add_argument_group("verification")
    v.add_argument("--lean-backend", choices=["auto", "repl", "server", "leandojo", "none"], default="auto",
                   help="auto: --lean-server / DEEPCORPUS_LEAN_SERVER, else `repl` on PATH; none: skip")
    v.add_argument("--lean-server", help="URL of a Kimina Lean Server (default: $DEEPCORPUS_LEAN_SERVER)")
    v.add_argument("--repl-command", help="command that starts a REPL, e.g. 'lake exe repl' (default: repl on PATH)")
    v.add_argument("--lean-project", help="Lake project directory to run the REPL in (e.g. one with Mathlib)")
    v.add_argument("--require-verification", action="store_true",
                   help="fail (exit 2) instead of writing unverified statements when no Lean runner is found")
    v.add_argument("--workers", type=positive_int, default=1, help="Lean REPL processes per machine, shared by its Beam workers (at most as many as fit in its memory at --memory-mb each), or requests in flight to --lean-server (default 1)")
    v.add_argument("--memory-mb", type=nonnegative_int, default=8192, help="memory cap per REPL process, MiB (0 = none)")
    v.add_argument("--max-uses", type=positive_int, default=200, help="commands per REPL process before a restart")
    v.add_argument("--toolchain", help="Lean version label (default: asked from Lean)")
    v.add_argument("--cache", type=output_file, help="verification cache file (default OUTPUT/verify_cache.sqlite)")
    v.add_argument("--no-cache", action="store_true", help="verify everything again")
    p.set_defaults(func=_run)


def _run(args, beam_args):
    from pipelines.formal.run import run

    return run(args, beam_args)
