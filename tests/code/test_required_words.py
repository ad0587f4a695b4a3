"""required_words: literals one of which every match holds, read off the pattern's parse tree."""

import random
import re

from pipelines.code.dependencies import FAMILIES
from pipelines.code.required_words import required_words


def test_words_of_plain_patterns():
    assert required_words(re.compile(r"^[ \t]*#include[ \t]+<?([\w./-]+)")) == ("#include",)
    assert required_words(re.compile(r"\b(?:source|load)\(([^)]*)\)")) == ("source", "load")
    assert required_words(re.compile(r"(?:require)+x")) == ("require",)


def test_no_words_where_none_is_certain():
    assert required_words(re.compile(r"(?:import)?\w+")) is None  # optional
    assert required_words(re.compile(r"import", re.I)) is None  # any case
    assert required_words(re.compile(r"(?i:import)x")) is None
    assert required_words(re.compile(r"(?:import|\w+)")) is None  # a branch without a literal
    assert required_words(re.compile(r"ab\w")) is None  # too short to be worth a test


def test_every_match_of_every_family_pattern_holds_one_of_its_words():
    """The files of the real repositories (many languages) and random mixes of each pattern's
    words, their halves and the characters around them: no match lacks one of the words."""
    from benchmarks import real_repos

    directory = real_repos.locate()
    texts = [f.text for repo in real_repos.manifest()["repos"] for f in real_repos.load_files(directory, repo)[0]]
    rng = random.Random(0)
    for family in FAMILIES:
        for words in filter(None, family.required):
            pieces = [*words, *(w[: len(w) // 2] for w in words), " ", "\t", "\n", '"', "'", "(", ")", "<", ">",
                      "./a", "a.h", "{", "}", "=", "/", ".", "x", "_", "-", "\\", "#", "@", "`", ":"]
            texts += ["".join(rng.choices(pieces, k=rng.randint(1, 12))) for _ in range(100)]
    tested = matched = 0
    for family in FAMILIES:
        for pattern, words in zip(family.patterns, family.required):
            if words is None:
                continue
            tested += 1
            for text in texts:
                for m in pattern.finditer(text):
                    matched += 1
                    assert any(w in m.group(0) for w in words), (family.name, pattern.pattern, m.group(0))
    assert tested > 40 and matched > 1000, (tested, matched)
