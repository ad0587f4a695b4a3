"""Classifier quality on a labelled set: precision, recall, F1 at a threshold, and the best threshold."""

from __future__ import annotations

from collections.abc import Sequence


def binary_metrics(scores: Sequence[float], labels: Sequence[int], threshold: float) -> dict:
    tp = sum(1 for s, y in zip(scores, labels) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels) if s < threshold and y)
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n": len(labels)}


def best_threshold(scores: Sequence[float], labels: Sequence[int], grid: int = 100) -> float:
    """The threshold with the highest F1 on a grid of 0.01 steps (ties: the higher threshold, fewer pages)."""
    best, best_f1 = 0.5, -1.0
    for k in range(1, grid):
        t = k / grid
        f1 = binary_metrics(scores, labels, t)["f1"]
        if f1 >= best_f1:
            best, best_f1 = t, f1
    return best


def histogram(scores: Sequence[float], bins: int = 10) -> list[dict]:
    """Counts of scores in equal-width bins over [0, 1]."""
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(s * bins)))] += 1
    return [{"lo": round(k / bins, 3), "hi": round((k + 1) / bins, 3), "count": c} for k, c in enumerate(counts)]
