"""Small token-shard datasets for the trainer's tests, written the way `tokenize run` writes them."""

from __future__ import annotations

import numpy as np

from deepcorpus.core.contracts import TOKEN_SHARD, token_shard_schema
from deepcorpus.core.datasets import DatasetWriter

TOKENIZER_HASH = "ab" * 32
PAD, EOS, BOS = 0, 1, 2


def write_shards(path, rows: list[list[int]], *, seq_len: int, vocab_size: int = 64, rows_per_part: int = 1000,
                 tokenizer_hash: str = TOKENIZER_HASH, source: str = "test", doc_starts=None) -> str:
    """Commit `rows` (each seq_len + 1 ids) as a token-shard dataset at `path`."""
    with DatasetWriter(str(path), TOKEN_SHARD, schema=token_shard_schema(seq_len, vocab_size),
                       rows_per_part=rows_per_part) as w:
        w.write_rows([{"tokens": r, "doc_starts": (doc_starts[i] if doc_starts else [0]), "source": source}
                      for i, r in enumerate(rows)])
        w.extra.update(seq_len=seq_len, vocab_size=vocab_size, tokenizer_hash=tokenizer_hash,
                       eos_id=EOS, pad_id=PAD, bos_id=BOS, tokens_by_source={source: len(rows) * (seq_len + 1)})
    return str(path)


def numbered_rows(n: int, seq_len: int, first: int = 0, vocab_size: int = 1 << 20) -> list[list[int]]:
    """Row i holds its own number in every position, so a test can tell rows apart by token."""
    return [[(first + i) % vocab_size] * (seq_len + 1) for i in range(n)]


def pattern_rows(n: int, seq_len: int, vocab_size: int, seed: int = 0) -> list[list[int]]:
    """Learnable text-like rows: documents of short repeated phrases separated by EOS."""
    rng = np.random.default_rng(seed)
    phrases = [rng.integers(3, vocab_size, size=rng.integers(3, 7)).tolist() for _ in range(12)]
    stream: list[int] = []
    while len(stream) < n * (seq_len + 1):
        doc = []
        for _ in range(rng.integers(2, 6)):
            doc += phrases[rng.integers(len(phrases))]
        stream += [BOS, *doc, EOS]
    stream = stream[: n * (seq_len + 1)]
    return [stream[i * (seq_len + 1):(i + 1) * (seq_len + 1)] for i in range(n)]
