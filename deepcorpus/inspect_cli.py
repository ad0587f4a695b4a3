"""Arguments of `deepcorpus inspect`. DuckDB is imported inside the handler."""


def register(p) -> None:
    p.add_argument("datasets", nargs="+", metavar="DATA",
                   help="dataset directories (several may be opened together); a final quoted SQL statement runs it")
    p.add_argument("--sql", dest="sql_opt", help="SQL to run (instead of a final positional)")
    p.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table",
                   help="how to print the result (parquet needs --output)")
    p.add_argument("--output", help="write the result to this file instead of stdout")
    p.add_argument("--sample", type=int, metavar="N", help="print N random documents readably")
    p.add_argument("--where", help="with --sample: a SQL condition on the main view")
    p.add_argument("--width", type=int, default=100, help="with --sample: wrap text to this width")
    p.add_argument("--max-chars", type=int, default=1500, help="with --sample: cut each text after this many characters")
    p.set_defaults(func=_run)


def _run(args):
    from deepcorpus.inspect import run

    return run(args)
