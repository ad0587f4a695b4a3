"""MinHash signatures and LSH band keys, vectorized with NumPy over 64-bit hashes.

A document's shingles (word or character n-grams, see `dedup.shingles`) are hashed once; each of
`num_perm` permutations is the map h -> a*h + b modulo 2**64 (a odd: a bijection), and the
signature keeps each permutation's minimum. Two signatures agree in one position with probability
equal to the Jaccard similarity of the shingle sets. The first `bands * rows` positions are cut
into `bands` bands; documents sharing any band's `rows` values exactly become candidate pairs.
With b bands of r rows a pair of similarity s becomes a candidate with probability
1 - (1 - s**r)**b, an S-curve centered near (1/b)**(1/r).

Many documents are hashed as one batch: their words are found and hashed in one NumPy pass over
the joined texts, their shingles stacked, and one compiled loop (numba) applies every permutation
to every shingle and keeps the minima, in registers: NumPy's uint64 multiply is not vectorized and
its temporaries cost more than the arithmetic (measured ~10x slower for the same result).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from dedup.shingles import U64, char_hashes, mix64, ngram_hashes, ngram_hashes_batch, word_hashes, word_hashes_batch

MAX_HASH = np.iinfo(np.uint64).max


@numba.njit(cache=True, nogil=True)
def _permuted_minima(stacked, offsets, counts, a, b, out):  # pragma: no cover (compiled)
    """out[d, p] = min over document d's shingles h of a[p] * h + b[p] (mod 2**64)."""
    perms = a.shape[0]
    for d in range(offsets.shape[0]):
        sig = out[d]
        for i in range(offsets[d], offsets[d] + counts[d]):
            h = stacked[i]
            for p in range(perms):
                v = a[p] * h + b[p]
                if v < sig[p]:
                    sig[p] = v


@dataclass(frozen=True)
class MinHashConfig:
    """Shingles, permutations and LSH bands. `threshold` is the Jaccard similarity that counts as
    a duplicate when candidate pairs are verified; without verification the bands decide."""

    ngram: int = 5
    mode: str = "word"  # "word" or "char" n-grams
    num_perm: int = 260
    bands: int = 20
    rows: int = 13
    threshold: float = 0.8
    seed: int = 42
    lowercase: bool = True
    split_pattern: str | None = None  # a regex to split words; None: the fast byte-class rule

    def __post_init__(self):
        if self.mode not in ("word", "char"):
            raise ValueError(f"MinHashConfig.mode must be 'word' or 'char', not {self.mode!r}")
        if self.ngram < 1 or self.bands < 1 or self.rows < 1:
            raise ValueError("MinHashConfig: ngram, bands and rows must be at least 1")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"MinHashConfig: bands x rows = {self.bands * self.rows} needs at least that many "
                f"permutations, num_perm is {self.num_perm}"
            )
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"MinHashConfig.threshold must be in (0, 1], not {self.threshold}")

    def candidate_probability(self, similarity: float) -> float:
        """Probability that a pair of this Jaccard similarity shares at least one band."""
        return 1.0 - (1.0 - similarity**self.rows) ** self.bands


class MinHasher:
    """Signatures and band keys for one `MinHashConfig`.

        hasher = MinHasher(MinHashConfig())
        sig = hasher.signature("some text ...")     # (num_perm,) uint64
        keys = hasher.band_keys(sig)                # `bands` bytes keys
    """

    def __init__(self, config: MinHashConfig = MinHashConfig()):
        self.config = config
        rng = np.random.default_rng(config.seed)
        self.a = rng.integers(0, MAX_HASH, size=config.num_perm, dtype=U64, endpoint=True) | U64(1)
        self.b = rng.integers(0, MAX_HASH, size=config.num_perm, dtype=U64, endpoint=True)
        self._band_ids = (np.arange(config.bands, dtype=U64) + U64(1)) * U64(0xD6E8FEB86659FD93)

    def shingles(self, text: str) -> np.ndarray:
        """The 64-bit hash of every shingle of `text` (with repeats)."""
        return self.shingles_batch([text])[0]  # one text: its shingles are all of them

    def shingles_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every text's shingles (as `shingles`), stacked text after text, and the count per text."""
        cfg = self.config
        if cfg.lowercase:
            texts = [t.lower() for t in texts]
        if cfg.mode == "word" and cfg.split_pattern is None:
            tokens, counts = word_hashes_batch(texts)
            return ngram_hashes_batch(tokens, counts, cfg.ngram)
        parts = [ngram_hashes(word_hashes(t, cfg.split_pattern) if cfg.mode == "word" else char_hashes(t), cfg.ngram)
                 for t in texts]
        counts = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
        return (np.concatenate(parts) if parts else np.empty(0, dtype=U64)), counts

    def signature(self, text: str) -> np.ndarray:
        """(num_perm,) uint64; all MAX_HASH for a text without shingles."""
        return self.signatures([text])[0]

    def signatures(self, texts: list[str]) -> np.ndarray:
        """(len(texts), num_perm) uint64, computed as one batch."""
        stacked, counts = self.shingles_batch(texts)
        return self.signatures_of_shingles(stacked, counts)

    def signatures_of_shingles(self, stacked: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Signatures of documents whose shingle hashes are stacked back to back (`counts` each)."""
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        out = np.full((len(counts), self.config.num_perm), MAX_HASH, dtype=U64)
        if len(stacked):
            _permuted_minima(np.ascontiguousarray(stacked, dtype=U64), offsets, counts, self.a, self.b, out)
        return out

    def band_hashes(self, signatures: np.ndarray) -> np.ndarray:
        """(..., bands) uint64: each band's rows hashed to one value (band index mixed in)."""
        cfg = self.config
        bands = signatures[..., : cfg.bands * cfg.rows].reshape(*signatures.shape[:-1], cfg.bands, cfg.rows)
        with np.errstate(over="ignore"):
            h = np.broadcast_to(self._band_ids, bands.shape[:-1]).copy()
            for r in range(cfg.rows):
                h = mix64(h ^ bands[..., r])
        return h

    def band_keys(self, signature: np.ndarray) -> list[bytes]:
        """One key per band, `bands` in all: the band's index (2 bytes) and its hash (8 bytes).
        No keys for a text without shingles: empty texts must not all collide."""
        return self.band_keys_batch(signature[None, :])[0]

    def band_keys_batch(self, signatures: np.ndarray) -> list[list[bytes]]:
        """`band_keys` for each row of (N, num_perm) signatures, hashed as one batch."""
        hashes = self.band_hashes(signatures).astype(">u8").tobytes()
        empty = (signatures == MAX_HASH).all(axis=1).tolist()
        prefixes = [band.to_bytes(2, "big") for band in range(self.config.bands)]
        out = []
        width = 8 * self.config.bands
        for i, is_empty in enumerate(empty):
            if is_empty:
                out.append([])
                continue
            row = hashes[i * width : (i + 1) * width]
            out.append([p + row[8 * b : 8 * b + 8] for b, p in enumerate(prefixes)])
        return out

    def jaccard(self, text_a: str, text_b: str) -> float:
        """True Jaccard similarity of the two texts' shingle sets."""
        a, b = np.unique(self.shingles(text_a)), np.unique(self.shingles(text_b))
        return jaccard_of_sets(a, b)


def jaccard_of_sets(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / |a | b| for two sorted arrays of unique hashes; 1.0 for two empty sets."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The fraction of signature positions that agree: an unbiased estimate of Jaccard."""
    return float(np.mean(sig_a == sig_b))
