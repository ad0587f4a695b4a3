"""`deepcorpus inspect`: DuckDB over any dataset's Parquet parts."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "inspect", "Query datasets with DuckDB (views named docs, repos, proofs, tokens).", [
        "deepcorpus inspect out/math/corpus",
        "deepcorpus inspect out/math/corpus \"SELECT domain, count(*) n FROM docs GROUP BY 1 ORDER BY n DESC\"",
        "deepcorpus inspect out/math/corpus --sample 3 --where \"score > 0.9\"",
    ])
    from deepcorpus import inspect_cli

    inspect_cli.register(p)
