"""The fastText math classifier of DeepSeekMath (section 2.1), with the paper's settings as defaults.

Positives come from the seed corpus (OpenWebMath in the paper), negatives from the crawl. Texts are
normalized by `classifiers.normalize` at training and at scoring time alike.

Two adaptations keep small runs sensible and are recorded in the model's sidecar JSON:
- `min_examples_seen`: the paper's 3 epochs over a million documents are ~3M updates; over a few
  dozen documents 3 epochs learn nothing, so the epoch count rises until training sees at least
  this many examples (10,000 by default). With the paper's sample sizes it stays at 3.
- `bucket`: fastText's default hash table for word n-grams (2M rows x dim 256 = 2 GB) is kept for
  large training sets (past 8M tokens: DeepSeekMath's million documents are far past it); small ones get
  one row per `TOKENS_PER_BUCKET` tokens. A table past the CPU's caches is what training and scoring
  wait on: on the real-page training set (48 + 280 pages, 380k tokens) one row per token (402 MB)
  trained in 13-14 s and scored the pages in 0.27 s, one per 4 tokens (97 MB) in 9.5-10 s and 0.21 s,
  with the same AUC on the bundled eval set (0.990) and on the real pages (0.949 vs 0.950), measured
  with 2 seeds each; from 50k rows down the gain is small.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from classifiers.fasttext_binary import FastTextParams, load_binary, positive_probability, train_binary
from classifiers.normalize import normalize_for_fasttext
from deepcorpus.core import storage

log = logging.getLogger(__name__)

POSITIVE = "__label__math"
NEGATIVE = "__label__other"


@dataclass
class ClassifierConfig:
    max_positives: int = 500_000
    max_negatives: int = 500_000
    dim: int = 256
    lr: float = 0.1
    word_ngrams: int = 3
    min_count: int = 3
    epoch: int = 3
    min_examples_seen: int = 10_000
    bucket: int | None = None  # None: sized to the training data, at most fastText's 2,000,000
    threads: int = 1  # one thread makes training reproducible for a given seed
    seed: int = 0


def effective_epochs(cfg: ClassifierConfig, n_examples: int) -> int:
    if n_examples <= 0:
        return cfg.epoch
    return max(cfg.epoch, math.ceil(cfg.min_examples_seen / n_examples))


TOKENS_PER_BUCKET = 4


def effective_bucket(cfg: ClassifierConfig, n_tokens: int) -> int:
    if cfg.bucket is not None:
        return cfg.bucket
    return int(min(2_000_000, max(10_000, n_tokens // TOKENS_PER_BUCKET)))


class MathClassifier:
    """A trained model: `score(text)` is the probability that the text is math."""

    def __init__(self, model, info: dict | None = None):
        self.model = model
        self.info = info or {}

    @classmethod
    def load(cls, path: str) -> MathClassifier:
        info_path = path + ".json"
        info = json.loads(storage.read_bytes(info_path)) if storage.exists(info_path) else {}
        return cls(load_binary(path), info)

    def score_normalized(self, normalized: str) -> float:
        return positive_probability(self.model, normalized, POSITIVE)

    def score(self, text: str) -> float:
        return self.score_normalized(normalize_for_fasttext(text))

    def score_many(self, texts: Iterable[str]) -> list[float]:
        return [self.score(t) for t in texts]

    def score_normalized_many(self, normalized: list[str]) -> list[float]:
        """Scores of texts already normalized (`normalize_for_fasttext`): what a model shared across
        processes is asked, so the normalizing runs in the callers, in parallel."""
        return [self.score_normalized(t) for t in normalized]


def train_classifier(
    positives: Iterable[str],
    negatives: Iterable[str],
    model_path: str,
    cfg: ClassifierConfig | None = None,
) -> MathClassifier:
    """Train on up to `max_positives` / `max_negatives` texts and save to `model_path` (+ `.json`)."""
    cfg = cfg or ClassifierConfig()
    rng = random.Random(cfg.seed)
    pos = [normalize_for_fasttext(t) for t in _take(positives, cfg.max_positives)]
    neg = [normalize_for_fasttext(t) for t in _take(negatives, cfg.max_negatives)]
    pos, neg = [t for t in pos if t], [t for t in neg if t]
    if not pos or not neg:
        raise ValueError(f"need positives and negatives to train (got {len(pos)} and {len(neg)})")
    lines = [f"{POSITIVE} {t}" for t in pos] + [f"{NEGATIVE} {t}" for t in neg]
    rng.shuffle(lines)
    n_tokens = sum(line.count(" ") for line in lines)
    epochs = effective_epochs(cfg, len(lines))
    bucket = effective_bucket(cfg, n_tokens)
    log.info("training fastText on %d positives and %d negatives (%d epochs, bucket %d)",
             len(pos), len(neg), epochs, bucket)
    params = FastTextParams(dim=cfg.dim, lr=cfg.lr, word_ngrams=cfg.word_ngrams, min_count=cfg.min_count,
                            epoch=epochs, bucket=bucket, threads=cfg.threads, seed=cfg.seed)
    model = train_binary(lines, model_path, params)
    info = {"config": asdict(cfg), "epochs": epochs, "bucket": bucket, "positives": len(pos), "negatives": len(neg),
            "labels": [POSITIVE, NEGATIVE]}
    with open(model_path + ".json", "w") as f:
        json.dump(info, f, indent=2)
    return MathClassifier(model, info)


def _take(texts: Iterable[str], cap: int) -> list[str]:
    out = []
    for t in texts:
        if len(out) >= cap:
            break
        if t:
            out.append(t)
    return out
