"""`deepcorpus code`: repository-level code corpora (pipelines/code/)."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "code", "Build repository-level code documents (DeepSeek-Coder, Coder-V2).", [
        "deepcorpus code run --input repos/ --output out/code",
        "deepcorpus code run --input 'gs://B/stack/*.parquet' --output gs://B/code --runner DataflowRunner ...",
    ])
    steps = p.add_subparsers(dest="code_command", metavar="STEP")
    from pipelines.code import cli as code_cli

    code_cli.register(steps)
