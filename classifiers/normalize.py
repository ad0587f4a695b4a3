"""Text normalization for fastText, shared by training and scoring so both see the same tokens.

fastText splits on whitespace only, so the text is tokenized here: LaTeX commands (`\\frac`) and
punctuation become tokens of their own (math notation is the strongest signal there is), each CJK
character is a token (Chinese has no spaces), digits collapse to `0` (numbers vary, their presence
matters), and everything is lowercased onto one line, as fastText's input format requires.

The tokens are those of this pattern on the lowercased text, the first `max_tokens` of them joined
by spaces, every digit run then written `0`:

    \\\\[A-Za-z]+ | [CJK] | [^\\W\\d_]+ | \\d+ | [^\\w\\s]      (whitespace and `_` separate them)

where [CJK] is `_CJK` below. A compiled loop over the text's code points gives them (the regex
engine took ~55 ns a character, a tenth of a real page's whole classification; this takes ~3),
with each code point's class read from a table that the same regex classes build, so `\\w`, `\\d`
and `\\s` mean exactly what Python's `re` means by them.
"""

from __future__ import annotations

import functools

import numba
import numpy as np

from deepcorpus.core.text import code_points_matching

MAX_TOKENS = 4096  # the start of a page says what it is; long pages should not dominate time

_CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # one CJK character per token
# A code point's class bits: what separates tokens, starts a one-character CJK token, continues a
# word (any script), is a digit, or continues a LaTeX command. Anything else is a token by itself.
_GAP, _ONE_CJK, _WORD, _DIGIT, _LATIN = 1, 2, 4, 8, 16
_CLASSES = ((_GAP, r"[\s_]"), (_ONE_CJK, _CJK), (_WORD, r"[^\W\d_]"), (_DIGIT, r"\d"), (_LATIN, r"[A-Za-z]"))
_BACKSLASH, _SPACE, _ZERO = ord("\\"), ord(" "), ord("0")


@functools.cache
def _class_table() -> np.ndarray:
    """uint8 class bits of every code point (1.1 MB; ~0.2 s, once a process)."""
    table = np.zeros(0x110000, np.uint8)
    for (bit, _), members in zip(_CLASSES, code_points_matching(*(pattern for _, pattern in _CLASSES))):
        table[members] |= bit
    return table


@numba.njit(cache=True, nogil=True, inline="always")
def _copy_run(text, i, classes, bit, out, k):  # pragma: no cover (compiled)
    """Copies the run of code points of class `bit` at text[i:] to out[k:]; (i, k) after it."""
    n = text.shape[0]
    while i < n and classes[text[i]] & bit:
        out[k] = text[i]
        k += 1
        i += 1
    return i, k


@numba.njit(cache=True, nogil=True)
def _tokens(text, classes, max_tokens, out):  # pragma: no cover (compiled)
    """Writes the first `max_tokens` tokens of `text` (code points) into `out`, space-separated, a
    digit run as `0`; returns how many code points it wrote."""
    n = text.shape[0]
    i = k = found = 0
    while i < n and found < max_tokens:
        c = text[i]
        bits = classes[c]
        if bits & _GAP:
            i += 1
            continue
        if found:
            out[k] = _SPACE
            k += 1
        found += 1
        if c == _BACKSLASH and i + 1 < n and classes[text[i + 1]] & _LATIN:
            out[k] = c
            i, k = _copy_run(text, i + 1, classes, _LATIN, out, k + 1)
        elif bits & _ONE_CJK:
            out[k] = c
            k += 1
            i += 1
        elif bits & _WORD:
            i, k = _copy_run(text, i, classes, _WORD, out, k)
        elif bits & _DIGIT:
            out[k] = _ZERO
            k += 1
            while i < n and classes[text[i]] & _DIGIT:
                i += 1
        else:
            out[k] = c
            k += 1
            i += 1
    return k


def normalize_for_fasttext(text: str, max_tokens: int = MAX_TOKENS) -> str:
    # Only the first max_tokens * 16 characters are read, as the tokens always were (16 a token on a
    # page that has max_tokens: the long pages' time stays bounded).
    low = text[: max_tokens * 16].lower()
    points = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), np.uint32)
    out = np.empty(2 * len(points), np.uint32)  # every character and a space after it, at most
    k = _tokens(points, _class_table(), max_tokens, out)
    return out[:k].tobytes().decode("utf-32-le", "surrogatepass")
