"""approx_token_count is the regex's count (`len(_TOKEN.findall(text))`) on any text."""

import random
import re

import pytest

from deepcorpus.core import text as T

# Characters whose classes differ between the regex and a naive reading: digits and letters of
# other scripts, combining marks, spaces that are not ASCII, an underscore, surrogates, astral ones.
ODD = ["é", "中", "٣", "\u0301", "\u00a0", "\u2028", "\u3000", "\x85", "\x1c", "_", "ß", "\u212a", "\ud800",
       "\udfff", "\U0001f600", "\U00010400", "\u200b", "\ufeff", "·", "ǅ", "Ⅻ", "²", "-", " ", "\n", "a", "1"]


def _texts(seed: int, n: int = 300):
    rng = random.Random(seed)
    for _ in range(n):
        yield "".join(rng.choices(ODD, k=rng.choice([1, 2, 5, 40, 700])))


def test_every_code_point_is_classed_as_the_regex_classes_it():
    table = T._classes()
    for c in [*range(0, 0x3100), *range(0xD7F0, 0xE010), *range(0xFF00, 0x10500), *range(0x1F600, 0x1F650), 0x10FFFF]:
        ch = chr(c)
        assert table[c] == (1 if re.fullmatch(r"\w", ch) else 2 if re.fullmatch(r"\s", ch) else 0), hex(c)


def test_token_count_is_the_regex_count():
    for text in [*_texts(0), "", "_", "é", "\ud800", "a\u0301b c"]:
        assert T.approx_token_count(text) == len(T._TOKEN.findall(text)), ascii(text)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_a_word_cut_by_a_chunk_is_one_token(monkeypatch, chunk):
    monkeypatch.setattr(T, "_CHUNK", chunk)
    for text in _texts(chunk):
        assert T.approx_token_count(text) == len(T._TOKEN.findall(text)), ascii(text)
