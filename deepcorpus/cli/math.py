"""`deepcorpus math`: DeepSeekMath's iterative Common Crawl mining (pipelines/math/)."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "math", "Mine a math corpus from Common Crawl (DeepSeekMath, section 2.1).", [
        "deepcorpus math run --input 'crawl/*.warc.gz' --seed seed.jsonl --output out/math --iterations 4",
        "deepcorpus math run --input 'gs://B/crawl/*.warc.gz' --seed gs://B/owm.parquet --output gs://B/math \\",
        "    --runner DataflowRunner --project P --region us-central1 --temp_location gs://B/tmp",
    ])
    steps = p.add_subparsers(dest="math_command", metavar="STEP")
    from pipelines.math import cli as math_cli  # the step parsers live with the pipeline

    math_cli.register(steps)
