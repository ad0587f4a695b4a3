"""Packing: no token lost, every document ends with EOS, rows are one stream, only the last row padded."""

import numpy as np
import pytest

from deepcorpus.core.contracts import token_shard_schema
from pipelines.tokenize.packing import pack, unpack

EOS, PAD = 1, 2
SEQ = 7  # rows of 8 tokens


def docs(lengths, start=10):
    out, next_id = [], start
    for i, n in enumerate(lengths):
        out.append((f"src{i % 2}", np.arange(next_id, next_id + n, dtype=np.int32)))
        next_id += n
    return out


def test_no_token_is_lost_and_each_document_ends_with_eos():
    given = docs([3, 9, 1, 0, 15, 6])
    table, stats = pack(given, SEQ, EOS, PAD, token_shard_schema(SEQ, 1000))
    tokens = np.array(table.column("tokens").to_pylist())
    assert tokens.shape[1] == SEQ + 1
    back = unpack(tokens, EOS, PAD)
    assert len(back) == len(given)
    for (_, ids), got in zip(given, back):
        assert got[-1] == EOS and got[:-1].tolist() == ids.tolist()
    assert stats.tokens == sum(len(ids) + 1 for _, ids in given)
    assert stats.padding == tokens.size - stats.tokens


def test_rows_are_consecutive_windows_and_only_the_last_row_is_padded():
    given = docs([5, 12, 6])  # 26 tokens with EOS: three full rows and two in the last
    table, _ = pack(given, SEQ, EOS, PAD, token_shard_schema(SEQ, 1000))
    rows = table.column("tokens").to_pylist()
    stream = [t for _, ids in given for t in [*ids.tolist(), EOS]]
    assert [t for row in rows for t in row][: len(stream)] == stream
    assert all(PAD not in row for row in rows[:-1]) and rows[-1][-1] == PAD


def test_doc_starts_mark_where_each_document_begins_in_its_row():
    given = docs([5, 12, 4])  # documents of 6, 13 and 5 tokens with EOS: starts 0, 6, 19
    table, _ = pack(given, SEQ, EOS, PAD, token_shard_schema(SEQ, 1000))
    assert table.column("doc_starts").to_pylist() == [[0, 6], [], [3]]
    # The row's source is the document its first token belongs to.
    assert table.column("source").to_pylist() == ["src0", "src1", "src1"]


def test_a_document_never_runs_into_the_next_without_eos():
    given = docs([8, 8, 8])  # each fills a row exactly, EOS spills into the next row
    table, _ = pack(given, SEQ, EOS, PAD, token_shard_schema(SEQ, 1000))
    stream = np.array(table.column("tokens").to_pylist()).reshape(-1)
    starts = [r * (SEQ + 1) + o for r, s in enumerate(table.column("doc_starts").to_pylist()) for o in s]
    for start in starts[1:]:
        assert stream[start - 1] == EOS


def test_large_vocabularies_use_uint32():
    table, _ = pack(docs([3]), SEQ, EOS, PAD, token_shard_schema(SEQ, 2**32))
    assert str(table.schema.field("tokens").type.value_type) == "uint32"


def test_nothing_to_pack_is_an_empty_table():
    table, stats = pack([], SEQ, EOS, PAD, token_shard_schema(SEQ, 1000))
    assert table.num_rows == 0 and stats.rows == 0


def test_unpack_refuses_broken_packing():
    with pytest.raises(ValueError, match="padding before"):
        unpack(np.array([[5, PAD, 6, EOS]]), EOS, PAD)
    with pytest.raises(ValueError, match="ends inside a document"):
        unpack(np.array([[5, 6, EOS, 7]]), EOS, PAD)
