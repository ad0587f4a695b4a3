"""Vectorized 64-bit hashing of words, characters and their n-grams (shingles), with NumPy.

Both near-dedup (MinHash) and decontamination (n-gram index) need "the hash of every n-gram of
this text". Doing it word by word in Python is what makes MinHash slow, so the text's UTF-8 bytes
are hashed in one pass: a byte-class table finds word boundaries, a polynomial prefix sum gives
every word's hash at once, and n-grams combine word hashes with array shifts. Every hash is a
deterministic function of the text (no per-process seeds), so workers agree.

Words are runs of ASCII letters, digits and `_` plus any non-ASCII character (so "café" and "π²"
stay words); everything else separates words. A regex can replace that rule (`split_pattern`).
"""

from __future__ import annotations

import re

import numpy as np

U64 = np.uint64
_MASK = (1 << 64) - 1
# Odd multipliers for the polynomial hashes (odd, so they are invertible modulo 2**64).
_P = 0x100000001B3  # byte polynomial (FNV prime)
_Q = 0x9E3779B97F4A7C15  # n-gram polynomial (golden ratio)

_WORD_BYTES = np.zeros(256, dtype=bool)
for _c in b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_":
    _WORD_BYTES[_c] = True
_WORD_BYTES[128:] = True  # bytes of multi-byte UTF-8 characters
_WHITESPACE = re.compile(r"\s+")

# (P**j, P**-j) for j < len: one tuple, replaced whole, so a thread never sees one grown without the other.
_powers_cache: tuple[np.ndarray, np.ndarray] = (np.ones(1, dtype=U64), np.ones(1, dtype=U64))
# Bytes hashed in one go. Each byte costs ~40 B of temporaries (the bytes as uint64, their products,
# the prefix sums) and 16 B of cached powers: hashing a batch of long pages whole held a few hundred
# MiB per worker, and the powers cache kept the largest batch's size for the process's life. In
# windows of 256 KiB that is ~14 MiB at most, whatever the texts (a single word longer than a window
# is hashed alone, its powers not cached); 1 MiB windows cost the same CPU but left the cache at up
# to 16 MiB, which a worker reached only on big batches, so its memory rose with the pages' size.
WINDOW_BYTES = 1 << 18


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**j and P**-j modulo 2**64 for j < n, cached per process up to WINDOW_BYTES + 1."""
    global _powers_cache
    pw, inv = _powers_cache
    if len(pw) < n:
        cap = WINDOW_BYTES + 1
        size = n if n > cap else min(cap, max(n, 2 * len(pw), 1 << 16))
        inv_p = pow(_P, -1, 1 << 64)
        with np.errstate(over="ignore"):
            steps = np.full(size, _P, dtype=U64)
            steps[0] = 1
            pw = np.cumprod(steps, dtype=U64)
            steps[1:] = U64(inv_p)
            inv = np.cumprod(steps, dtype=U64)
        if size <= cap:
            _powers_cache = (pw, inv)
    return pw[:n], inv[:n]


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: spreads every input bit over the whole 64-bit output."""
    with np.errstate(over="ignore"):
        x = x + U64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> U64(27))) * U64(0x94D049BB133111EB)
        return x ^ (x >> U64(31))


