"""Heuristic quality signals of a repository document, stored per row in `quality` (name -> float).

Signals, not decisions: the rule filters already dropped bad files; these numbers let a user (or a
quality model, see `classifiers/code_quality.py`) rank or threshold repositories later with DuckDB:

    SELECT repo, quality['duplicate_line_fraction'] FROM repos ORDER BY 2 DESC

The line signals (lines, their lengths, blank, comment and repeated lines), the letters and the
token count of every file come from one compiled pass over the files' UTF-8 (`file_stats`): a
repository has millions of lines, and Python's per-line strings, strips and sets of them were most
of what assembling its document cost. The pass classes each character as Python's own methods do
(see `_flags`), so the numbers are those of `str.splitlines`, `str.strip` and the regexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numba
import numpy as np

from deepcorpus.core.text import _TOKEN

_LETTERS = re.compile(r"[^\W\d_]+")
# A line that starts (after indentation) with one of these is counted as a comment.
COMMENT_MARKERS = ("#", "//", "--", ";", "%", "/*", "*", "<!--", "(*", "!", "'", '"""', "'''")
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


# --- the compiled pass ---------------------------------------------------------------------------

# What a character is, as bits: each asked of Python itself, character by character, so the pass
# agrees with the code it replaces on every character (Unicode ones too).
_BREAK = 1  # str.splitlines ends a line at it (\n, \r, \x0b, \x0c, \x1c-\x1e, \x85, \u2028, \u2029)
_STRIP = 2  # str.strip removes it (str.isspace)
_LETTER = 4  # _LETTERS matches it (str.isalpha for ASCII)
_WORD = 8  # \w in _TOKEN (a token is a run of these, or one character neither \w nor \s)
_SPACE = 16  # \s in _TOKEN
_WORD_RE, _SPACE_RE = re.compile(r"\w"), re.compile(r"\s")


def _flags(ch: str) -> int:
    bits = ((_BREAK if len(f"a{ch}b".splitlines()) == 2 else 0) | (_STRIP if not ch.strip() else 0)
            | (_LETTER if _LETTERS.fullmatch(ch) else 0) | (_WORD if _WORD_RE.match(ch) else 0)
            | (_SPACE if _SPACE_RE.match(ch) else 0))
    # The pass takes a line break for whitespace to the tokens and no letter without asking.
    if bits & _BREAK and bits & (_LETTER | _WORD | _SPACE) != _SPACE:
        raise AssertionError(f"line break {ch!r} is not whitespace")
    return bits


assert _TOKEN.pattern == r"\w+|[^\w\s]"  # what _WORD and _SPACE stand for
_ASCII_FLAGS = np.array([_flags(chr(c)) for c in range(128)], np.uint8)
_OTHER_FLAGS: dict[str, int] = {}  # of the non-ASCII characters met so far: at most 1.1M entries

# The markers as a table the pass reads: each marker's bytes (padded), its length, and which bytes
# begin one (most stripped lines begin with none, and are not compared at all).
_MARKERS = np.zeros((len(COMMENT_MARKERS), max(map(len, COMMENT_MARKERS))), np.uint8)
for _k, _marker in enumerate(COMMENT_MARKERS):
    _MARKERS[_k, :len(_marker)] = np.frombuffer(_marker.encode("ascii"), np.uint8)
_MARKER_LENGTHS = np.array([len(m) for m in COMMENT_MARKERS], np.int64)
_MARKER_FIRST = np.zeros(256, np.uint8)
_MARKER_FIRST[[ord(m[0]) for m in COMMENT_MARKERS]] = 1

_HASH_SEED = np.uint64(0xCBF29CE484222325)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)
# Columns of file_stats' per-file table.
LINES, LINE_CHARS, LONGEST_LINE, NONBLANK, COMMENT_LINES, LETTERS, TOKENS, CHARS = range(8)


@numba.njit(cache=True, nogil=True)
def _char_at(data, j, ascii_flags, others, other_flags):  # pragma: no cover (compiled)
    """(bits, bytes) of the character whose UTF-8 starts at data[j] (well formed: it came from Python)."""
    c = np.int64(data[j])
    if c < 128:
        return ascii_flags[c], 1
    if c >= 0xF0:
        cp, size = c & 0x07, 4
    elif c >= 0xE0:
        cp, size = c & 0x0F, 3
    else:
        cp, size = c & 0x1F, 2
    for k in range(1, size):
        cp = (cp << 6) | (np.int64(data[j + k]) & 0x3F)
    return other_flags[np.searchsorted(others, cp)], size


