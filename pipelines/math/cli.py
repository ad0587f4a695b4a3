"""`deepcorpus math STEP`, the whole command: its parsers and handlers, registered with the top-level
parser (`deepcorpus.cli`). A handler imports its step (`run.py`, `steps.py`, and for `decontaminate`
`pipelines/dedup/run.py`) when it runs, so `--help` stays quick."""

from deepcorpus.core.command import (
    command_parser,
    fraction,
    nonnegative_int,
    number_or,
    output_dir,
    output_file,
    positive,
    positive_int,
)
from pipelines.dedup.cli import decontaminate_options, force_option


def _classifier_options(p) -> None:
    g = p.add_argument_group("classifier (DeepSeekMath's fastText settings are the defaults)")
    g.add_argument("--max-positives", type=positive_int, help="cap on positives (default 500000)")
    g.add_argument("--max-negatives", type=positive_int, help="cap on negatives sampled from the crawl (default 500000)")
    g.add_argument("--dim", type=positive_int, help="vector dimension (default 256)")
    g.add_argument("--lr", type=positive, help="learning rate (default 0.1)")
    g.add_argument("--word-ngrams", type=positive_int, help="word n-grams up to (default 3)")
    g.add_argument("--min-count", type=positive_int, help="minimum word count (default 3)")
    g.add_argument("--epoch", type=positive_int, help="epochs (default 3; raised for tiny training sets, see docs)")


