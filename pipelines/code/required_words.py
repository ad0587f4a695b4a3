"""Words a regex cannot match without: a substring test (`in`, at memchr speed) before a regex scan.

A dependency family has up to ~30 patterns, most for languages a file is not in, and `finditer`
walks the whole text once per pattern even where nothing matches (an XSLT file of 20 KB took 2 ms
to find nothing). `required_words(pattern)` reads the pattern's parse tree and gives alternatives
one of which every match contains, so a text holding none of them is not scanned at all.
"""

from __future__ import annotations

import re

try:  # Python 3.11+ moved the parser; 3.10 has it as sre_parse
    from re import _constants as _c
    from re import _parser as _parse
except ImportError:  # pragma: no cover
    import sre_constants as _c
    import sre_parse as _parse

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, *([_c.POSSESSIVE_REPEAT] if hasattr(_c, "POSSESSIVE_REPEAT") else [])}
MIN_WORD = 3  # a shorter literal is in almost every text: not worth the test


def required_words(pattern: re.Pattern) -> tuple[str, ...] | None:
    """Literal strings one of which is in every match of `pattern`, or None where none can be
    said (a case-insensitive or bytes pattern, or one without a literal of MIN_WORD characters)."""
    if not isinstance(pattern.pattern, str) or pattern.flags & re.IGNORECASE:
        return None
    needs = _needs(_parse.parse(pattern.pattern, pattern.flags))
    needs = [words for words in needs if min(map(len, words)) >= MIN_WORD]
    # The fewest alternatives first, then the longest shortest one: the most selective test.
    return min(needs, key=lambda words: (len(words), -min(map(len, words)))) if needs else None


def _needs(items) -> list[tuple[str, ...]]:
    """Requirements of a sequence of parsed items, each a tuple of alternatives, all of which hold."""
    needs: list[tuple[str, ...]] = []
    run: list[str] = []

    def flush():
        if run:
            needs.append(("".join(run),))
            run.clear()

    for op, av in items:
        if op == _c.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op == _c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if not add_flags & re.IGNORECASE:
                needs += _needs(sub)
        elif op in _REPEATS:
            low, _high, sub = av
            if low >= 1:
                needs += _needs(sub)
        elif op == _c.BRANCH:
            words: list[str] = []
            for branch in av[1]:
                picked = [w for w in _needs(branch) if len(w) == 1]
                if not picked:  # a branch that needs no literal: the alternation says nothing
                    break
                words.append(max(picked, key=lambda w: len(w[0]))[0])
            else:
                needs.append(tuple(dict.fromkeys(words)))
    flush()
    return needs