@numba.njit(cache=True, nogil=True, inline="always")
def _keep_line(data, first, last, markers, marker_lengths, marker_first, hash_mask, line_hash, line_start,
               line_length, n_kept):  # pragma: no cover (compiled)
    """Put the non-blank stripped line data[first:last] in the tables at n_kept; 1 if it is a
    comment line (it starts with one of the markers), else 0."""
    line_hash[n_kept] = _line_hash(data, first, last) & hash_mask
    line_start[n_kept] = first
    line_length[n_kept] = last - first
    return _is_comment(data, first, last, markers, marker_lengths, marker_first)


@numba.njit(cache=True, nogil=True, inline="always")
def _is_comment(data, first, last, markers, marker_lengths, marker_first):  # pragma: no cover (compiled)
    """Whether the stripped line data[first:last] starts with one of the comment markers."""
    n = last - first
    if marker_first[data[first]]:
        for m in range(markers.shape[0]):
            if n >= marker_lengths[m]:
                same = True
                for k in range(marker_lengths[m]):
                    if data[first + k] != markers[m, k]:
                        same = False
                        break
                if same:
                    return 1
    return 0


@numba.njit(cache=True, nogil=True, inline="always")
def _line_hash(data, first, last):  # pragma: no cover (compiled)
    """The stripped line's hash: eight bytes a multiply (little-endian words), then the rest one by one."""
    h = _HASH_SEED ^ np.uint64(last - first)
    k = first
    while k + 8 <= last:
        w = (np.uint64(data[k]) | np.uint64(data[k + 1]) << np.uint64(8)
             | np.uint64(data[k + 2]) << np.uint64(16) | np.uint64(data[k + 3]) << np.uint64(24)
             | np.uint64(data[k + 4]) << np.uint64(32) | np.uint64(data[k + 5]) << np.uint64(40)
             | np.uint64(data[k + 6]) << np.uint64(48) | np.uint64(data[k + 7]) << np.uint64(56))
        h = (h ^ w) * _MIX
        h ^= h >> np.uint64(29)
        k += 8
    while k < last:
        h = (h ^ np.uint64(data[k])) * _MIX
        k += 1
    h ^= h >> np.uint64(32)
    h *= _MIX2
    h ^= h >> np.uint64(29)
    return h


@numba.njit(cache=True, nogil=True)
def _ascii_lines(data, begin, end, ascii_flags, markers, marker_lengths, marker_first, hash_mask,
                 line_hash, line_start, line_length, n_kept):  # pragma: no cover (compiled)
    """The line loop of `_stats_pass` for an ASCII file, a byte a character (nothing to decode):
    (lines, line characters, longest, non-blank, comment lines, n_kept after)."""
    lines = line_chars = longest = nonblank = comments = 0
    j = begin
    while j < end:
        start = j
        while j < end and not ascii_flags[data[j]] & 1:
            j += 1
        stop = j
        if j < end:  # the break; \r\n is one
            j += 2 if data[j] == 13 and j + 1 < end and data[j + 1] == 10 else 1
        length = stop - start
        lines += 1
        line_chars += length
        longest = max(longest, length)
        first = start
        while first < stop and ascii_flags[data[first]] & 2:
            first += 1
        if first == stop:
            continue
        last = stop
        while ascii_flags[data[last - 1]] & 2:
            last -= 1
        nonblank += 1
        comments += _keep_line(data, first, last, markers, marker_lengths, marker_first, hash_mask,
                                line_hash, line_start, line_length, n_kept)
        n_kept += 1
    return lines, line_chars, longest, nonblank, comments, n_kept


