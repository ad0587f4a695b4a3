"""The shape every `deepcorpus` sub-command's parser shares: help, examples in the epilog, Beam's
pass-through note, `--debug` after the command, and errors in one line. Each package that owns a
command builds its parser with `command_parser` and registers it with the top-level parser
(`deepcorpus.cli`).

Options are checked when they are parsed, before any work starts, with the `type=` helpers below:

    p.add_argument("--iterations", type=positive_int, default=4)
    p.add_argument("--threshold", type=number(0, 1))              # a finite number in [0, 1]
    p.add_argument("--lr", type=number(0, lo_open=True))           # > 0
    p.add_argument("--vocab-size", type=integer(263, 2**24))
    p.add_argument("--output", type=output_dir)                    # a directory we can create or write
    p.add_argument("--output", type=output_file)                   # a file we can write

Every numeric option of every command uses one of them (tests/test_options.py walks the parsers);
`Bounded.check(value, name)` applies the same range to a value from a config file.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import tempfile

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and exit 2, like UserError."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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


def leaf_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub-)parser that parsed `args`: follows the chosen sub-command at every level."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                return leaf_parser(action.choices[chosen], args)
    return parser


def show_ranges(parser: argparse.ArgumentParser) -> None:
    """Append each numeric option's range to its --help line, in every sub-command below `parser`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                show_ranges(sub)
            continue
        bounded = action.type if isinstance(action.type, Bounded) else getattr(action.type, "bounded", None)
        if bounded is not None and action.help is not argparse.SUPPRESS:
            action.help = f"{action.help or ''} ({bounded.describe()})".strip()


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [s for action in parser._actions for s in action.option_strings if s.startswith("--")]


def unknown_option(arg: str, known: list[str]) -> str:
    """The one-line complaint about an option nobody knows, naming the closest one that exists."""
    name = arg.split("=", 1)[0]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"unrecognized option {name}" + (f" (did you mean {close[0]}?)" if close else "")


# Options where an empty value means something ("--languages ''": every language).
EMPTY_ALLOWED = {"languages"}


