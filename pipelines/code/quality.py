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
_TEST_PATH = re.compile(r"(^|/)(tests?|spec|__tests__)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$")


_ASCII_NON_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())


def letter_count(text: str) -> int:
    """How many alphabetic characters `text` has (what str.isalpha counts, at C speed)."""
    if text.isascii():  # most code: delete the non-letters bytewise and count what is left
        return len(text.encode("ascii").translate(None, _ASCII_NON_LETTERS))
    return len(text) - len(_LETTERS.sub("", text))


def quality_signals(records: list[dict], graph: dict[str, set[str]]) -> dict[str, float]:
    """records: the repository's files in document order (path, language, text)."""
    lines = [line for r in records for line in r["text"].splitlines()]
    nonblank = [line for line in (raw.strip() for raw in lines) if line]
    lengths = list(map(len, lines))
    chars = sum(len(r["text"]) for r in records) or 1
    repeats = len(nonblank) - len(set(nonblank))  # lines that repeat an earlier line of the repository
    comments = sum(1 for line in nonblank if line.startswith(COMMENT_MARKERS))
    n_files = len(records)
    linked = {p for p, deps in graph.items() if deps} | {d for deps in graph.values() for d in deps}
    return {
        "n_files": float(n_files),
        "n_languages": float(len({r["language"] for r in records})),
        "n_lines": float(len(lines)),
        "mean_file_chars": chars / max(n_files, 1),
        "mean_line_length": sum(lengths) / max(len(lines), 1),
        "max_line_length": float(max(lengths, default=0)),
        "alpha_fraction": sum(letter_count(r["text"]) for r in records) / chars,
        "comment_line_fraction": comments / max(len(nonblank), 1),
        "duplicate_line_fraction": repeats / max(len(nonblank), 1),
        "test_file_fraction": sum(1 for r in records if _TEST_PATH.search(r["path"])) / max(n_files, 1),
        "dependency_edges": float(sum(len(d) for d in graph.values())),
        "dependency_coverage": len(linked) / max(n_files, 1),
    }
