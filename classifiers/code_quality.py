"""The quality-model hook of the code pipeline: a fastText classifier scoring repository documents.

`code run --quality-model model.bin` stores `score(text)` as `quality['model_score']` of every
document (the probability of the positive label, `__label__hq` unless the model's sidecar JSON
says otherwise); nothing is dropped, so a threshold stays a query away:

    SELECT repo FROM repos WHERE quality['model_score'] > 0.5

Train one from repositories judged good and bad (e.g. by a stronger model, as Coder-V2 and
The Stack v2 did for their filters):

    train_quality_model(good_texts, bad_texts, "code_quality.bin")
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from classifiers.fasttext_binary import FastTextParams, load_binary, positive_probability, train_binary
from deepcorpus.core import storage

POSITIVE = "__label__hq"
NEGATIVE = "__label__lq"
MAX_TOKENS = 2000  # fastText sees the start of a repository: enough to judge its style

# Code tokens: identifiers, numbers and each punctuation mark, so that style (`;`, `{`) counts too.
_TOKENS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]")


def normalize_code(text: str, max_tokens: int = MAX_TOKENS) -> str:
    """One line of space-separated tokens, as fastText reads its input."""
    tokens = []
    for m in _TOKENS.finditer(text):
        tokens.append(m.group(0))
        if len(tokens) >= max_tokens:
            break
    return " ".join(tokens)


@dataclass
class QualityModelConfig:
    dim: int = 64
    lr: float = 0.5
    word_ngrams: int = 2
    min_count: int = 1
    epoch: int = 25
    bucket: int = 200_000
    seed: int = 0


class CodeQualityModel:
    """A trained model: `score(text)` is the probability of the positive label."""

    def __init__(self, model, positive: str = POSITIVE):
        self.model = model
        self.positive = positive

    @classmethod
    def load(cls, path: str) -> CodeQualityModel:
        info_path = path + ".json"
        positive = POSITIVE
        if storage.exists(info_path):
            positive = json.loads(storage.read_bytes(info_path)).get("positive", POSITIVE)
        return cls(load_binary(path), positive)

    def score(self, text: str) -> float:
        return positive_probability(self.model, normalize_code(text), self.positive)


def train_quality_model(good: Iterable[str], bad: Iterable[str], model_path: str,
                        cfg: QualityModelConfig | None = None) -> CodeQualityModel:
    """Train on good and bad repository texts; writes `model_path` and `model_path.json`."""
    cfg = cfg or QualityModelConfig()
    lines = [f"{POSITIVE} {normalize_code(t)}" for t in good if t] + [f"{NEGATIVE} {normalize_code(t)}" for t in bad if t]
    if not any(line.startswith(POSITIVE) for line in lines) or not any(line.startswith(NEGATIVE) for line in lines):
        raise ValueError("need good and bad examples to train a quality model")
    random.Random(cfg.seed).shuffle(lines)
    params = FastTextParams(dim=cfg.dim, lr=cfg.lr, word_ngrams=cfg.word_ngrams, min_count=cfg.min_count,
                            epoch=cfg.epoch, bucket=cfg.bucket, seed=cfg.seed)
    model = train_binary(lines, model_path, params)
    with open(model_path + ".json", "w") as f:
        json.dump({"positive": POSITIVE, "negative": NEGATIVE, "config": asdict(cfg), "examples": len(lines)}, f,
                  indent=2)
    return CodeQualityModel(model, POSITIVE)
