"""Packing: documents (token ids) into one stream cut into rows of `seq_len + 1` tokens.

One call packs one part file. Every document is followed by EOS; the stream is the documents in
the order given; row i is stream[i*(seq_len+1) : (i+1)*(seq_len+1)], so rows are consecutive,
non-overlapping windows, and a document that does not fit continues in the next row of the same
part. Only the last row is padded (with PAD, which no document contains). `doc_starts` lists the
offsets within each row where a document begins; `source` is where the row's first token came from.

`unpack` is the inverse: the documents (with their EOS) back from a part's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa


@dataclass
class PackStats:
    rows: int = 0
    documents: int = 0
    tokens: int = 0  # real tokens, EOS included, padding not
    padding: int = 0
    tokens_by_source: dict[str, int] = field(default_factory=dict)
    documents_by_source: dict[str, int] = field(default_factory=dict)


def pack(docs: Iterable[tuple[str, np.ndarray]], seq_len: int, eos_id: int, pad_id: int,
         schema: pa.Schema) -> tuple[pa.Table, PackStats]:
    """Pack (source, token ids without EOS) documents, in order, into a token-shard table."""
    width = seq_len + 1
    pieces: list[np.ndarray] = []
    sources: list[str] = []
    eos = np.array([eos_id], dtype=np.int64)
    stats = PackStats()
    for source, ids in docs:
        pieces.append(np.asarray(ids, dtype=np.int64))
        pieces.append(eos)
        sources.append(source)
        n = len(ids) + 1
        stats.tokens_by_source[source] = stats.tokens_by_source.get(source, 0) + n
        stats.documents_by_source[source] = stats.documents_by_source.get(source, 0) + 1
    if not sources:
        return schema.empty_table(), stats
    lengths = np.array([len(p) for p in pieces[0::2]], dtype=np.int64) + 1
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # where each document begins in the stream
    total = int(lengths.sum())
    n_rows = -(-total // width)
    stream = np.full(n_rows * width, pad_id, dtype=np.int64)
    stream[:total] = np.concatenate(pieces)

    # doc_starts: the starts grouped by row (starts are sorted, so each row's are one slice).
    start_rows = starts // width
    offsets = np.searchsorted(start_rows, np.arange(n_rows + 1), side="left").astype(np.int32)
    doc_starts = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(starts % width, pa.int32()))
    # source: the document covering each row's first token.
    first_doc = np.searchsorted(starts, np.arange(n_rows) * width, side="right") - 1
    row_sources = pa.array([sources[i] for i in first_doc], pa.string())

    id_type = schema.field("tokens").type.value_type
    np_type = np.uint32 if id_type == pa.uint32() else np.int32
    tokens = pa.FixedSizeListArray.from_arrays(pa.array(stream.astype(np_type), id_type), width)
    table = pa.Table.from_arrays([tokens, doc_starts, row_sources], schema=schema)
    stats.rows, stats.documents, stats.tokens = n_rows, len(sources), total
    stats.padding = n_rows * width - total
    return table, stats


def unpack(tokens: np.ndarray, eos_id: int, pad_id: int) -> list[np.ndarray]:
    """The documents (each ending with EOS) of one part's `tokens` (rows, seq_len + 1), in order.

    Raises ValueError if the rows break the packing rules: padding anywhere but at the end of the
    last row, or tokens after the last EOS (a document cut off).
    """
    stream = np.asarray(tokens).reshape(-1)
    real = stream != pad_id
    n = int(real.sum())
    if not real[:n].all():
        raise ValueError("padding before the end of the part")
    stream = stream[:n]
    ends = np.flatnonzero(stream == eos_id) + 1
    if n and (len(ends) == 0 or ends[-1] != n):
        raise ValueError("the part ends inside a document (no EOS after its last tokens)")
    return np.split(stream, ends[:-1]) if n else []
