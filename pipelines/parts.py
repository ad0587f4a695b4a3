"""Reading a dataset part by part, and applying per-row decisions without shuffling the rows.

The local runner holds every shuffled collection in memory, and on Dataflow a shuffle costs by the
byte: full documents should never meet one. Steps that decide something about each row (dedup's
removals, which candidates to sample, the iteration that first collected a page) shuffle only the
decision, keyed by the Parquet part the row lives in, and `ApplyByPart` then reads each part once,
streaming its rows and applying that part's decisions (a dict of at most the part's row count,
~25,000 for a 256 MB part of web text: bounded by construction, not by the dataset):

    decisions = slim | beam.Map(lambda r: (r["part"], (r["id"], payload)))
    rows = decisions | ApplyByPart(dataset_path, mode="drop")          # every row without a decision

The part list is read from the manifest inside the pipeline (the graph holds the dataset's path
only), and spread over the workers by a Reshuffle of the part names.
"""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics

from deepcorpus.core import datasets, storage


def dataset_parts(path: str) -> list[tuple[str, int]]:
    """(part file, bytes) of a committed dataset, from its manifest (the launcher has checked them)."""
    manifest = datasets.read_manifest(path)
    return [(storage.join(path, p["name"]), int(p.get("bytes") or 0)) for p in manifest.get("parts") or []]


class ListParts(beam.DoFn):
    """A dataset path -> its part files; tells progress the bytes to come."""

    def __init__(self, progress=None):
        self.progress = progress

    def process(self, path: str):
        parts = dataset_parts(path)
        if self.progress is not None:
            self.progress.add(files_total=len(parts), bytes_total=sum(b for _, b in parts))
            self.progress.flush()
        for part, _ in parts:
            yield part


def iter_part(part: str, columns: list[str] | None = None):
    """Rows of one Parquet part as dicts, a row group at a time (a corrupt part is one error naming it)."""
    for batch in datasets.iter_parquet_batches(part, columns):
        yield from batch.to_pylist()


class ReadPartFn(beam.DoFn):
    """A part file -> its rows (or (part, row) pairs with `with_part`), counted for progress."""

    def __init__(self, columns: list[str] | None = None, with_part: bool = False, progress=None):
        self.columns = columns
        self.with_part = with_part
        self.progress = progress

    def process(self, part: str):
        for row in iter_part(part, self.columns):
            if self.progress is not None:
                self.progress.add(rows=1)
            yield (part, row) if self.with_part else row
        if self.progress is not None:
            self.progress.add(files=1, bytes=_size(part))
            self.progress.flush()


def _size(path: str) -> int:
    try:
        return storage.size(path)
    except OSError:
        return 0


class ReadParts(beam.PTransform):
    """Rows of a committed dataset, part by part, parts spread over the workers."""

    def __init__(self, path: str, columns: list[str] | None = None, with_part: bool = False, progress=None):
        super().__init__()
        self.path, self.columns, self.with_part, self.progress = path, columns, with_part, progress

    def expand(self, pbegin):
        return (
            pbegin
            | "Dataset" >> beam.Create([self.path])
            | "ListParts" >> beam.ParDo(ListParts(self.progress))
            | "SpreadParts" >> beam.Reshuffle()
            | "ReadPart" >> beam.ParDo(ReadPartFn(self.columns, self.with_part, self.progress))
        )


class _ApplyFn(beam.DoFn):
    def __init__(self, mode: str, merge: Callable | None, stage: str, progress=None, by: str = "id"):
        self.mode = mode
        self.by = by
        self.merge = merge
        self.progress = progress
        self.seen = Metrics.counter(stage, "rows_read")
        self.out = Metrics.counter(stage, "rows_out")

    def process(self, element):
        part, values = element
        decided = {}
        for value in values:
            if value is not None:
                row_id, payload = value
                decided[row_id] = payload
        for i, row in enumerate(iter_part(part)):
            self.seen.inc()
            if self.progress is not None:
                self.progress.add(rows=1)
            key = i if self.by == "row" else row["id"]
            has = key in decided
            if self.mode == "drop":
                if has:
                    continue
            elif self.mode == "keep":
                if not has:
                    continue
                row = self.merge(row, decided[key]) if self.merge else row
            elif has and self.merge is not None:  # update
                row = self.merge(row, decided[key])
            if row is not None:
                self.out.inc()
                yield row
        if self.progress is not None:
            self.progress.add(files=1, bytes=_size(part))
            self.progress.flush()


class ApplyByPart(beam.PTransform):
    """(part, (id, payload)) decisions -> the rows of dataset `path`, each part read once:

    - mode "drop": the rows without a decision;
    - mode "keep": the rows with one, as `merge(row, payload)` (None drops it);
    - mode "update": every row, `merge(row, payload)` where it has one.

    Every part is read, decisions or not (modes drop and update); `stage` names the counters
    `rows_read` and `rows_out`. Decisions name rows by `id`, or (`by="row"`) by their position in
    the part, which is exact even where ids repeat."""

    def __init__(self, path: str, mode: str, merge: Callable | None = None, stage: str = "apply", progress=None,
                 by: str = "id"):
        super().__init__()
        if mode not in ("drop", "keep", "update"):
            raise ValueError(f"ApplyByPart(mode=...) must be drop, keep or update, not {mode!r}")
        if by not in ("id", "row"):
            raise ValueError(f"ApplyByPart(by=...) must be id or row, not {by!r}")
        self.path, self.mode, self.merge, self.stage, self.progress = path, mode, merge, stage, progress
        self.by = by

    def expand(self, decisions):
        parts = (
            decisions.pipeline
            | "Dataset" >> beam.Create([self.path])
            | "ListParts" >> beam.ParDo(ListParts(self.progress))
            | "EveryPart" >> beam.Map(lambda part: (part, None))
        )
        return (
            (decisions, parts)
            | "WithParts" >> beam.Flatten()
            | "ByPart" >> beam.GroupByKey()
            | "Apply" >> beam.ParDo(_ApplyFn(self.mode, self.merge, self.stage, self.progress, self.by))
        )
