"""One normalization for fastText at training and at scoring time."""

from classifiers.normalize import normalize_for_fasttext


def test_latex_commands_and_symbols_are_tokens():
    assert normalize_for_fasttext(r"Let $\frac{a}{b}=2$.") == r"let $ \frac { a } { b } = 0 $ ."


def test_chinese_is_split_into_characters_and_lowercase_is_applied():
    assert normalize_for_fasttext("已知 F(x)") == "已 知 f ( x )"


def test_one_line_and_capped():
    out = normalize_for_fasttext("a\nb\n\nc " * 10, max_tokens=5)
    assert "\n" not in out and out.split() == ["a", "b", "c", "a", "b"]
