"""`deepcorpus tokenize train-tokenizer`: train the byte-level BPE on a streamed sample of the inputs.

The sample is spread over each input rather than taken from its head: a document is kept when a
hash of (seed, source, id) falls under the rate that makes the source's share of `--sample-bytes`
(estimated from Parquet metadata, so nothing is read twice). Budgets a small source cannot use go
to the others. From Parquet, only the row groups the share needs are read: picked by a hash from
the footers' sizes (pipelines/tokenize/row_groups.py), so the rows read follow `--sample-bytes`,
not the size of the input; JSONL, which has no index, is read until the share is full. Rows stream from disk into the trainer, a long document in bounded windows
(pipelines/tokenize/windows.py); no input is ever loaded whole.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from deepcorpus.core import datasets
from deepcorpus.core.errors import UserError
from pipelines.summary import format_table
from pipelines.tokenize import documents, row_groups, windows
from pipelines.tokenize.sampling import uniform

log = logging.getLogger(__name__)


EVAL_BYTES_PER_SOURCE = 1_000_000  # of each source's sample, kept to measure compression afterwards


@dataclass
class SampleStats:
    docs: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)
    eval_texts: dict[str, list[str]] = field(default_factory=dict)


def bytes_per_token(tok, texts: list[str]) -> float:
    """UTF-8 bytes per token over `texts`: how much the vocabulary compresses them (higher is better)."""
    n_tokens = sum(len(e.ids) for e in tok.encode_batch_fast(texts, add_special_tokens=False))
    return round(sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / max(n_tokens, 1), 3)


def allocate(sizes: list[int], budget: int) -> list[int]:
    """Split `budget` over sources of `sizes` bytes: evenly, with what a small source leaves to the rest."""
    alloc = [0] * len(sizes)
    remaining, left = budget, len(sizes)
    for i in sorted(range(len(sizes)), key=lambda i: sizes[i]):
        alloc[i] = min(sizes[i], remaining // left)
        remaining -= alloc[i]
        left -= 1
    return alloc


def _rows_to_sample(source: datasets.Source, name: str, size: int, share: int, seed) -> tuple[Iterator[dict], float]:
    """The rows to draw a source's share from, and the rate to keep them at."""
    columns = documents.columns_for(source)
    if size > share and row_groups.is_parquet(source):
        groups = [g for f in row_groups.source_files(source) for g in row_groups.row_groups(f)]
        ranked = row_groups.rank(groups, seed, name)
        picked = ranked[:row_groups.picked_count(ranked, share)]
        held = sum(g.text_bytes for g in picked)
        log.info("sampling %s: %d of %d row groups (~%s bytes of text)", name, len(picked), len(groups), f"{held:,}")
        # All groups in hash order, the picked ones first: the caller stops at the share, so the
        # rest are read only when the rows drawn from the picked ones fall short of it.
        return row_groups.iter_group_rows(ranked, columns), row_groups.keep_rate(picked, share)
    return datasets.iter_source_rows(source, columns), (1.0 if size <= share else share / size)


def sample_texts(sources: list[datasets.Source], names: list[str], budget: int, seed: int,
                 stats: SampleStats) -> Iterator[str]:
    """Texts from every source up to its share of `budget` bytes, spread by a hash of each document."""
    sizes = [documents.estimate_text_bytes(s) for s in sources]
    started = last_log = time.time()
    total = 0
    for source, name, size, share in zip(sources, names, sizes, allocate(sizes, budget)):
        rows, rate = _rows_to_sample(source, name, size, share, seed)
        log.info("sampling %s: ~%s of ~%s bytes (rate %.3f)", name, f"{share:,}", f"{size:,}", rate)
        used = docs = read = 0
        keep = stats.eval_texts.setdefault(name, [])
        for row in rows:
            read += 1
            text = documents.document_text(row, source.schema_name)
            if text is None or uniform(seed, "sample", name, row.get("id")) >= rate:
                continue
            n = len(text.encode("utf-8", "surrogatepass"))
            used += n
            docs += 1
            if used <= EVAL_BYTES_PER_SOURCE:
                keep.append(text)
            # In bounded windows, cut where the pre-tokens stay those of the whole text: the trainer
            # never holds one huge document (7.9 GB for a 50 MB one).
            for window, _ in windows.windows(text):
                yield window
            if time.time() - last_log > 30:
                last_log = time.time()
                log.info("sampled %s bytes so far (%.0f MB/s)", f"{total + used:,}",
                         (total + used) / 1e6 / (last_log - started))
            if used >= share:
                break
        total += used
        stats.docs[name], stats.bytes[name], stats.rows_read[name] = docs, used, read


def run(args) -> int:
    from pipelines.tokenize.tokenizer import MIN_VOCAB_SIZE, describe, save_tokenizer, train_tokenizer

    sources = datasets.resolve_inputs(args.input)
    for source in sources:
        documents.check_readable(source)
    if args.vocab_size < MIN_VOCAB_SIZE:
        raise UserError(f"--vocab-size must be at least {MIN_VOCAB_SIZE} (256 bytes + 6 special tokens + 1)")
    if args.sample_bytes <= 0:
        raise UserError("--sample-bytes must be positive")
    from deepcorpus.core import outputs

    outputs.check_file_output(args.output)  # before the training: never a directory or inside a dataset
    names = documents.source_names(sources)
    start = time.time()
    stats = SampleStats()
    tok = train_tokenizer(sample_texts(sources, names, args.sample_bytes, args.seed, stats),
                          args.vocab_size, min_frequency=args.min_frequency)
    if sum(stats.docs.values()) == 0:
        raise UserError(f"{', '.join(args.input)}: no text to train on")
    digest = save_tokenizer(tok, args.output)
    info = describe(args.output)
    elapsed = time.time() - start
    log.info("wrote %s (sha256 %s) in %.1fs", args.output, digest, elapsed)
    table = {
        "sample": {**{f"docs_{n}": v for n, v in stats.docs.items()}, **{f"bytes_{n}": v for n, v in stats.bytes.items()},
                   **{f"rows_read_{n}": v for n, v in stats.rows_read.items()}},
        "tokenizer": {"vocab_size": info["vocab_size"], "merges": info["merges"]},
        # Measured on (part of) the training sample itself, so a little optimistic.
        "bytes_per_token": {name: bytes_per_token(tok, texts) for name, texts in stats.eval_texts.items() if texts},
    }
    if info["vocab_size"] < args.vocab_size:
        log.warning("the sample supports only %d tokens of the %d asked for", info["vocab_size"], args.vocab_size)
    print(format_table(table, "train-tokenizer"))
    print(f"tokenizer: {args.output}\nsha256: {digest}")
    return 0