@numba.njit(cache=True, nogil=True)
def _stats_pass(data, bounds, ascii_files, ascii_flags, others, other_flags, markers, marker_lengths,
                marker_first, hash_mask):  # pragma: no cover (compiled)
    """(per-file counts (see the columns above), distinct non-blank stripped lines of all files).

    data: the files' UTF-8 (surrogates passed) one after another, file i at bounds[i]:bounds[i+1]
    (ascii_files[i]: whether it is all ASCII);
    others: the sorted code points above 127 that occur, other_flags their bits. The stripped
    lines' hashes (`hash_mask` keeps their bits: all of them, but for the test that makes
    collisions common), starts and lengths, 24 bytes a line, go to `_distinct`."""
    n_files = bounds.shape[0] - 1
    stats = np.zeros((n_files, 8), np.int64)
    # Letters, tokens and characters, character by character; and the line breaks, to size the table.
    breaks = 0
    for i in range(n_files):
        letters = tokens = chars = 0
        in_word = 0
        j, end = bounds[i], bounds[i + 1]
        if ascii_files[i]:  # a byte a character: a loop without branches
            for k in range(j, end):
                f = np.int64(ascii_flags[data[k]])
                word = (f >> 3) & 1
                letters += (f >> 2) & 1
                tokens += (word & (in_word ^ 1)) + (((word | (f >> 4)) & 1) ^ 1)
                breaks += f & 1
                in_word = word
            stats[i, 5], stats[i, 6], stats[i, 7] = letters, tokens, end - j
            continue
        while j < end:
            if data[j] < 128:  # most characters: the call below is not inlined
                f, size = ascii_flags[data[j]], 1
            else:
                f, size = _char_at(data, j, ascii_flags, others, other_flags)
            word = (f >> 3) & 1
            letters += (f >> 2) & 1
            tokens += (word & (in_word ^ 1)) + ((word | ((f >> 4) & 1)) ^ 1)
            breaks += f & 1
            in_word = word
            chars += 1
            j += size
        stats[i, 5], stats[i, 6], stats[i, 7] = letters, tokens, chars
    # Every non-blank line's hash, start and length, in order (the table is filled after).
    line_hash = np.empty(breaks + n_files, np.uint64)
    line_start = np.empty(breaks + n_files, np.int64)
    line_length = np.empty(breaks + n_files, np.int64)
    n_kept = 0
    for i in range(n_files):
        begin, end = bounds[i], bounds[i + 1]
        row = stats[i]
        if ascii_files[i]:  # a byte a character: the loop below without its decoding
            row[0], row[1], row[2], row[3], row[4], n_kept = _ascii_lines(
                data, begin, end, ascii_flags, markers, marker_lengths, marker_first, hash_mask,
                line_hash, line_start, line_length, n_kept)
            continue
        lines = line_chars = longest = nonblank = comments = 0
        j = begin
        while j < end:  # one line a turn, and the break that ends it
            start = j
            while j < end:
                if data[j] < 128:
                    if ascii_flags[data[j]] & 1:
                        break
                    j += 1
                else:
                    f, size = _char_at(data, j, ascii_flags, others, other_flags)
                    if f & 1:
                        break
                    j += size
            stop = j
            if j < end:  # the break; \r\n is one
                if data[j] == 13 and j + 1 < end and data[j + 1] == 10:
                    j += 2
                else:
                    j += 1 if data[j] < 128 else size
            length = stop - start
            for k in range(start, stop):
                length -= (data[k] & 0xC0) == 0x80
            lines += 1
            line_chars += length
            longest = max(longest, length)
            first = start  # the stripped line: data[first:last]
            while first < stop:
                if data[first] < 128:
                    f, size = ascii_flags[data[first]], 1
                else:
                    f, size = _char_at(data, first, ascii_flags, others, other_flags)
                if not f & 2:
                    break
                first += size
            if first == stop:
                continue
            last = stop
            while True:  # back over whitespace; a character's first byte is not a continuation byte
                lead = last - 1
                if data[lead] < 128:
                    if not ascii_flags[data[lead]] & 2:
                        break
                    last = lead
                    continue
                while (data[lead] & 0xC0) == 0x80:
                    lead -= 1
                if not _char_at(data, lead, ascii_flags, others, other_flags)[0] & 2:
                    break
                last = lead
            nonblank += 1
            comments += _keep_line(data, first, last, markers, marker_lengths, marker_first, hash_mask,
                                    line_hash, line_start, line_length, n_kept)
            n_kept += 1
        row[0], row[1], row[2], row[3], row[4] = lines, line_chars, longest, nonblank, comments
    return stats, _distinct(data, line_hash[:n_kept], line_start, line_length)


