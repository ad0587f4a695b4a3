"""`deepcorpus code STEP`, the whole command: its parsers and handlers, registered with the top-level
parser (`deepcorpus.cli`). A handler imports its step (`run.py`, `coverage.py`) when it runs, so
`--help` stays quick."""

from deepcorpus.core.command import command_parser, output_dir, positive_int, seed


def register(sub) -> None:
    p = command_parser(sub, "code", "Build repository-level code documents (DeepSeek-Coder, Coder-V2).", [
        "deepcorpus code run --input repos/ --output out/code",
        "deepcorpus code run --input 'gs://B/stack/*.parquet' --output gs://B/code --runner DataflowRunner ...",
    ])
    steps = p.add_subparsers(dest="code_command", metavar="STEP")

    p = command_parser(steps, "run", "Build repository-level documents from repositories.", [
        "deepcorpus code run --input repos/ --output out/code",
        "deepcorpus code run --input deepcorpus/samples/repos --output out/code "
        "--benchmark deepcorpus/samples/benchmarks/code_benchmark.jsonl",
        "deepcorpus code run --input stack.parquet --input 'archives/*.tar.gz' --output out/code --order random",
    ], beam=True)
    p.add_argument("--input", required=True, action="append",
                   help="a folder of repositories, .tar.gz/.zip archives, or a JSONL/Parquet file listing")
    p.add_argument("--output", required=True, type=output_dir, help="run directory; the documents go to OUTPUT/corpus")
    p.add_argument("--benchmark", action="append", default=[], help="benchmark JSONL/Parquet to decontaminate against")
    p.add_argument("--seed", type=seed, default=0, help="seed for tie-breaks in the dependency sort and random orders")
    p.add_argument("--order", choices=("dependency", "random"), default="dependency",
                   help="dependency: DeepSeek-Coder's sort where in-repo imports are found (default); "
                        "random: Coder-V2's shuffled concatenation for every repository")
    p.add_argument("--max-file-bytes", type=positive_int, default=1 << 20, help="skip files larger than this (default 1 MiB)")
    p.add_argument("--max-doc-bytes", type=positive_int, default=1 << 20,
                   help="split a larger repository into documents of at most this many bytes, between files along "
                        "its dependency order (default 1 MiB, ~256K tokens; ~4 x the training context makes one "
                        "document one context)")
    p.add_argument("--no-file-dedup", action="store_true", help="keep exact duplicate files across repositories")
    p.add_argument("--no-near-dedup", action="store_true", help="skip repository-level MinHash near-dedup")
    p.add_argument("--extra-language", action="append", default=[], metavar="NAME",
                   help="also keep files of this language outside Coder-V2's 338 (e.g. Markdown, YAML: "
                        "code-related text); repeatable")
    p.add_argument("--quality-model", help="fastText model (classifiers/code_quality.py) whose score is stored as "
                                           "quality['model_score']")
    p.set_defaults(func=_run)

    q = command_parser(steps, "languages", "Coverage report of Coder-V2's 338 languages: identification, "
                       "path comment, dependency family.", [
        "deepcorpus code languages",
        "deepcorpus code languages --json > languages.json",
    ])
    q.add_argument("--json", action="store_true", help="one JSON object per language instead of a table")
    q.set_defaults(func=_languages)


def _languages(args):
    from pipelines.code.coverage import print_coverage

    return print_coverage(as_json=args.json)


def _run(args, beam_args):
    from pipelines.code.run import run

    return run(args, beam_args)
