"""Per-document numbers every contract stores the same way: token estimate and content hash."""

from __future__ import annotations

import hashlib
import re

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
# ASCII characters as the regex classes them: word -> "a", space -> " ", anything else -> ".".
_ASCII_CLASS = bytes(ord("a" if re.match(r"\w", chr(c)) else " " if re.match(r"\s", chr(c)) else ".")
                     for c in range(128)).ljust(256, b".")


def _ascii_count(text: str) -> int:
    # Class every byte, then count the words by where they start and the marks one by one: the
    # regex's count, ~50x faster than building its list of matches.
    kinds = text.encode("ascii").translate(_ASCII_CLASS)
    if len(kinds) < _NUMPY_FROM:
        return kinds.count(b".") + kinds.count(b" a") + kinds.count(b".a") + kinds.startswith(b"a")
    import numpy as np  # a repository document: vector compares beat bytes.count's two-byte search

    k = np.frombuffer(kinds, np.uint8)
    word = k == ord("a")
    return int(np.count_nonzero(k == ord("."))) + int(np.count_nonzero(word[1:] > word[:-1])) + int(word[0])


_NUMPY_FROM = 1 << 16


_BLOCK = 1 << 10


def approx_token_count(text: str) -> int:
    """Words plus punctuation marks: a tokenizer-free estimate (BPE counts run ~1.3x this on English)."""
    if text.isascii():
        return _ascii_count(text)
    # Blocks cut after a newline (no token spans one): the ASCII ones, most of a repository with a
    # few accented comments, take the fast count, the others the regex; ASCII runs of blocks are
    # counted together.
    n, start, ascii_from = 0, 0, None
    while start < len(text):
        end = text.find("\n", start + _BLOCK)
        end = len(text) if end < 0 else end + 1
        block = text[start:end]
        if block.isascii():
            ascii_from = start if ascii_from is None else ascii_from
        else:
            if ascii_from is not None:
                n += _ascii_count(text[ascii_from:start])
                ascii_from = None
            n += len(_TOKEN.findall(block))
        start = end
    if ascii_from is not None:
        n += _ascii_count(text[ascii_from:])
    return n


def content_hash(text: str) -> str:
    """sha256 of the UTF-8 text, hex, first 32 characters: the exact-content identity of a document."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
