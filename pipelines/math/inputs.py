"""The crawl a math run reads: files, globs, Common Crawl's own listings, and list files.

    --input crawl/*.warc.gz                      local or gs:// / s3:// globs, or single files / URLs
    --input https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-10/warc.paths.gz
    --input warc.paths.gz --crawl-base gs://B/   Common Crawl's listing (warc.paths.gz, wet.paths.gz)
    --input-list my_files.txt                    one path or URL per line (.gz too), any number of them

Listing lines that are not absolute (Common Crawl's `crawl-data/...`) are resolved against
`--crawl-base` (default Common Crawl's public https prefix; an s3:// or gs:// mirror works the same).

A snapshot is ~90,000 files: the launcher never pickles them into the job graph (which has a size
limit) nor puts them on a command line. The graph holds the few specs the user gave; the pipeline's
first step expands them (`ExpandInputs`: globs are listed, listings read, on the workers), and the
file paths are spread over the workers by a Reshuffle of the paths alone, never of the pages.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.metrics import Metrics

from deepcorpus.core import datasets, storage
from deepcorpus.core.errors import UserError
from pipelines.math.warc import CRAWL_SUFFIXES

log = logging.getLogger(__name__)

CC_BASE = "https://data.commoncrawl.org/"
LISTING_SUFFIXES = (".paths.gz", ".paths")  # Common Crawl's warc.paths.gz, wet.paths.gz, ...
CHECK_LINES = 100  # the launcher looks at this many lines of a listing (the workers read it all)


@dataclass(frozen=True)
class Spec:
    """One input as given: `kind` is file, glob, dir (the crawl files in it), url, listing (Common
    Crawl's) or list (--input-list)."""

    kind: str
    path: str


def is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def classify(spec: str, from_list: bool = False) -> Spec:
    if from_list:
        return Spec("list", spec)
    if spec.endswith(LISTING_SUFFIXES):
        return Spec("listing", spec)
    if storage.is_http(spec):
        return Spec("url", spec)
    if not is_glob(spec) and storage.is_dir(spec):
        return Spec("dir", spec)
    return Spec("glob" if is_glob(spec) else "file", spec)


def resolve(line: str, base: str) -> str:
    """A listing line as a path: absolute paths and URLs stay, the rest are joined to `base`."""
    line = line.strip()
    if storage.is_http(line) or storage.is_remote(line) or line.startswith("/"):
        return line
    if storage.is_http(base) or storage.is_remote(base):
        return base.rstrip("/") + "/" + line.lstrip("/")
    return os.path.join(base, line)


def iter_listing(path: str, base: str) -> Iterator[str]:
    """The crawl files a listing names, resolved against `base`; blank lines and # comments skipped."""
    with datasets.open_text(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                yield resolve(line, base)


def is_crawl_file(path: str) -> bool:
    return path.split("?", 1)[0].endswith(CRAWL_SUFFIXES)


def dir_files(path: str) -> list[str]:
    """The crawl files directly in a directory (other files beside them are not the crawl's)."""
    return [f for f in storage.expand(storage.join(path, "*")) if is_crawl_file(f)]


def check(specs: list[Spec], base: str) -> list[str]:
    """Refuse, in one line, inputs that do not exist or are not crawl files; returns the files the
    launcher may name in fingerprints and size decisions (globs and single files, expanded: names
    and sizes, never their data), plus listings themselves. A listing's first lines are checked."""
    named: list[str] = []
    for spec in specs:
        if spec.kind in ("listing", "list"):
            if not storage.exists(spec.path):
                raise UserError(f"{spec.path}: no such file")
            try:
                lines = []
                for line in iter_listing(spec.path, base):
                    lines.append(line)
                    if len(lines) >= CHECK_LINES:
                        break
            except (OSError, UnicodeDecodeError, EOFError) as e:
                raise UserError(f"{spec.path}: cannot read the list of crawl files ({e})") from None
            if not lines:
                raise UserError(f"{spec.path}: lists no crawl files")
            bad = next((x for x in lines if not is_crawl_file(x)), None)
            if bad:
                raise UserError(f"{spec.path}: {bad}: not a WARC/WET file (.warc[.gz|.zst|.lz4] or .wet[.gz|.zst])")
            named.append(spec.path)
            continue
        if spec.kind == "dir":
            found = dir_files(spec.path)
            if not found:
                raise UserError(f"{spec.path}: a directory with no WARC/WET files (.warc[.gz|.zst|.lz4] or .wet[.gz|.zst])")
        else:
            found = storage.expand(spec.path)
        if not found:
            raise UserError(f"{spec.path}: no such file")
        bad = next((f for f in found if not is_crawl_file(f)), None)
        if bad:
            raise UserError(f"{bad}: not a WARC/WET file (.warc[.gz|.zst|.lz4] or .wet[.gz|.zst])")
        named.extend(found)
    return sorted(dict.fromkeys(named))


def worker_read_paths(specs: list[Spec], base: str) -> list[tuple[str, str]]:
    """(option, path) for every path the workers open themselves: inputs, listings, the base."""
    out = []
    for spec in specs:
        out.append(("--input-list" if spec.kind == "list" else "--input", spec.path))
        if spec.kind in ("listing", "list"):
            for line in _first_lines(spec.path, base):
                out.append((f"{spec.path} lists", line))
    return out


def _first_lines(path: str, base: str) -> list[str]:
    lines = []
    for line in iter_listing(path, base):
        lines.append(line)
        if len(lines) >= CHECK_LINES:
            break
    return lines


class ExpandInputs(beam.DoFn):
    """A Spec -> the crawl files it names (on a worker: globs listed, listings read), counted;
    the local runner's progress hears each file's size where the filesystem tells it cheaply."""

    def __init__(self, base: str, progress=None):
        self.base = base
        self.progress = progress
        self.listed = Metrics.counter("read", "files_listed")

    def process(self, spec: Spec):
        if spec.kind in ("listing", "list"):
            paths = iter_listing(spec.path, self.base)
        elif spec.kind in ("url", "file"):
            paths = iter([spec.path])
        elif spec.kind == "dir":
            paths = iter(dir_files(spec.path))
        else:
            paths = iter(storage.expand(spec.path))
        for path in paths:
            self.listed.inc()
            if self.progress is not None:
                size = None if storage.is_http(path) or storage.is_remote(path) else _local_size(path)
                self.progress.add(files_total=1, bytes_total=size or 0)
            yield path
        if self.progress is not None:
            self.progress.flush()


def _local_size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None
