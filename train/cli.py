"""Arguments of `deepcorpus train`. Heavy imports (torch) happen inside the handler."""


def register(p) -> None:
    p.add_argument("--preset", default="tiny", help="model preset: tiny, small, v2-lite, v3")
    p.add_argument("--data", action="append", help="token-shard dataset(s)")
    p.add_argument("--steps", type=int, help="optimizer steps")
    p.add_argument("--output", help="run directory (checkpoints, metrics.jsonl)")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint")
    p.add_argument("--count-params", action="store_true", help="report total and activated parameters")
    p.add_argument("--json", action="store_true", help="with --count-params: print JSON")
    p.set_defaults(func=_run)


def _run(args):
    from train.run import run

    return run(args)
