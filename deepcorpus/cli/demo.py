"""`deepcorpus demo`: every stage end to end on the bundled sample data."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "demo", "Run every stage on the bundled samples, then print the summary.", [
        "deepcorpus demo --output demo-out",
    ])
    p.add_argument("--output", default="demo-out", help="a fresh directory for everything the demo writes")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the demo's own)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from deepcorpus.demo import run_demo

    return run_demo(args.output, train_steps=args.steps)
