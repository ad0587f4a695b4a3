"""`deepcorpus dedup METHOD`, the whole command: its parsers and handler, registered with the top-level
parser (`deepcorpus.cli`). The handler imports `run.py` when it runs, so `--help` stays quick."""

from deepcorpus.core.command import command_parser, integer, number, output_dir, positive_int, seed

EXAMPLES = {
    "exact": ["deepcorpus dedup exact --input docs.jsonl --output out/exact --removed out/exact_dups --punctuation"],
    "url": ["deepcorpus dedup url --input out/math/corpus --output out/url --prefer latest"],
    "minhash": [
        "deepcorpus dedup minhash --input out/math/corpus --output out/near --removed out/near_dups",
        "deepcorpus dedup minhash --input repos.parquet --output out/repos --preset code --verify",
    ],
    "decontaminate": [
        "deepcorpus dedup decontaminate --input docs.jsonl --benchmark ../shared/data/benchmarks "
        "--output out/clean --removed out/leaks",
    ],
}


def register(sub) -> None:
    p = command_parser(sub, "dedup", "Deduplicate or decontaminate any dataset or JSONL/Parquet with id and text.", [
        "deepcorpus dedup minhash --input out/math/corpus --output out/math_dedup --removed out/math_dups",
        "deepcorpus dedup decontaminate --input docs.jsonl --benchmark gsm8k/test.jsonl --output out/clean",
    ])
    steps = p.add_subparsers(dest="dedup_command", metavar="METHOD")

    for method, help in [
        ("exact", "Keep one document per normalized-text hash."),
        ("url", "Keep one document per canonical URL."),
        ("minhash", "MinHash LSH near-dedup with distributed connected components."),
        ("decontaminate", "Drop documents sharing an n-gram with benchmark files."),
    ]:
        p = command_parser(steps, method, help, [
            f"deepcorpus dedup {method} --input DATA --output DATA --removed DATA", *EXAMPLES[method],
        ], beam=True)
        p.add_argument("--input", required=True, action="append", help="dataset or JSONL/Parquet with id and text")
        p.add_argument("--output", required=True, type=output_dir, help="the kept documents, every input column")
        p.add_argument("--removed", type=output_dir, help="the dropped documents with id and duplicate_of")
        force_option(p)
        if method == "exact":
            p.add_argument("--keep-case", action="store_true", help="do not fold case before hashing")
            p.add_argument("--punctuation", action="store_true", help="ignore punctuation and symbols")
            p.add_argument("--digits", action="store_true", help="ignore which digits a text has (all become 0)")
        if method == "url":
            p.add_argument("--prefer", choices=["latest", "earliest"], default="latest",
                           help="which crawl of a URL to keep (default: latest)")
        if method == "minhash":
            p.add_argument("--preset", choices=["web", "code"], default="web",
                           help="web: 5-grams, 20x13 bands, 0.8; code: BigCode's 5-grams, 25x10 bands, 0.7")
            p.add_argument("--ngram", type=positive_int, help="shingle size (default from the preset: 5)")
            p.add_argument("--shingle", choices=["word", "char"], help="word or character n-grams (default word)")
            p.add_argument("--num-perm", type=positive_int, help="number of permutations")
            p.add_argument("--bands", type=positive_int, help="LSH bands")
            p.add_argument("--rows", type=positive_int, help="rows per band")
            p.add_argument("--threshold", type=number(0, 1, lo_open=True), help="Jaccard threshold used by --verify")
            p.add_argument("--seed", type=seed, default=42, help="permutation seed")
            p.add_argument("--verify", action="store_true",
                           help="compare each cluster's members with its keeper by true Jaccard; those below "
                                "the threshold are kept")
            p.add_argument("--verify-limit", type=positive_int, default=1000,
                           help="members compared per cluster with --verify, the smallest-ranked first; the "
                                "rest keep their candidate decision and are counted as skipped (default 1000)")
            p.add_argument("--cc-rounds", type=positive_int, default=16,
                           help="most large-star/small-star rounds of connected components; the summary says "
                                "whether they converged (default 16)")
            p.add_argument("--bucket-shards", type=positive_int, default=None,
                           help="shards of the LSH band hashes (default: from the number of distinct texts, "
                                "~1M band hashes per shard, counted inside the pipeline)")
            p.add_argument("--batch-size", type=positive_int, default=1024,
                           help="documents hashed together (default 1024); the result does not depend on it")
        if method == "decontaminate":
            decontaminate_options(p)
        p.set_defaults(func=_run, method=method)


def force_option(p) -> None:
    """--force: the only way a dataset output replaces an existing dataset (never anything else)."""
    p.add_argument("--force", action="store_true",
                   help="replace an existing deepcorpus dataset at --output/--removed (anything that is not one "
                        "is never replaced)")


def decontaminate_options(p) -> None:
    """The benchmark options of `dedup decontaminate`, which `math decontaminate` shares."""
    p.add_argument("--benchmark", action="append", required=True,
                   help="benchmark JSONL/Parquet file, glob or directory (repeatable)")
    p.add_argument("--field", action="append",
                   help="benchmark text field (repeatable; default: question, problem, prompt, text, "
                        "formal_statement, informal_prefix, lean)")
    p.add_argument("--ngram", type=integer(3), default=10, help="n-gram length, at least 3 (default 10)")
    p.add_argument("--max-items", type=positive_int, default=10,
                   help="ignore n-grams found in more than this many benchmark items (boilerplate)")
    p.add_argument("--mode", choices=["drop", "flag"], default="drop",
                   help="drop matches, or keep everything and only list matches in --removed")


def _run(args, beam_args):
    from pipelines.dedup.run import run

    return run(args, beam_args)
