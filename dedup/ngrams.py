"""N-gram decontamination: an index of benchmark n-grams, and the question "does this text
contain any of them?".

As in DeepSeekMath and bigcode-dataset: a document is contaminated when it shares a 10-gram
(of lower-cased words) with a benchmark text; a benchmark text of 3 to 9 words must appear whole.
The index holds only 64-bit hashes, in sorted NumPy arrays (8 bytes per n-gram plus 4 for the
owning item), so it is small enough to ship to every worker as a Beam side input.

N-grams shared by more than `max_items` benchmark items are dropped from the index: they are
boilerplate of the benchmark's format (every miniF2F file opens with the same `import Mathlib ...`
header), and matching them would flag every Lean file on the web.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dedup.shingles import U64, ngram_hashes, word_hashes
from deepcorpus.core import datasets, storage
from deepcorpus.core.errors import UserError

# Fields holding a benchmark's problem text, by the names the public benchmark files use
# (GSM8K question, MATH problem, HumanEval prompt, MBPP text, miniF2F formal_statement / lean).
# Answers and solutions are left out by default: short ones ("return sorted(l)", "\frac{1}{2}")
# would match ordinary documents.
DEFAULT_FIELDS = ("question", "problem", "prompt", "text", "formal_statement", "informal_prefix", "lean")
ID_FIELDS = ("task_id", "id", "unique_id", "name", "idx")
MIN_WORDS = 3
BENCHMARK_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".ndjson", ".parquet")


def text_ngrams(text: str, n: int) -> np.ndarray:
    """Hashes of the text's lower-cased word n-grams (none when it has fewer than n words)."""
    return ngram_hashes(word_hashes(text.lower()), n, short="none")


def _item_label(path: str, row: dict, line: int) -> str:
    name = "/".join(os.path.normpath(path).split(os.sep)[-2:]) if not storage.is_remote(path) else storage.basename(path)
    for key in ID_FIELDS:
        if row.get(key) is not None:
            return f"{name}#{row[key]}"
    return f"{name}#{line}"


def benchmark_files(specs: list[str]) -> list[str]:
    """Benchmark files from paths, globs and directories (searched recursively)."""
    files: list[str] = []
    for spec in specs:
        if storage.is_dir(spec):
            found = sorted(
                os.path.join(root, f) for root, _, names in os.walk(spec) for f in names
                if f.endswith(BENCHMARK_SUFFIXES)
            ) if not storage.is_remote(spec) else [
                f for f in storage.expand(storage.join(spec, "**")) if f.endswith(BENCHMARK_SUFFIXES)]
            if not found:
                raise UserError(f"{spec}: directory holds no JSONL or Parquet benchmark files")
            files += found
            continue
        found = storage.expand(spec)
        if not found:
            raise UserError(f"{spec}: no such benchmark file")
        files += found
    return files


def check_benchmarks(paths: Iterable[str], fields: Iterable[str] | None = None) -> int:
    """Read every benchmark file once, in the launcher, before any pipeline runs: a missing, malformed
    or empty one is a UserError naming it now, not after the corpus was built. Benchmark sets are
    small by construction (all of GSM8K, HumanEval, MBPP, MATH and miniF2F: 16,406 items). Returns
    the number of items."""
    return sum(1 for _ in read_benchmark_items(list(paths), fields))


def read_benchmark_items(paths: Iterable[str], fields: Iterable[str] | None = None) -> Iterator[tuple[str, str]]:
    """(item id, text) for each chosen text field of each row of each benchmark file."""
    fields = tuple(fields) if fields else None
    for path in paths:
        if not storage.exists(path):
            raise UserError(f"{path}: no such benchmark file")
        if path.endswith(".parquet"):
            rows: Iterable[dict] = datasets.read_parquet(path).to_pylist()
        elif path.endswith((".jsonl", ".jsonl.gz", ".json", ".ndjson")):
            rows = datasets.iter_jsonl(path)
        else:
            raise UserError(f"{path}: benchmark files must be JSONL (optionally .gz) or Parquet")
        found_any = False
        for line, row in enumerate(rows):
            chosen = fields or tuple(f for f in DEFAULT_FIELDS if f in row)
            if not chosen:  # an unknown format: every string field is benchmark text
                chosen = tuple(k for k, v in row.items() if isinstance(v, str) and k not in ID_FIELDS)
            label = _item_label(path, row, line)
            for f in chosen:
                value = row.get(f)
                if isinstance(value, str) and value.strip():
                    found_any = True
                    yield label, value
        if not found_any:  # an empty file, or one without text: silently no decontamination
            if fields:
                raise UserError(f"{path}: no rows have the field(s) {', '.join(fields)}")
            raise UserError(f"{path}: no benchmark text (an empty file, or rows without string fields)")


