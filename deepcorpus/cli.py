"""The `deepcorpus` command line. Each sub-command is defined once, by the package that owns it
(`COMMANDS` says where), and registered here.

Pipeline commands (`math`, `code`, `formal`, `dedup`, `tokenize run`) pass every option Beam knows
and they do not to Beam unchanged, so `--runner DataflowRunner --project ... --region ...` work as in
any Beam program; an option neither knows is an error naming the closest one. Errors the user can
fix print one line and exit 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from deepcorpus.core.command import CommandParser, empty_value, leaf_parser, option_strings, show_ranges, unknown_option
from deepcorpus.core.errors import ConservationError, UserError

# Sub-command -> the module that defines it (its `register(sub)` adds the parser and its handler).
COMMANDS = {
    "math": "pipelines.math.cli",
    "code": "pipelines.code.cli",
    "formal": "pipelines.formal.cli",
    "dedup": "pipelines.dedup.cli",
    "tokenize": "pipelines.tokenize.cli",
    "train": "train.cli",
    "sft": "posttrain.sft_cli",
    "grpo": "posttrain.grpo_cli",
    "export": "interop.cli",
    "eval": "evaluation.cli",
    "ablate": "evaluation.ablation",
    "inspect": "deepcorpus.inspect",
    "report": "deepcorpus.report",
    "demo": "deepcorpus.demo",
    "commit": "deepcorpus.commit",
}


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = CommandParser(
        prog="deepcorpus",
        description="Build DeepSeek-style training corpora and train a DeepSeek-style model on them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  deepcorpus demo --output demo-out\n"
            "  deepcorpus math run --input 'crawl/*.warc.gz' --seed seed.jsonl --output out/math\n"
            "  deepcorpus inspect out/math/corpus \"SELECT domain, count(*) FROM docs GROUP BY 1\"\n"
            "\nRun 'deepcorpus COMMAND --help' for a command's options."
        ),
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and Beam's own logging")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).register(sub)
    show_ranges(parser)  # every numeric option's --help says its range
    return parser


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname).1s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    if not debug:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_drop_known_noise)
        for noisy in ("apache_beam", "urllib3", "matplotlib", "fsspec", "filelock", "datatrove"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        # Local Beam workers relay their start-up warnings (no semi_persistent_directory) per pipeline,
        # and Beam logs a failing step's traceback (in the launcher and once more per worker) before
        # raising it: the raised error is what the user sees, one line for a UserError.
        for relay in ("apache_beam.runners.portability.local_job_service", "apache_beam.runners.common",
                      "apache_beam.runners.worker.sdk_worker"):
            logging.getLogger(relay).setLevel(logging.CRITICAL)


def _drop_known_noise(record: logging.LogRecord) -> bool:
    # Beam warns on import that its optional GCP client is missing; local runs never need it.
    return "apitools not found" not in record.getMessage()


def _refuse_unknown_options(parser: CommandParser, args: argparse.Namespace, extra: list[str]) -> None:
    """Pipeline commands hand Beam what they do not know themselves, but only what Beam knows: a
    typo of one of our options (`--iteratons 1`) is an error naming the closest option, not a
    warning from Beam while the run goes on with the default."""
    leaf = leaf_parser(parser, args)
    own = option_strings(leaf)
    if getattr(args, "beam_args", False):
        from pipelines.runner import beam_option_strings, unknown_beam_args

        unknown = unknown_beam_args(extra)
        if unknown and not unknown[0].startswith("-"):
            leaf.error(f"unrecognized argument {unknown[0]} (to give an option several values, repeat it: "
                       "--input A --input B)")
        if unknown:
            leaf.error(unknown_option(unknown[0], own + sorted(beam_option_strings())))
        return
    first = next((a for a in extra if a.startswith("-")), None)
    if first is None:
        leaf.error(f"unrecognized arguments: {' '.join(extra)}")
    leaf.error(unknown_option(first, own))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.version:
        from deepcorpus.core.datasets import code_version

        print(f"deepcorpus {code_version()}")
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2 if args.command is None and argv else 0
    _setup_logging(args.debug)
    if extra:
        _refuse_unknown_options(parser, args, extra)
    empty = empty_value(leaf_parser(parser, args), args)
    if empty:
        leaf_parser(parser, args).error(f"{empty}: an empty value")
    # What manifests and run summaries record, as typed: the demo runs commands in-process, where
    # sys.argv is the demo's own. Handlers pass it down; the data layer records what it is given.
    args.command_line = ["deepcorpus", *argv]
    try:
        if extra and getattr(args, "beam_args", False):
            from pipelines.runner import check_beam_args

            extra = check_beam_args(extra)  # Beam's values and runner name, before any work
        result = args.func(args, extra) if getattr(args, "beam_args", False) else args.func(args)
        return int(result or 0)
    except (UserError, ConservationError) as e:
        if args.debug:
            raise
        print(f"{leaf_parser(parser, args).prog}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("deepcorpus: interrupted; nothing was committed for the unfinished stage", file=sys.stderr)
        return 130
