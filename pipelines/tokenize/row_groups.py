"""A source's Parquet row groups from their footers, and reading only the ones a sample needs.

`train-tokenizer` samples a share of each source. Reading every row and keeping a hashed few reads
the whole source; picking row groups by a hash of (seed, source, file, group) from the footers'
sizes, then sampling rows inside them, reads about twice the share however big the source is.
Rows inside are drawn at random, so now and then the picked groups give less than the share: the
next groups in hash order are read then, one at a time until it fills.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from deepcorpus.core import storage
from deepcorpus.core.datasets import Source
from deepcorpus.core.errors import DatasetError
from pipelines.tokenize.sampling import uniform

OVERSAMPLE = 2  # groups picked hold this many times the share, so rows inside are sampled too
KEEP = 1.5  # rows in them are kept at KEEP x share / held, so the share fills before they run out


def keep_rate(picked: list[RowGroup], share: int) -> float:
    held = sum(g.text_bytes for g in picked)
    return 1.0 if held <= 0 else min(1.0, KEEP * share / held)


class RowGroup(NamedTuple):
    path: str
    index: int
    first_row: int  # in its file: plain rows without an `id` are named FILE:ROW
    rows: int
    text_bytes: int  # uncompressed bytes of its `text` column


def source_files(source: Source) -> list[str]:
    return list(source.dataset.files if source.dataset is not None else source.files)


def is_parquet(source: Source) -> bool:
    files = source_files(source)
    return bool(files) and all(f.endswith(".parquet") for f in files)


def row_groups(path: str) -> list[RowGroup]:
    """The row groups of one Parquet file, from its footer alone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with storage.open_random(path) as handle:
            meta = pq.ParquetFile(handle).metadata
    except (pa.ArrowException, OSError) as e:
        raise DatasetError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    out, first = [], 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        text = sum(group.column(c).total_uncompressed_size for c in range(group.num_columns)
                   if group.column(c).path_in_schema == "text")
        out.append(RowGroup(path, g, first, group.num_rows, text))
        first += group.num_rows
    return out


def rank(groups: list[RowGroup], seed, name: str) -> list[RowGroup]:
    """Every row group in the order of a hash of (seed, source, file, group): spread over the
    source, not its first files. Memory: one tuple per row group of the source."""
    return sorted(groups, key=lambda g: uniform(seed, "group", name, storage.basename(g.path), g.index))


def picked_count(ranked: list[RowGroup], share: int) -> int:
    """How many of the first `ranked` groups it takes to hold OVERSAMPLE x `share` bytes of text."""
    held = 0
    for n, g in enumerate(ranked):
        if held >= OVERSAMPLE * share:
            return n
        held += g.text_bytes
    return len(ranked)


def pick(groups: list[RowGroup], share: int, seed, name: str) -> list[RowGroup]:
    """The first row groups in hash order that hold OVERSAMPLE x `share` bytes of text."""
    ranked = rank(groups, seed, name)
    return ranked[:picked_count(ranked, share)]


def iter_group_rows(groups: list[RowGroup], columns: list[str] | None) -> Iterator[dict]:
    """The rows of just these row groups, one group at a time in the order given (a file opened
    once for each run of its groups); a corrupt one names its file."""
    import itertools

    import pyarrow as pa
    import pyarrow.parquet as pq

    for path, file_groups in itertools.groupby(groups, key=lambda g: g.path):
        try:
            with storage.open_random(path) as handle:
                pf = pq.ParquetFile(handle)
                names = set(pf.schema_arrow.names)
                read = [c for c in columns if c in names] if columns else None
                for g in file_groups:
                    i = g.first_row
                    for batch in pf.iter_batches(batch_size=1024, row_groups=[g.index], columns=read):
                        for row in batch.to_pylist():
                            if row.get("id") is None:
                                row["id"] = f"{storage.basename(path)}:{i}"
                            i += 1
                            yield row
        except (pa.ArrowException, OSError) as e:
            raise DatasetError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