@numba.njit(cache=True, nogil=True)
def _distinct(data, line_hash, line_start, line_length):  # pragma: no cover (compiled)
    """How many of the lines (hash, start, length in data) differ, exactly: a line's hash finds
    its slot in an open addressing table, and a line whose hash is there is compared byte by byte
    with the one that put it there, so a collision costs a comparison and never merges two lines.
    The table has 1.5 slots per line, 8 bytes each."""
    n_lines = line_hash.shape[0]
    if n_lines >= 1 << 31:  # a slot keeps a line's number in 32 bits, and 32 bits x the size fit in 64
        raise ValueError("more than 2**31 - 1 lines in one document")
    # At most 2/3 full when every line differs, and some 40% in the repositories code_bench reads
    # (where 58% of the lines are distinct): a table larger than the cache is read at random, so
    # its size is what a probe costs. The hash's lower half picks the slot (by multiply and shift,
    # for a size of any kind), its upper half is kept in it.
    capacity = max(16, n_lines + n_lines // 2)
    size = np.uint64(capacity)
    # A slot: the hash's upper half, and which line put it there (+ 1; 0 is an empty slot).
    table = np.zeros(capacity, np.uint64)
    upper = np.uint64(0xFFFFFFFF00000000)
    distinct = 0
    for m in range(n_lines):
        h = line_hash[m]
        n = line_length[m]
        first = line_start[m]
        tag = h & upper
        slot = ((h & ~upper) * size) >> np.uint64(32)
        while True:
            known = table[slot]
            if known == 0:
                table[slot] = tag | np.uint64(m + 1)
                distinct += 1
                break
            if known & upper == tag:
                other = np.int64(known & ~upper) - 1
                if line_length[other] == n:
                    at = line_start[other]
                    same = True
                    for k in range(n):
                        if data[at + k] != data[first + k]:
                            same = False
                            break
                    if same:
                        break
            slot += np.uint64(1)
            if slot == size:
                slot = np.uint64(0)
    return distinct


@dataclass(frozen=True)
class FileStats:
    """The counts of one pass over files: `per_file[i, column]` (columns LINES ... CHARS), how
    many distinct non-blank stripped lines all of them have together, and each file's UTF-8
    (surrogates passed), which the pass read: what a document's bytes are made of."""

    per_file: np.ndarray
    distinct_lines: int
    utf8: list[bytes]


_ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)


def file_stats(texts: list[str], _hash_mask: np.uint64 = _ALL_BITS) -> FileStats:
    """Line, letter and token counts of each text, and the distinct lines of them all: what
    `str.splitlines`, `str.strip`, the comment markers, `_LETTERS` and `_TOKEN` give."""
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    bounds = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=bounds[1:])
    data = b"".join(encoded)
    # The characters above ASCII that occur (UTF-8 keeps them in bytes >= 128 only), and their bits.
    other = b"".join(e for e, t in zip(encoded, texts) if not t.isascii())
    chars = sorted(set(other.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))) if other else []
    for ch in chars:
        if ch not in _OTHER_FLAGS:
            _OTHER_FLAGS[ch] = _flags(ch)
    others = np.array([ord(ch) for ch in chars] or [0x110000], np.int64)
    other_flags = np.array([_OTHER_FLAGS[ch] for ch in chars] or [0], np.uint8)
    ascii_files = np.fromiter(map(str.isascii, texts), np.bool_, len(texts))  # a flag of each str: no scan
    per_file, distinct = _stats_pass(np.frombuffer(data, np.uint8), bounds, ascii_files, _ASCII_FLAGS, others, other_flags,
                                     _MARKERS, _MARKER_LENGTHS, _MARKER_FIRST, np.uint64(_hash_mask))
    return FileStats(per_file, int(distinct), encoded)


def quality_signals(records: list[dict], graph: dict[str, set[str]], stats: FileStats | None = None) -> dict[str, float]:
    """records: the repository's files in document order (path, language, text); `stats`: their
    file_stats, when the caller has them (it counts tokens from them too)."""
    if stats is None:
        stats = file_stats([r["text"] for r in records])
    totals = stats.per_file.sum(axis=0)
    n_lines, n_nonblank = int(totals[LINES]), int(totals[NONBLANK])
    chars = int(totals[CHARS]) or 1
    repeats = n_nonblank - stats.distinct_lines  # lines that repeat an earlier line of the repository
    n_files = len(records)
    linked = {p for p, deps in graph.items() if deps} | {d for deps in graph.values() for d in deps}
    return {
        "n_files": float(n_files),
        "n_languages": float(len({r["language"] for r in records})),
        "n_lines": float(n_lines),
        "mean_file_chars": chars / max(n_files, 1),
        "mean_line_length": int(totals[LINE_CHARS]) / max(n_lines, 1),
        "max_line_length": float(stats.per_file[:, LONGEST_LINE].max(initial=0)),
        "alpha_fraction": int(totals[LETTERS]) / chars,
        "comment_line_fraction": int(totals[COMMENT_LINES]) / max(n_nonblank, 1),
        "duplicate_line_fraction": repeats / max(n_nonblank, 1),
        "test_file_fraction": sum(1 for r in records if _TEST_PATH.search(r["path"])) / max(n_files, 1),
        "dependency_edges": float(sum(len(d) for d in graph.values())),
        "dependency_coverage": len(linked) / max(n_files, 1),
    }
