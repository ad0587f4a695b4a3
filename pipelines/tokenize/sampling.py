"""Deterministic randomness for the token pipeline: uniform numbers from hashes, and mixture rates.

Every random choice (FIM or not, where to cut, which part file, document order, mixture sampling)
is a hash of the seed and the document id, so a rerun, a retried Beam bundle or another runner
makes exactly the same shards.
"""

from __future__ import annotations

import hashlib
import math


def uniform(*key) -> float:
    """A number in [0, 1) that depends only on `key` (stable across processes and Python versions)."""
    digest = hashlib.blake2b("\x1f".join(map(str, key)).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def seed_int(*key) -> int:
    """A 64-bit integer seed from `key`, for a `random.Random` that draws more than one number."""
    return int(uniform(*key) * 2**64)


def copies(rate: float, u: float) -> int:
    """How many times a document is taken at sampling `rate` (>1 repeats), given its uniform `u`.

    In expectation `rate`; the fractional part is a Bernoulli draw on `u`.
    """
    whole = math.floor(rate)
    return whole + (1 if u < rate - whole else 0)


def mixture_rates(available: dict[str, int], weights: dict[str, float], total_tokens: int | None = None) -> dict[str, float]:
    """Sampling rate per source so realised tokens split as `weights`.

    `available` is each source's token count before sampling. Without `total_tokens`, the source
    that is scarcest for its weight is taken whole and the others are subsampled (no document
    repeats); with it, every source is scaled to its share of `total_tokens`, repeating documents
    (rate > 1) where a source is too small. Sources with no tokens get rate 0: their share is lost.
    """
    total_weight = sum(w for name, w in weights.items() if available.get(name, 0) > 0)
    if total_weight <= 0:
        return {name: 0.0 for name in weights}
    share = {name: w / total_weight for name, w in weights.items()}
    if total_tokens is None:
        total_tokens = min(available[n] / share[n] for n in weights if available.get(n, 0) > 0 and share[n] > 0)
    return {
        name: (share[name] * total_tokens / available[name]) if available.get(name, 0) > 0 else 0.0
        for name in weights
    }
