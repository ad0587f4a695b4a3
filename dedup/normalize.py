"""Text normalization for exact dedup: which differences between two texts do not count.

Two documents are exact duplicates when their normalized texts are equal. What "equal" means is a
choice (a page served twice with different whitespace is a copy; is "Chapter 1" a copy of
"Chapter 2"?), so every rule is a switch in `NormalizeConfig`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

_WHITESPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class NormalizeConfig:
    """Each switch removes one kind of difference before texts are compared."""

    unicode_form: str | None = "NFKC"  # fold compatibility characters (full-width digits, ligatures)
    lowercase: bool = True
    whitespace: bool = True  # collapse runs of whitespace to one space and strip the ends
    punctuation: bool = False  # drop punctuation and symbols
    digits: bool = False  # map every digit to 0, so pages differing only in numbers collide


def normalize_text(text: str, config: NormalizeConfig = NormalizeConfig()) -> str:
    """The text as exact dedup compares it."""
    if config.unicode_form:
        text = unicodedata.normalize(config.unicode_form, text)
    if config.lowercase:
        text = text.lower()
    if config.punctuation:
        # Replaced by a space so that "end.Start" does not become one word.
        text = _PUNCTUATION.sub(" ", text)
    if config.digits:
        text = _DIGITS.sub("0", text)
    if config.whitespace:
        text = _WHITESPACE.sub(" ", text).strip()
    return text


def normalized_hash(text: str, config: NormalizeConfig = NormalizeConfig()) -> str:
    """sha256 (hex, 32 characters) of the normalized text: the exact-dedup key."""
    return hashlib.sha256(normalize_text(text, config).encode("utf-8", "surrogatepass")).hexdigest()[:32]
