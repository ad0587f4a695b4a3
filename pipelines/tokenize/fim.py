"""Document-level fill-in-the-middle (Bavarian et al. 2022, as DeepSeek-Coder): PSM by default, SPM optional.

A code document is cut at two random character positions into prefix, middle and suffix, with
probability `rate`, before tokenization and packing. The choice and the cuts depend only on the
seed and the document id. The pieces are tokenized separately and joined with sentinel ids, so a
document that merely contains the text of a sentinel never produces one:

    PSM: <｜fim▁begin｜> prefix <｜fim▁hole｜> suffix <｜fim▁end｜> middle
    SPM: <｜fim▁begin｜> <｜fim▁hole｜> suffix <｜fim▁end｜> prefix middle

(SPM is the variant the paper trains jointly with PSM: the sentinels keep their PSM meaning.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from deepcorpus.core.errors import UserError
from pipelines.tokenize.sampling import seed_int, uniform
from pipelines.tokenize.tokenizer import FIM_BEGIN, FIM_END, FIM_HOLE

MODES = ("psm", "spm")


@dataclass(frozen=True)
class FimConfig:
    rate: float = 0.5
    mode: str = "psm"
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise UserError(f"--fim-rate must be between 0 and 1, not {self.rate}")
        if self.mode not in MODES:
            raise UserError(f"--fim-mode must be one of {', '.join(MODES)}, not {self.mode!r}")


@dataclass(frozen=True)
class FimSplit:
    prefix: str
    middle: str
    suffix: str


def fim_split(text: str, doc_id: str, config: FimConfig) -> FimSplit | None:
    """The document's three pieces when FIM applies to it, else None."""
    if not text or config.rate <= 0 or uniform(config.seed, "fim", doc_id) >= config.rate:
        return None
    rng = random.Random(seed_int(config.seed, "fim-cut", doc_id))
    a, b = sorted((rng.randint(0, len(text)), rng.randint(0, len(text))))
    return FimSplit(text[:a], text[a:b], text[b:])


def arrange(split: FimSplit, mode: str) -> list[str | None]:
    """The pieces in training order; None marks where a sentinel goes (begin, hole, end in turn)."""
    if mode == "psm":
        return [None, split.prefix, None, split.suffix, None, split.middle]
    return [None, None, split.suffix, None, split.prefix, split.middle]


def encode_pieces(pieces: list[str | None], encoded: list, sentinels: tuple[int, int, int]) -> np.ndarray:
    """Join the encodings of the text pieces (in order) with the sentinel ids, begin/hole/end in
    turn, as one int32 array (joined without a Python list: a piece may hold millions of ids)."""
    parts = []
    texts = iter(encoded)
    marks = iter(sentinels)
    for piece in pieces:
        parts.append(np.array([next(marks)], dtype=np.int32) if piece is None
                     else np.asarray(next(texts), dtype=np.int32))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def fim_text(split: FimSplit, mode: str) -> str:
    """The FIM'd document as text: what decoding its tokens gives back."""
    marks = iter((FIM_BEGIN, FIM_HOLE, FIM_END))
    return "".join(next(marks) if piece is None else piece for piece in arrange(split, mode))


def undo_fim(text: str) -> str:
    """The original document from a FIM'd one (either mode); other text is returned unchanged.

    Reads the first sentinels it finds, so it is exact unless the document itself contains their text.
    """
    if not text.startswith(FIM_BEGIN) or FIM_HOLE not in text or FIM_END not in text:
        return text
    body = text[len(FIM_BEGIN):]
    if body.startswith(FIM_HOLE):  # SPM: hole suffix end prefix+middle
        suffix, rest = body[len(FIM_HOLE):].split(FIM_END, 1)
        return rest + suffix
    prefix, rest = body.split(FIM_HOLE, 1)
    suffix, middle = rest.split(FIM_END, 1)
    return prefix + middle + suffix
