"""Long documents in bounded windows: encoding (and tokenizer training) never sees more than
`size` characters at once, so memory per document is bounded (the `tokenizers` library holds ~200
bytes per character of the text it encodes: 10 GB for one 50 MB document).

A window ends where the pre-tokenizer (tokenizer.py: digits, CJK runs, then the DeepSeek word
pattern) must end a pre-token whatever follows: after an ASCII letter followed by a space or a
newline (a letter run stops there, and whitespace attaches to the *next* word), or after a newline
followed by a printable ASCII character (a newline run, or punctuation with its newlines, ends
there; nothing starts with a newline and goes on). No pattern looks ahead past such a place, so
the pre-tokens, and the BPE ids of each, are those of the whole text: the windows' ids joined
equal the whole text's.
Only a text with no such place in the second half of a window (a minified line, a base64 blob) is
cut at the size itself; those cuts are counted, and may change the ids next to the cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

DEFAULT_WINDOW_CHARS = 256 * 1024

# After an ASCII letter followed by a space or newline; after a newline followed by a printable
# ASCII character (whitespace there could continue a newline run).
_SAFE_END = re.compile(r"[A-Za-z](?=[ \n])|\n(?=[!-~])")


def windows(text: str, size: int = DEFAULT_WINDOW_CHARS) -> Iterator[tuple[str, bool]]:
    """(window, cut_unsafely) pieces of `text`, each at most `size` characters, joined = `text`."""
    start, n = 0, len(text)
    while n - start > size:
        end = _safe_end(text, start + size // 2, start + size)
        unsafe = end is None
        end = start + size if unsafe else end
        yield text[start:end], unsafe
        start = end
    yield text[start:], False


def _safe_end(text: str, lo: int, hi: int) -> int | None:
    """The last safe window end in (lo, hi] (see the module's docstring)."""
    last = None
    # Search the last 4 KB first: nearly every text has a letter before a space there.
    for begin in (max(lo, hi - 4096), lo):
        for m in _SAFE_END.finditer(text, begin, hi):
            last = m.end()
        if last is not None:
            return last
    return None


def encode(tok, texts: list[str], size: int = DEFAULT_WINDOW_CHARS) -> tuple[list[np.ndarray], int]:
    """Token ids (int32 arrays) of each text, without special tokens, short texts in one batch and
    long ones window by window; and how many windows had to be cut unsafely."""
    out: list[np.ndarray | None] = [None] * len(texts)
    short = [i for i, t in enumerate(texts) if len(t) <= size]
    for i, e in zip(short, tok.encode_batch_fast([texts[i] for i in short], add_special_tokens=False)):
        out[i] = np.asarray(e.ids, dtype=np.int32)
    unsafe = 0
    for i, text in enumerate(texts):
        if out[i] is not None:
            continue
        parts = []
        for window, cut in windows(text, size):
            unsafe += cut
            [e] = tok.encode_batch_fast([window], add_special_tokens=False)
            parts.append(np.asarray(e.ids, dtype=np.int32))
        out[i] = np.concatenate(parts)
    return out, unsafe  # type: ignore[return-value]
