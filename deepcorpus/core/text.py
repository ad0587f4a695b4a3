"""Per-document numbers every contract stores the same way: token estimate and content hash."""

from __future__ import annotations

import hashlib
import re

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def approx_token_count(text: str) -> int:
    """Words plus punctuation marks: a tokenizer-free estimate (BPE counts run ~1.3x this on English)."""
    return len(_TOKEN.findall(text))  # same count as iterating matches, ~3x faster


def content_hash(text: str) -> str:
    """sha256 of the UTF-8 text, hex, first 32 characters: the exact-content identity of a document."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