@dataclass
class BenchmarkIndex:
    """Sorted n-gram hashes of benchmark texts, each with the index of the item it came from."""

    n: int
    items: list[str]
    keys: np.ndarray  # (N,) uint64, sorted
    owners: np.ndarray  # (N,) int32, index into items
    short: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # words -> (keys, owners)
    dropped_common: int = 0  # n-grams left out because too many items share them

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, str]], n: int = 10, max_items: int = 10) -> BenchmarkIndex:
        labels: list[str] = []
        label_index: dict[str, int] = {}
        long_keys, long_owners = [], []
        short_parts: dict[int, tuple[list, list]] = {}
        for label, text in items:
            owner = label_index.setdefault(label, len(labels))
            if owner == len(labels):
                labels.append(label)
            words = word_hashes(text.lower())
            if len(words) >= n:
                grams = np.unique(ngram_hashes(words, n))
                long_keys.append(grams)
                long_owners.append(np.full(len(grams), owner, dtype=np.int32))
            elif len(words) >= MIN_WORDS:
                k = len(words)
                keys, owners = short_parts.setdefault(k, ([], []))
                keys.append(ngram_hashes(words, k))
                owners.append(np.full(1, owner, dtype=np.int32))
        keys, owners, dropped = _build(long_keys, long_owners, max_items)
        short = {}
        for k, (ks, os_) in sorted(short_parts.items()):
            sk, so, d = _build(ks, os_, max_items)
            short[k] = (sk, so)
            dropped += d
        return cls(n, labels, keys, owners, short, dropped)

    @classmethod
    def from_files(cls, paths: Iterable[str], fields: Iterable[str] | None = ("text",), n: int = 10,
                   max_items: int = 10) -> BenchmarkIndex:
        """Index the given fields of every row of JSONL/Parquet benchmark files (None: the usual
        problem fields, see DEFAULT_FIELDS)."""
        return cls.from_items(read_benchmark_items(list(paths), fields), n=n, max_items=max_items)

    def find(self, text: str) -> str | None:
        """The id of a benchmark item sharing an n-gram with `text` (or contained in it whole)."""
        words = word_hashes(text.lower())
        hit = _first_hit(self.keys, self.owners, ngram_hashes(words, self.n, short="none"))
        if hit is not None:
            return self.items[hit]
        for k, (keys, owners) in self.short.items():
            if len(words) < k:
                break
            hit = _first_hit(keys, owners, ngram_hashes(words, k, short="none"))
            if hit is not None:
                return self.items[hit]
        return None

    @property
    def num_ngrams(self) -> int:
        return len(self.keys) + sum(len(k) for k, _ in self.short.values())

    @property
    def nbytes(self) -> int:
        """Memory of the index arrays (the item ids' strings come on top; see `total_bytes`)."""
        return self.keys.nbytes + self.owners.nbytes + sum(k.nbytes + o.nbytes for k, o in self.short.values())

    @property
    def total_bytes(self) -> int:
        return self.nbytes + sum(len(s) + 49 for s in self.items) + 8 * len(self.items)


def _build(keys: list[np.ndarray], owners: list[np.ndarray], max_items: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Sort the (hash, owner) pairs, keep one owner per hash, drop hashes with too many owners."""
    if not keys:
        return np.empty(0, dtype=U64), np.empty(0, dtype=np.int32), 0
    k = np.concatenate(keys)
    o = np.concatenate(owners)
    order = np.lexsort((o, k))
    k, o = k[order], o[order]
    # Distinct (hash, owner) pairs, then how many owners each hash has.
    distinct = np.ones(len(k), dtype=bool)
    distinct[1:] = (k[1:] != k[:-1]) | (o[1:] != o[:-1])
    k, o = k[distinct], o[distinct]
    first = np.ones(len(k), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(first)
    n_owners = np.diff(np.append(starts, len(k)))
    keep = n_owners <= max_items
    return k[starts[keep]], o[starts[keep]], int((~keep).sum())


def _first_hit(keys: np.ndarray, owners: np.ndarray, grams: np.ndarray) -> int | None:
    if len(keys) == 0 or len(grams) == 0:
        return None
    pos = np.searchsorted(keys, grams)
    pos[pos == len(keys)] = 0
    hits = np.flatnonzero(keys[pos] == grams)
    return int(owners[pos[hits[0]]]) if len(hits) else None
