"""Text normalization for fastText, shared by training and scoring so both see the same tokens.

fastText splits on whitespace only, so the text is tokenized here: LaTeX commands (`\\frac`) and
punctuation become tokens of their own (math notation is the strongest signal there is), each CJK
character is a token (Chinese has no spaces), digits collapse to `0` (numbers vary, their presence
matters), and everything is lowercased onto one line, as fastText's input format requires.
"""

from __future__ import annotations

import re

MAX_TOKENS = 4096  # the start of a page says what it is; long pages should not dominate time

_TOKEN = re.compile(
    r"[\s_]*+("  # what no token holds, taken with the token that follows: ~10% faster than a search per gap
    r"\\[A-Za-z]+"  # LaTeX commands
    r"|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # one CJK character per token
    r"|[^\W\d_]+"  # words (any script)
    r"|\d+"
    r"|[^\w\s])",  # punctuation and math symbols, one per token
    re.UNICODE,
)
_DIGITS = re.compile(r"\d+")  # digit runs are whole tokens after tokenization
# Real pages' text runs ~4.5 characters a token: a prefix this long holds `max_tokens` on nearly every
# page that has them (up to 16 characters a token are read when it does not).
_PREFIX_CHARS_PER_TOKEN = 6


def normalize_for_fasttext(text: str, max_tokens: int = MAX_TOKENS) -> str:
    # Lowercase and cut first, then one findall and one sub: the work stays in the regex engine.
    low = text[: max_tokens * 16].lower()
    tokens = None
    if len(low) > max_tokens * _PREFIX_CHARS_PER_TOKEN:
        # A long page: tokenize a prefix first. Every token but the prefix's last is followed by the
        # next one there, so it ended where the whole text's did: with more than `max_tokens` found,
        # the first `max_tokens` are exactly the whole text's. Else tokenize the whole, as before.
        tokens = _TOKEN.findall(low, 0, max_tokens * _PREFIX_CHARS_PER_TOKEN)
        if len(tokens) <= max_tokens:
            tokens = None
    if tokens is None:
        tokens = _TOKEN.findall(low)
    if len(tokens) > max_tokens:
        tokens = tokens[:max_tokens]
    return _DIGITS.sub("0", " ".join(tokens))
