"""Arguments of `deepcorpus inspect`. DuckDB is imported inside the handler."""


def register(p) -> None:
    p.add_argument("datasets", nargs="+", metavar="DATA", help="dataset directories (several may be opened together)")
    p.add_argument("--sql", dest="sql_opt", help="SQL to run (also accepted as the last positional)")
    p.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    p.set_defaults(func=_run)


def _run(args):
    from deepcorpus.inspect import run

    return run(args)
