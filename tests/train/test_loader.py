"""The token-shard loader: every row once per epoch, disjoint ranks, exact resume, mixtures, clear errors."""

import os

import numpy as np
import pytest

from deepcorpus.core.errors import DatasetError, UserError
from model import IGNORE_INDEX
from tests.train.shards import EOS, PAD, numbered_rows, write_shards
from train.loader import TokenLoader, open_source, open_sources

SEQ = 8
VOCAB = 100_000


def row_ids(micro_batches):
    """The row numbers (see numbered_rows) in a step's micro-batches, in order."""
    return [int(x) for mb in micro_batches for x in mb.inputs[:, 0]]


def take(loader, steps):
    it = iter(loader)
    return [row_ids(next(it)) for _ in range(steps)]


@pytest.fixture
def numbered(tmp_path):
    # 300 rows over 3 parts; 50-row chunks so the order is shuffled at two levels.
    return write_shards(tmp_path / "tokens", numbered_rows(300, SEQ), seq_len=SEQ, vocab_size=VOCAB,
                        rows_per_part=100)


def make_loader(paths, **kw):
    sources = open_sources(paths if isinstance(paths, list) else [paths], None, chunk_rows=kw.pop("chunk_rows", 50))
    kw.setdefault("global_batch", 10)
    kw.setdefault("micro_batch", 10)
    kw.setdefault("shuffle_buffer", 120)
    return TokenLoader(sources, **kw)


def test_one_epoch_visits_every_row_once_in_a_seeded_shuffled_order(numbered):
    epoch = [r for step in take(make_loader(numbered, seed=1), 30) for r in step]
    assert sorted(epoch) == list(range(300))
    assert epoch != list(range(300))
    again = [r for step in take(make_loader(numbered, seed=1), 30) for r in step]
    other = [r for step in take(make_loader(numbered, seed=2), 30) for r in step]
    assert epoch == again and epoch != other


def test_ranks_split_each_global_batch_without_overlap_like_one_process_with_accumulation(numbered):
    single = take(make_loader(numbered, global_batch=8, micro_batch=2), 6)  # 4 micro-batches per step
    ranks = [take(make_loader(numbered, global_batch=8, micro_batch=2, rank=r, world=2), 6) for r in (0, 1)]
    for step in range(6):
        r0, r1 = ranks[0][step], ranks[1][step]
        assert not set(r0) & set(r1)
        # micro-step a on rank r holds the rows of micro-step a*W + r of the single process
        assert r0[:2] + r1[:2] + r0[2:] + r1[2:] == single[step]


def test_restored_position_continues_exactly(numbered):
    loader = make_loader(numbered, seed=3, workers=2)
    it = iter(loader)
    for _ in range(7):
        next(it)
    state = loader.state_dict()
    rest = [row_ids(next(it)) for _ in range(40)]  # runs into the second epoch
    resumed = make_loader(numbered, seed=3, workers=0)
    resumed.load_state_dict(state)
    assert take(resumed, 40) == rest


def test_mixture_weights_hold_in_every_prefix(tmp_path):
    a = write_shards(tmp_path / "a", numbered_rows(100, SEQ, first=0), seq_len=SEQ, vocab_size=VOCAB)
    b = write_shards(tmp_path / "b", numbered_rows(100, SEQ, first=1000), seq_len=SEQ, vocab_size=VOCAB)
    mix = tmp_path / "mix.yaml"
    mix.write_text(f"sources:\n  - {{name: a, path: {a}, weight: 3}}\n  - {{name: b, path: {b}, weight: 1}}\n")
    loader = TokenLoader(open_sources([], str(mix), chunk_rows=20), global_batch=8, micro_batch=8)
    steps = take(loader, 5)
    for step in steps:
        assert sum(r < 1000 for r in step) == 6  # 3:1 in each batch of 8
    assert loader.state_dict()["source_positions"] == [30, 10]


