"""Reading token shards back: documents per part, decoded text, and a consistency check.

    ds = open_shards("out/tokens")
    tok = load_tokenizer("out/tokenizer.json")
    check_tokenizer_matches(ds.manifest, "out/tokenizer.json")
    for text in decode_documents(ds, tok): ...

Plain Python (no Beam): tests, `deepcorpus inspect` users and the trainer can all use it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from deepcorpus.core import datasets
from deepcorpus.core.contracts import TOKEN_SHARD
from pipelines.tokenize.packing import unpack


def open_shards(path: str) -> datasets.Dataset:
    """A committed token-shard dataset, its manifest checked for the keys readers need."""
    ds = datasets.open_dataset(path, TOKEN_SHARD)
    datasets.token_shard_info(ds)
    return ds


def part_tokens(ds: datasets.Dataset, part: str) -> np.ndarray:
    """The (rows, seq_len + 1) token matrix of one part file."""
    column = datasets.read_parquet(part, ["tokens"]).column("tokens").combine_chunks()
    width = ds.manifest["seq_len"] + 1
    return column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)


def iter_documents(ds: datasets.Dataset) -> Iterator[np.ndarray]:
    """Every document's ids (ending with EOS), part by part, in stream order."""
    eos, pad = ds.manifest["eos_id"], ds.manifest["pad_id"]
    for part in ds.files:
        yield from unpack(part_tokens(ds, part), eos, pad)


def decode_documents(ds: datasets.Dataset, tok) -> Iterator[str]:
    """Every document as text (EOS dropped; FIM sentinels kept where FIM was applied)."""
    for ids in iter_documents(ds):
        yield tok.decode(ids[:-1].tolist(), skip_special_tokens=False)


def check_part(ds: datasets.Dataset, part: str) -> None:
    """Raise ValueError unless `doc_starts` marks exactly the token after each EOS (and the first)."""
    table = datasets.read_parquet(part, ["tokens", "doc_starts"])
    tokens = part_tokens(ds, part)
    width = tokens.shape[1]
    eos, pad = ds.manifest["eos_id"], ds.manifest["pad_id"]
    stream = tokens.reshape(-1)
    n = int((stream != pad).sum())
    expected = np.concatenate([[0], np.flatnonzero(stream[:n] == eos)[:-1] + 1]) if n else np.array([], dtype=np.int64)
    recorded = [r * width + o for r, starts in enumerate(table.column("doc_starts").to_pylist()) for o in starts]
    if recorded != expected.tolist():
        raise ValueError(f"{part}: doc_starts do not match the EOS positions")