def empty_value(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The first option or argument given as an empty string (`--input "$UNSET"`), as argparse names
    it, or None. An empty path would mean the current directory to most file systems: `code run`
    would take it for a repository, `math run` for a folder of crawl files."""
    for action in parser._actions:
        if action.dest in EMPTY_ALLOWED or action.nargs == 0 or isinstance(action, argparse._SubParsersAction):
            continue
        value = getattr(args, action.dest, None)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and not v.strip() for v in values):
            return f"argument {action.option_strings[-1] if action.option_strings else action.metavar or action.dest}"
    return None


# --- numbers -------------------------------------------------------------------------------------


class Bounded:
    """An argparse `type=`: a whole number (`integer`) or a finite real (`number`) within a range.

    Whole numbers may be written 1e9 or 1_000_000; NaN and infinities are never accepted."""

    def __init__(self, kind: type, lo: float | None = None, hi: float | None = None, *,
                 lo_open: bool = False, hi_open: bool = False):
        self.kind, self.lo, self.hi, self.lo_open, self.hi_open = kind, lo, hi, lo_open, hi_open
        self.__name__ = "whole number" if kind is int else "number"  # argparse's "invalid <name> value"

    def describe(self) -> str:
        what = "a whole number" if self.kind is int else "a number"
        if self.lo is not None and self.hi is not None:
            return f"{what} in {'(' if self.lo_open else '['}{_fmt(self.lo)}, {_fmt(self.hi)}{')' if self.hi_open else ']'}"
        if self.lo is not None:
            return f"{what} {'>' if self.lo_open else '>='} {_fmt(self.lo)}"
        if self.hi is not None:
            return f"{what} {'<' if self.hi_open else '<='} {_fmt(self.hi)}"
        return what

    def problem(self, value) -> str | None:
        """Why `value` is out of range, or None."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected {self.describe()}, got {value!r}"
        if self.kind is int and not (isinstance(value, int) or float(value).is_integer()):
            return f"expected {self.describe()}, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected {self.describe()}, got {value}"
        if self.lo is not None and (value < self.lo or self.lo_open and value == self.lo):
            return f"expected {self.describe()}, got {_fmt(value)}"
        if self.hi is not None and (value > self.hi or self.hi_open and value == self.hi):
            return f"expected {self.describe()}, got {_fmt(value)}"
        return None

    def parse(self, text: str):
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return None
            if self.kind is int and math.isfinite(value) and value.is_integer():
                value = int(value)
        return value

    def __call__(self, text: str):
        value = self.parse(text.strip())
        if value is None or self.problem(value):
            raise argparse.ArgumentTypeError(f"expected {self.describe()}, got {text.strip()}")  # as typed
        return float(value) if self.kind is float else int(value)

    def check(self, value, name: str):
        """`value` (from a config file) in range, as int or float; a UserError naming `name` if not."""
        problem = self.problem(value)
        if problem:
            raise UserError(f"{name}: {problem}")
        return float(value) if self.kind is float else int(value)


def _fmt(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else str(v)


def integer(lo: int | None = None, hi: int | None = None) -> Bounded:
    """A whole number in [lo, hi] (either bound may be None)."""
    return Bounded(int, lo, hi)


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False) -> Bounded:
    """A finite number in [lo, hi]; `lo_open`/`hi_open` exclude the bound itself."""
    return Bounded(float, lo, hi, lo_open=lo_open, hi_open=hi_open)


positive_int = integer(1)
nonnegative_int = integer(0)
seed = integer(0, 2**32 - 1)  # every RNG we seed (NumPy, torch, random, hashing) takes this range
fraction = number(0, 1)  # a share, probability or rate
positive = number(0, lo_open=True)
nonnegative = number(0)


def number_or(*words: str, lo=None, hi=None, lo_open=False, hi_open=False):
    """A number in range, or one of `words` (e.g. --threshold 0.5 | auto), returned as the word."""
    inner = number(lo, hi, lo_open=lo_open, hi_open=hi_open)

    def parse(text: str):
        if text.strip() in words:
            return text.strip()
        try:
            return inner(text)
        except argparse.ArgumentTypeError as e:
            raise argparse.ArgumentTypeError(f"{e} or {' or '.join(repr(w) for w in words)}") from None

    parse.__name__ = inner.__name__
    parse.bounded = inner
    return parse


# --- outputs -------------------------------------------------------------------------------------


def writable_problem(path: str, kind: str) -> str | None:
    """Why `path` cannot be written as a `kind` ("dir" or "file"), or None. Local paths only: the
    nearest existing ancestor must be a directory where a file can be created (a probe file is made
    and removed there, which also catches read-only file systems and root's unwritable /sys), and an
    existing `path` must be of that kind. Remote outputs are checked by their first write."""
    if not path.strip():
        return "an empty path"
    if storage.is_http(path):
        return f"{path}: cannot write to an http(s) URL; use a local, gs:// or s3:// path"
    if storage.is_remote(path):
        return None
    full = os.path.abspath(path)
    if os.path.exists(full):
        if kind == "dir" and not os.path.isdir(full):
            return f"{path}: is a file, not a directory"
        if kind == "file" and os.path.isdir(full):
            return f"{path}: is a directory, not a file"
    probe_dir = full if kind == "dir" else os.path.dirname(full)
    while not os.path.exists(probe_dir):
        probe_dir = os.path.dirname(probe_dir)
    if not os.path.isdir(probe_dir):
        return f"{path}: {os.path.relpath(probe_dir) if not os.path.isabs(path) else probe_dir} is a file, not a directory"
    try:
        fd, probe = tempfile.mkstemp(prefix=".deepcorpus-write-check-", dir=probe_dir)
    except OSError as e:
        return f"{path}: cannot write in {probe_dir} ({e.strerror or e})"
    os.close(fd)
    os.unlink(probe)
    return None


def _output(kind: str):
    def parse(text: str) -> str:
        problem = writable_problem(text, kind)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return text

    parse.__name__ = f"output {'directory' if kind == 'dir' else 'file'}"
    return parse


output_dir = _output("dir")  # a directory (a dataset or a run directory) to create or write into
output_file = _output("file")  # a file to write


def check_output(path: str, kind: str) -> str:
    """The same check for an output named outside the command line (a config file's `output`)."""
    problem = writable_problem(path, kind)
    if problem:
        raise UserError(problem)
    return path