def test_trailing_padding_is_not_a_target_and_doc_starts_become_segments(tmp_path):
    rows = [[5, 6, EOS, 7, 8, 9, PAD, PAD, PAD]]
    path = write_shards(tmp_path / "t", rows, seq_len=SEQ, vocab_size=16, doc_starts=[[0, 3]])
    loader = TokenLoader([open_source(path)], global_batch=1, micro_batch=1, doc_mask=True, workers=0)
    (mb,) = next(iter(loader))
    assert mb.targets[0].tolist() == [6, EOS, 7, 8, 9, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]
    assert mb.n_tokens == 5
    assert mb.segment_ids[0].tolist() == [0, 0, 0, 1, 1, 1, 1, 1]


def test_shards_from_another_tokenizer_are_refused_with_one_line(tmp_path):
    a = write_shards(tmp_path / "a", numbered_rows(10, SEQ), seq_len=SEQ, vocab_size=VOCAB)
    b = write_shards(tmp_path / "b", numbered_rows(10, SEQ), seq_len=SEQ, vocab_size=VOCAB, tokenizer_hash="cd" * 32)
    with pytest.raises(DatasetError) as e:
        open_sources([a, b], None)
    assert str(b) in str(e.value) and "another tokenizer" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(DatasetError, match="the run's tokenizer"):
        open_sources([a], None, tokenizer_hash="ef" * 32)


def test_a_corrupt_part_is_named_in_a_clear_error(numbered):
    from deepcorpus.core.datasets import open_dataset

    part = open_dataset(numbered).files[1]
    data = open(part, "rb").read()
    half = len(data) // 2
    open(part, "wb").write(data[:half] + b"\0" * (len(data) - half))  # the listed size, but garbage
    with pytest.raises(DatasetError, match=f"{os.path.basename(part)}: corrupt token shard"):
        open_sources([numbered], None)
    open(part, "wb").write(data[:half])  # truncated: refused from the listing, before any read
    with pytest.raises(DatasetError, match=f"{os.path.basename(part)} is {half} bytes, but the manifest lists"):
        open_sources([numbered], None)


def test_token_ids_outside_the_vocabulary_are_refused(tmp_path):
    path = write_shards(tmp_path / "t", [[1, 2, 3, 99, 4, 5, 6, 7, 8]], seq_len=SEQ, vocab_size=64)
    loader = TokenLoader([open_source(path)], global_batch=1, micro_batch=1, workers=1)
    with pytest.raises(DatasetError, match="token id 99, outside the vocabulary of 64"):
        next(iter(loader))


def test_a_missing_dataset_or_an_unfinished_write_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="nope: no such file"):
        open_sources([str(tmp_path / "nope")], None)
    path = write_shards(tmp_path / "t", numbered_rows(4, SEQ), seq_len=SEQ, vocab_size=VOCAB)
    os.remove(os.path.join(path, "_manifest.json"))
    with pytest.raises(DatasetError, match="no _manifest.json"):
        open_sources([path], None)


def test_worker_threads_do_not_change_the_batches(numbered):
    assert take(make_loader(numbered, workers=0), 12) == take(make_loader(numbered, workers=3), 12)


def test_chunks_are_shuffled_within_windows_not_only_in_order(numbered):
    first = take(make_loader(numbered, shuffle_buffer=120), 1)[0]
    # rows of one batch come from more than one 50-row chunk: the buffer mixes chunks
    assert len({r // 50 for r in first}) > 1
    assert np.all(np.diff(sorted(first)) > 0)


def test_doc_starts_follow_their_rows_through_chunks_and_shuffling(tmp_path):
    # Row i has a document starting at offset 1 + i % 7; its tokens carry i, so each row is checked.
    rows = [[i] * (SEQ + 1) for i in range(60)]
    starts = [[0, 1 + i % 7] for i in range(60)]
    path = write_shards(tmp_path / "t", rows, seq_len=SEQ, vocab_size=VOCAB, doc_starts=starts, rows_per_part=25)
    loader = TokenLoader([open_source(path, chunk_rows=10)], global_batch=6, micro_batch=3, doc_mask=True,
                         shuffle_buffer=20)
    it = iter(loader)
    for _ in range(10):
        for mb in next(it):
            for row, seg in zip(mb.inputs[:, 0].tolist(), mb.segment_ids.tolist()):
                assert seg.index(1) == 1 + row % 7
