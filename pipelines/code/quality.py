"""Heuristic quality signals of a repository document, stored per row in `quality` (name -> float).

Signals, not decisions: the rule filters already dropped bad files; these numbers let a user (or a
quality model, see `classifiers/code_quality.py`) rank or threshold repositories later with DuckDB:

    SELECT repo, quality['duplicate_line_fraction'] FROM repos ORDER BY 2 DESC
"""

from __future__ import annotations

import re

_LETTERS = re.compile(r"[^\W\d_]+")
# A line that starts (after indentation) with one of these is counted as a comment.
COMMENT_MARKERS = ("#", "//", "--", ";", "%", "/*", "*", "<!--", "(*", "!", "'", '"""', "'''")
# A stripped line that starts with a marker, in the stripped lines joined by newlines after one:
# one regex pass, where str.startswith tries the markers one by one on every line.
_COMMENT_LINE = re.compile("\n(?:" + "|".join(map(re.escape, sorted(COMMENT_MARKERS, key=len, reverse=True))) + ")")
_TEST_PATH = re.compile(r"(^|/)(tests?|spec|__tests__)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$")


_ASCII_NON_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


_NON_LETTER_BYTES = _ASCII_NON_LETTERS + bytes(range(128, 256))
_ASCII_BYTES = bytes(range(128))


def letter_count(text: str) -> int:
    """How many alphabetic characters `text` has (what str.isalpha counts, at C speed)."""
    if text.isascii():  # most code: delete the non-letters bytewise and count what is left
        return len(text.encode("ascii").translate(None, _ASCII_NON_LETTERS))
    # The ASCII letters bytewise; UTF-8 puts every other character in bytes >= 128 only, so with
    # the ASCII bytes deleted what is left decodes to the other characters, which the regex counts.
    data = text.encode("utf-8", "surrogatepass")
    other = data.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
    return len(data.translate(None, _NON_LETTER_BYTES)) + len(other) - len(_LETTERS.sub("", other))


def quality_signals(records: list[dict], graph: dict[str, set[str]]) -> dict[str, float]:
    """records: the repository's files in document order (path, language, text)."""
    # File by file, with map/filter over C methods: a repository has millions of lines, and a Python
    # step per line, or lists of all of them at once, are what this costs.
    n_lines = total_length = max_length = n_nonblank = comments = letters = chars = 0
    distinct: set[str] = set()
    for r in records:
        text = r["text"]
        chars += len(text)
        letters += letter_count(text)
        lines = text.splitlines()
        if not lines:
            continue
        lengths = list(map(len, lines))
        n_lines += len(lines)
        total_length += sum(lengths)
        max_length = max(max_length, max(lengths))
        # Blank lines kept ("" counted, never a comment, and taken out of `distinct` at the end):
        # filtering them out is one more pass and one more list.
        stripped = list(map(str.strip, lines))
        n_nonblank += len(stripped) - stripped.count("")
        comments += len(_COMMENT_LINE.findall("\n" + "\n".join(stripped)))
        distinct |= set(stripped)  # the file's own repeats gone first: fewer inserts into the big set
    distinct.discard("")
    chars = chars or 1
    repeats = n_nonblank - len(distinct)  # lines that repeat an earlier line of the repository
    n_files = len(records)
    linked = {p for p, deps in graph.items() if deps} | {d for deps in graph.values() for d in deps}
    return {
        "n_files": float(n_files),
        "n_languages": float(len({r["language"] for r in records})),
        "n_lines": float(n_lines),
        "mean_file_chars": chars / max(n_files, 1),
        "mean_line_length": total_length / max(n_lines, 1),
        "max_line_length": float(max_length),
        "alpha_fraction": letters / chars,
        "comment_line_fraction": comments / max(n_nonblank, 1),
        "duplicate_line_fraction": repeats / max(n_nonblank, 1),
        "test_file_fraction": sum(1 for r in records if _TEST_PATH.search(r["path"])) / max(n_files, 1),
        "dependency_edges": float(sum(len(d) for d in graph.values())),
        "dependency_coverage": len(linked) / max(n_files, 1),
    }
