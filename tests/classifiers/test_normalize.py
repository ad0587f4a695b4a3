"""One normalization for fastText at training and at scoring time."""

import glob
import random
import re

import pytest

from classifiers.normalize import normalize_for_fasttext


def test_latex_commands_and_symbols_are_tokens():
    assert normalize_for_fasttext(r"Let $\frac{a}{b}=2$.") == r"let $ \frac { a } { b } = 0 $ ."


def test_chinese_is_split_into_characters_and_lowercase_is_applied():
    assert normalize_for_fasttext("已知 F(x)") == "已 知 f ( x )"


def test_one_line_and_capped():
    out = normalize_for_fasttext("a\nb\n\nc " * 10, max_tokens=5)
    assert "\n" not in out and out.split() == ["a", "b", "c", "a", "b"]


# The pattern before the separators were folded into it: the tokens must stay exactly these, or a
# trained model's scores would change.
_BEFORE = re.compile(
    r"\\[A-Za-z]+|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)


def _before(text: str, max_tokens: int = 4096) -> str:
    tokens = _BEFORE.findall(text[: max_tokens * 16].lower())[:max_tokens]
    return re.sub(r"\d+", "0", " ".join(tokens))


def test_tokens_are_those_of_the_pattern_before_on_mixed_scripts():
    alphabet = list("abcXYZ \t\n\r\f\v_\\{}$^+-=()0123456789.,'\"") + [
        "é", "ß", "İ", "\u212a", "²", "٣", "中", "文", "か", "\u0301", "\xa0", "\u2003", "\x1c", "\x00", "“", "—",
        "\ud800", "Ω", "ǅ"]
    rng = random.Random(0)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert normalize_for_fasttext(text) == _before(text), repr(text)
    long = "x_1 " * 5000  # past MAX_TOKENS
    assert normalize_for_fasttext(long) == _before(long)


def test_every_code_point_is_classed_as_the_pattern_classes_it():
    """Each code point alone, and all of them in order (each beside its neighbours), against the
    pattern: the compiled tokenizer's class table covers all of Unicode as `re` reads it."""
    every = [chr(c) for c in range(0x110000)]
    for text in (" ".join(every), "".join(every)):
        for start in range(0, len(text), 1 << 16):  # the function reads at most 16 characters a token
            piece = text[start:start + (1 << 16)]
            assert normalize_for_fasttext(piece, 1 << 16) == _before(piece, 1 << 16), start


def test_a_long_texts_prefix_gives_the_tokens_of_the_whole():
    """Around the max_tokens-th token and the max_tokens * 16 character cut (a word, a LaTeX command
    or a digit run across them; fewer tokens than max_tokens before them) the tokens are still the
    pattern's."""
    alphabet = list("ab \\_{}0123456789.") + ["中", "é", "İ", "\u0301", "\xa0", "   ", "\\frac", "x" * 9]
    rng = random.Random(1)
    for _ in range(5_000):
        max_tokens = rng.randint(1, 12)
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(max_tokens * 4, max_tokens * 20)))
        assert normalize_for_fasttext(text, max_tokens) == _before(text, max_tokens), (max_tokens, repr(text))
    for word in ("x" * 7, "\\alpha", "1234567", "中文"):  # every cut position of a token straddling it
        for shift in range(8):
            text = "a " * 4 + " " * shift + word * 3 + " b" * 40
            assert normalize_for_fasttext(text, 5) == _before(text, 5), repr(text)


def test_tokens_are_those_of_the_pattern_before_on_the_bundled_crawl():
    from deepcorpus import samples
    from pipelines.math.documents import page_to_doc
    from pipelines.math.warc import iter_pages

    texts = [doc["text"] for path in sorted(glob.glob(samples.path("crawl", "*.warc.gz"))) for page in iter_pages(path)
             if (doc := page_to_doc(page)[0]) is not None]
    assert len(texts) > 300
    assert all(normalize_for_fasttext(t) == _before(t) for t in texts)


@pytest.mark.slow
def test_tokens_are_those_of_the_pattern_before_on_the_real_pages():
    from benchmarks import real_pages
    from pipelines.math.extract_math import extract
    from pipelines.math.warc import iter_pages

    found = real_pages.locate()
    assert found is not None, "benchmarks/data/real_pages is committed; this checkout lacks it"
    texts = [extract(p["html"]).text for f in real_pages.warc_files(found) for p in iter_pages(f)]
    assert len(texts) == len(real_pages.manifest())
    assert all(normalize_for_fasttext(t) == _before(t) for t in texts)
