"""Bits per byte of reference texts, teacher-forced: -sum(log2 p(token)) / UTF-8 bytes.

Dividing by bytes rather than tokens makes models with different tokenizers comparable (DeepSeek
LLM reports Pile BPB the same way). Every token of the text is scored, the first one after the
document-start tokens. A text longer than the model's context is scored in windows of `max_len`
tokens that overlap by half: each token is scored once, with at least half a window of context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LN2 = math.log(2.0)


@dataclass
class TextScore:
    bits: float
    bytes: int
    tokens: int


def windows(n_tokens: int, max_len: int) -> list[tuple[int, int, int]]:
    """(start, end, first scored) over a sequence of n_tokens (start ids included): each window is
    tokens[start:end] and scores the targets at positions first..end-1, each position once."""
    if n_tokens <= max_len:
        return [(0, n_tokens, 1)]
    stride = max(1, max_len // 2)
    out = [(0, max_len, 1)]
    scored_to = max_len
    while scored_to < n_tokens:
        end = min(n_tokens, scored_to + stride)
        out.append((end - max_len, end, scored_to))
        scored_to = end
    return out


def score_texts(lm, texts: list[str]) -> list[TextScore]:
    """Bits, bytes and tokens of each text under `lm` (any evaluation.models.LanguageModel)."""
    encoded = [lm.start_ids + lm.encode(t) for t in texts]
    pieces: list[tuple[int, list[int], int]] = []  # (text index, window ids, positions to skip)
    for i, ids in enumerate(encoded):
        if len(ids) < 2:
            continue  # nothing to predict
        for start, end, first in windows(len(ids), lm.max_len):
            pieces.append((i, ids[start:end], first - start))
    logps = lm.logprobs([p[1] for p in pieces]) if pieces else []
    nats = [0.0] * len(texts)
    for (i, _, skip), lp in zip(pieces, logps):
        nats[i] -= float(lp[skip - 1:].sum())  # lp[j] is the log-prob of window position j + 1
    return [TextScore(n / LN2, len(t.encode("utf-8")), len(ids) - len(lm.start_ids))
            for n, t, ids in zip(nats, texts, encoded)]