def _hash_spans(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The hash of each byte span data[s:e], all spans at once (spans in order, not overlapping),
    a window of at most WINDOW_BYTES at a time: a span's hash does not depend on where it starts."""
    if len(starts) == 0:
        return np.empty(0, dtype=U64)
    if len(data) <= WINDOW_BYTES:
        return _hash_window(data, starts, ends)
    out = np.empty(len(starts), dtype=U64)
    view = memoryview(data)
    i = 0
    while i < len(starts):
        first = int(starts[i])
        j = max(i + 1, int(np.searchsorted(ends, first + WINDOW_BYTES, side="right")))
        out[i:j] = _hash_window(view[first:int(ends[j - 1])], starts[i:j] - first, ends[i:j] - first)
        i = j
    return out


def _hash_window(data, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    n = len(data)
    b = np.frombuffer(data, dtype=np.uint8).astype(U64)
    pw, inv = _powers(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.empty(n + 1, dtype=U64)
        prefix[0] = 0
        np.cumsum(b * pw[:n], dtype=U64, out=prefix[1:])
        h = (prefix[ends] - prefix[starts]) * inv[starts]
        return mix64(h ^ (ends - starts).astype(U64) * U64(_Q))


def word_hashes(text: str, split_pattern: str | None = None) -> np.ndarray:
    """One 64-bit hash per word of `text`, in order."""
    if split_pattern is not None:
        words = [w for w in re.split(split_pattern, text) if w]
        encoded = [w.encode("utf-8", "surrogatepass") for w in words]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        ends = np.cumsum(lengths + 1) - 1
        return _hash_spans(b"\x00".join(encoded) + b"\x00", ends - lengths, ends)
    data = text.encode("utf-8", "surrogatepass")
    if not data:
        return np.empty(0, dtype=U64)
    is_word = _WORD_BYTES[np.frombuffer(data, dtype=np.uint8)].view(np.int8)
    edges = np.diff(is_word, prepend=np.int8(0), append=np.int8(0))
    return _hash_spans(data, np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))


def word_hashes_batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """`word_hashes` of many texts at once: (all word hashes, text after text; words per text).

    The texts are joined with a NUL byte (never part of a word), so one pass over the joined bytes
    finds every word of every text; a span's hash does not depend on where it starts, so each
    word hashes as it does alone."""
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    data = b"\x00".join(encoded)
    if not data:
        return np.empty(0, dtype=U64), np.zeros(len(texts), dtype=np.int64)
    is_word = _WORD_BYTES[np.frombuffer(data, dtype=np.uint8)].view(np.int8)
    edges = np.diff(is_word, prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    text_ends = np.cumsum(lengths + 1) - 1  # the separator after each text
    counts = np.bincount(np.searchsorted(text_ends, starts), minlength=len(texts))
    return _hash_spans(data, starts, ends), counts


def char_hashes(text: str) -> np.ndarray:
    """One 64-bit hash per character (whitespace runs count as one space)."""
    text = _WHITESPACE.sub(" ", text).strip()
    codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(U64)
    return mix64(codepoints)


def ngram_hashes_batch(tokens: np.ndarray, counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`ngram_hashes(short="whole")` of many token sequences stored back to back (`counts` tokens
    each): (all shingles, sequence after sequence; shingles per sequence)."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    short = (counts > 0) & (counts < n)
    out_counts = np.where(short, 1, np.maximum(counts - n + 1, 0))
    out_starts = np.concatenate(([0], np.cumsum(out_counts)[:-1])).astype(np.int64)
    out = np.empty(int(out_counts.sum()), dtype=U64)
    total = len(tokens)
    if total >= n:
        count = total - n + 1
        with np.errstate(over="ignore"):
            h = tokens[:count].copy()
            for k in range(1, n):
                h *= U64(_Q)
                h += tokens[k : k + count]
            h = mix64(h ^ U64(n))
        # Window i belongs to the sequence it starts in and is kept if it ends there too.
        seq = np.repeat(np.arange(len(counts)), counts)[:count]
        keep = (seq == np.repeat(np.arange(len(counts)), counts)[n - 1 :]) & ~short[seq]
        windows = np.flatnonzero(keep)
        out[out_starts[seq[windows]] + windows - starts[seq[windows]]] = h[windows]
    for d in np.flatnonzero(short):  # texts shorter than n words: one shingle of all of them
        out[out_starts[d]] = ngram_hashes(tokens[starts[d] : starts[d] + counts[d]], n)[0]
    return out, out_counts


def ngram_hashes(tokens: np.ndarray, n: int, short: str = "whole") -> np.ndarray:
    """The hash of every window of `n` consecutive token hashes.

    A text shorter than `n` tokens gets one shingle of all its tokens (`short="whole"`), so short
    documents still have a signature, or none (`short="none"`).
    """
    m = len(tokens)
    if m < n:
        if m == 0 or short == "none":
            return np.empty(0, dtype=U64)
        n = m
    count = m - n + 1
    with np.errstate(over="ignore"):
        h = tokens[:count].copy()
        for k in range(1, n):
            h *= U64(_Q)
            h += tokens[k : k + count]
        return mix64(h ^ U64(n))
