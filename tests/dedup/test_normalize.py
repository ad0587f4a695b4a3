"""Exact-dedup normalization: each switch folds one kind of difference."""

from dedup.normalize import NormalizeConfig, normalize_text, normalized_hash


def test_default_folds_case_whitespace_and_unicode_compatibility_forms():
    assert normalize_text("  Hello\n\tWORLD  ") == "hello world"
    assert normalize_text("ｆｕｌｌ　ｗｉｄｔｈ １２") == "full width 12"
    assert normalized_hash("Hello  world") == normalized_hash("hello world")
    assert normalized_hash("hello world!") != normalized_hash("hello world")


def test_punctuation_and_digits_are_opt_in():
    cfg = NormalizeConfig(punctuation=True, digits=True)
    assert normalize_text("Chapter 12: the end.Start", cfg) == "chapter 00 the end start"
    assert normalized_hash("Page 1 of 9", cfg) == normalized_hash("page 3 of 7!", cfg)


def test_everything_can_be_switched_off():
    raw = NormalizeConfig(unicode_form=None, lowercase=False, whitespace=False)
    assert normalize_text(" A  b ", raw) == " A  b "