def register(sub) -> None:
    p = command_parser(sub, "math", "Mine a math corpus from Common Crawl (DeepSeekMath, section 2.1).", [
        "deepcorpus math run --input 'crawl/*.warc.gz' --seed seed.jsonl --output out/math --iterations 4",
        "deepcorpus math run --input 'gs://B/crawl/*.warc.gz' --seed gs://B/owm.parquet --output gs://B/math \\",
        "    --runner DataflowRunner --project P --region us-central1 --temp_location gs://B/tmp",
    ])
    steps = p.add_subparsers(dest="math_command", metavar="STEP")

    p = command_parser(steps, "run", "Run the whole iterative mining loop.", [
        "deepcorpus math run --input 'crawl/*.warc.gz' --seed seed.jsonl --output out/math --iterations 4",
        "deepcorpus math run --input 'crawl/*.warc.gz' --seed owm.parquet --output out/math \\",
        "    --benchmark gsm8k/test.jsonl --benchmark math/math_test.jsonl --auto-approve 0.6 --token-budget 40000000000",
    ], beam=True)
    p.add_argument("--input", action="append",
                   help="WARC/WET files or globs, local, gs://, s3:// or https://, or Common Crawl's listing "
                        "warc.paths.gz / wet.paths.gz (repeatable)")
    p.add_argument("--input-list", action="append", metavar="FILE",
                   help="a text file (.gz too) naming one crawl file per line, read inside the pipeline: for "
                        "thousands of files (repeatable)")
    p.add_argument("--crawl-base", metavar="URL",
                   help="what relative lines of listings are resolved against (default "
                        "https://data.commoncrawl.org/; a same-region s3:// or gs:// mirror reads faster)")
    p.add_argument("--seed", required=True, help="JSONL/Parquet of math texts (a `text` column)")
    p.add_argument("--output", required=True, type=output_dir,
                   help="run directory: iter_K/ per iteration, corpus/ at the end")
    p.add_argument("--iterations", type=positive_int, default=4, help="maximum iterations (default 4)")
    p.add_argument("--benchmark", action="append", default=[], help="benchmark JSONL/Parquet to decontaminate against")
    p.add_argument("--threshold", default=0.5, type=number_or("auto", lo=0, hi=1),
                   help="keep pages scoring at least this (default 0.5); 'auto': best F1 on --eval each iteration")
    p.add_argument("--token-budget", type=positive_int, help="keep only the top-scored pages within this many tokens")
    p.add_argument("--eval", help="labelled JSONL (text, label 1/0) for precision/recall (default: bundled sample)")
    p.add_argument("--auto-approve", type=fraction,
                   help="approve proposed URL prefixes whose collected share reaches this, unattended")
    p.add_argument("--approved", help="annotation file (YAML/JSON) of approved URL prefixes")
    p.add_argument("--stop-overlap", type=fraction, default=0.98,
                   help="stop when this share of collected pages was collected before (default 0.98)")
    p.add_argument("--domain-share", type=fraction, default=0.10,
                   help="a domain is math-related above this collected share (default 0.10)")
    p.add_argument("--prefix-share", type=fraction, default=0.5, help="propose prefixes with this collected share")
    p.add_argument("--min-prefix-pages", type=positive_int, default=3, help="propose prefixes with at least this many pages")
    p.add_argument("--prefix-depth", type=positive_int, default=1, help="URL path segments in a prefix (default 1)")
    p.add_argument("--languages", default="", help="keep only these lid.176 languages, e.g. en,zh (default: all)")
    p.add_argument("--min-chars", type=nonnegative_int, default=100, help="drop extracted texts shorter than this")
    p.add_argument("--max-page-chars", type=positive_int, default=2_000_000,
                   help="skip pages with more HTML than this (counted as extract/dropped_too_large)")
    p.add_argument("--max-page-depth", type=positive_int, default=256,
                   help="skip pages nested deeper than this (extract/dropped_too_deep; real pages: ~50 at most)")
    p.add_argument("--max-page-seconds", type=positive, default=20.0,
                   help="time cap for extracting one big page (extract/dropped_timeout)")
    _classifier_options(p)
    p.set_defaults(func=_run)

    p = command_parser(steps, "train-classifier", "Train the fastText math classifier on positives vs negatives.", [
        "deepcorpus math train-classifier --positives seed.jsonl --negatives out/math/candidates "
        "--output out/model.bin",
    ])
    p.add_argument("--positives", required=True, action="append", help="math texts: dataset, JSONL or Parquet")
    p.add_argument("--negatives", required=True, action="append", help="other texts: dataset, JSONL or Parquet")
    p.add_argument("--output", required=True, type=output_file,
                   help="model file to write (plus MODEL.json with its settings)")
    p.add_argument("--eval", help="labelled JSONL (text, label) to report precision/recall on")
    p.add_argument("--threshold", type=fraction, default=0.5, help="threshold for the reported precision/recall")
    _classifier_options(p)
    p.set_defaults(func=_train_classifier)

    p = command_parser(steps, "score", "Score documents with a math classifier (adds `score`).", [
        "deepcorpus math score --input out/math/candidates --model out/model.bin --output out/scored",
        "deepcorpus math score --input docs.jsonl --model model.bin --output out/math_docs --threshold 0.5",
    ], beam=True)
    p.add_argument("--input", required=True, action="append", help="web_doc dataset or JSONL/Parquet with text")
    p.add_argument("--model", required=True, help="model from train-classifier or a run's iter_K/model.bin")
    p.add_argument("--output", required=True, type=output_dir, help="web_doc dataset of the scored documents")
    p.add_argument("--threshold", type=fraction, help="keep only documents scoring at least this")
    force_option(p)
    p.set_defaults(func=_score)

    p = command_parser(steps, "discover", "Find math domains and URL prefixes in a scored dataset.", [
        "deepcorpus math discover --input out/scored --threshold 0.5 --output out/discovery.yaml",
    ])
    p.add_argument("--input", required=True, action="append", help="scored web_doc dataset(s) (url, score)")
    p.add_argument("--output", required=True, type=output_file, help="review file (YAML) to write")
    p.add_argument("--threshold", type=fraction, default=0.5, help="a page counts as collected at this score")
    p.add_argument("--domain-share", type=fraction, default=0.10)
    p.add_argument("--prefix-share", type=fraction, default=0.5)
    p.add_argument("--min-prefix-pages", type=positive_int, default=3)
    p.add_argument("--prefix-depth", type=positive_int, default=1)
    p.add_argument("--auto-approve", type=fraction, help="mark prefixes with this collected share approved")
    p.set_defaults(func=_discover)

    p = command_parser(steps, "decontaminate", "Drop documents sharing a 10-gram with benchmark files.", [
        "deepcorpus math decontaminate --input out/math/iter_2/collected --benchmark gsm8k/test.jsonl "
        "--output out/clean",
    ], beam=True)
    p.add_argument("--input", required=True, action="append", help="web_doc dataset or JSONL/Parquet with text")
    p.add_argument("--output", required=True, type=output_dir, help="web_doc dataset of the kept documents")
    p.add_argument("--removed", type=output_dir,
                   help="the dropped documents with the benchmark item they matched (duplicate_of)")
    force_option(p)
    decontaminate_options(p)
    p.set_defaults(func=_decontaminate, method="decontaminate")


def _run(args, beam_args):
    from pipelines.math.run import run

    return run(args, beam_args)


def _train_classifier(args):
    from pipelines.math.steps import train_classifier_step

    return train_classifier_step(args)


def _score(args, beam_args):
    from pipelines.math.steps import score_step

    return score_step(args, beam_args)


def _discover(args):
    from pipelines.math.steps import discover_step

    return discover_step(args)


def _decontaminate(args, beam_args):
    # `dedup decontaminate`, whose plain JSONL/Parquet inputs become web_doc rows here.
    from pipelines.dedup.run import run

    return run(args, beam_args, plain_as_web_doc=True)
