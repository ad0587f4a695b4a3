"""The shape every `deepcorpus` sub-command's parser shares: help, examples in the epilog, Beam's
pass-through note, `--debug` after the command. Each package that owns a command builds its parser
with `command_parser` and registers it with the top-level parser (`deepcorpus.cli`)."""

from __future__ import annotations

import argparse


def command_parser(sub, name: str, help: str, examples: list[str], beam: bool = False, **kw):
    """A sub-command parser with its examples in the epilog (shown by --help)."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
    if beam:
        epilog += (
            "\n\nBeam options pass through unchanged, e.g. --runner DataflowRunner --project P "
            "--region R\n--temp_location gs://B/tmp --num_workers N --sdk_container_image IMAGE. "
            "Default: the local\nFnApiRunner in multi_processing mode, one worker per core."
        )
    p = sub.add_parser(
        name, help=help, description=help, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter, **kw,
    )
    # A command with steps and no step given prints its own help; a step's parser overrides this.
    p.set_defaults(beam_args=beam, func=lambda *_: p.print_help() or 2)
    # Accept --debug after the command too; SUPPRESS keeps the top-level value when absent here.
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return p
