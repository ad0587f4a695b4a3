"""Scores with 95% confidence intervals, and the unbiased pass@k estimator.

- accuracy (one 0/1 outcome per item): Wilson score interval, which stays inside [0, 1] and is
  sensible at 0 or n correct (where the normal approximation collapses to a point);
- pass@k from n samples per item: the mean of the per-item unbiased estimates (Chen et al. 2021,
  eq. 1) with a normal interval over items, clipped to [0, 1];
- bits per byte (total bits / total bytes over items): a ratio estimator with the delta-method
  interval, items being the unit of sampling.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def score(value: float | None, n: int, low: float | None, high: float | None, **extra) -> dict:
    return {"value": value, "n": n, "ci95": [low, high] if value is not None else None, **extra}


def wilson(successes: int, n: int) -> dict:
    if n == 0:
        return score(None, 0, None, None)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return score(p, n, max(0.0, centre - half), min(1.0, centre + half), correct=successes)


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), as a product (no huge binomials): the chance that k of the n samples,
    drawn without replacement, include at least one of the c correct ones."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per item (got {n})")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_interval(values: list[float], lo: float = 0.0, hi: float = 1.0) -> dict:
    n = len(values)
    if n == 0:
        return score(None, 0, None, None)
    mean = sum(values) / n
    if n == 1:
        return score(mean, 1, lo, hi)
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = Z95 * math.sqrt(var / n)
    return score(mean, n, max(lo, mean - half), min(hi, mean + half))


def pass_at_k_score(correct_per_item: list[int], samples: int, k: int) -> dict:
    """pass@k over items that each had `samples` samples, `correct_per_item[i]` of them correct."""
    if samples == k == 1:
        return wilson(sum(correct_per_item), len(correct_per_item))
    return mean_interval([pass_at_k(samples, c, k) for c in correct_per_item])


def bits_per_byte(bits: list[float], nbytes: list[int]) -> dict:
    """sum(bits) / sum(bytes), with a delta-method interval over items."""
    n = len(bits)
    total_bytes = sum(nbytes)
    if n == 0 or total_bytes == 0:
        return score(None, n, None, None)
    ratio = sum(bits) / total_bytes
    if n == 1:
        return score(ratio, 1, None, None, bits=sum(bits), bytes=total_bytes)
    mean_bytes = total_bytes / n
    residuals = [b - ratio * y for b, y in zip(bits, nbytes)]
    var = sum(r * r for r in residuals) / (n - 1)
    half = Z95 * math.sqrt(var / n) / mean_bytes
    return score(ratio, n, max(0.0, ratio - half), ratio + half, bits=sum(bits), bytes=total_bytes)
