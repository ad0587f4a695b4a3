"""MinHash signatures: estimates track true Jaccard, batches equal single calls, bands behave."""

import random

import numpy as np
import pytest

from dedup import shingles
from dedup.beam import CODE_MINHASH, WEB_MINHASH
from dedup.minhash import MAX_HASH, MinHashConfig, MinHasher, estimated_jaccard
from dedup.shingles import char_hashes, ngram_hashes, word_hashes, word_hashes_batch


def random_words(rng, n):
    return [f"w{rng.randrange(50000)}" for _ in range(n)]


def test_word_hashes_are_position_independent_and_case_sensitive():
    a = word_hashes("the cat sat")
    b = word_hashes("on the mat, the cat sat")
    assert list(a) == list(b[3:])
    assert word_hashes("Cat")[0] != word_hashes("cat")[0]
    assert len(word_hashes("café π² x_y, 3.14")) == 5  # café | π² | x_y | 3 | 14
    assert list(word_hashes("a-b c", split_pattern=r"\s+")) != list(word_hashes("a b c"))


def test_hashing_in_windows_gives_the_hashes_of_hashing_whole(monkeypatch):
    # Long texts are hashed a window at a time (the temporaries and the powers cache stay bounded):
    # the same hashes, including words that cross where a window would end and words longer than one.
    rng = random.Random(3)
    words = ["alpha", "beta", "γάμμα", "x1", "café", "z" * 700, "q" * 5000]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 3000))) for _ in range(12)] + [""]
    whole, counts = word_hashes_batch(texts)
    monkeypatch.setattr(shingles, "WINDOW_BYTES", 4096)
    monkeypatch.setattr(shingles, "_powers_cache", (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64)))
    windowed, windowed_counts = word_hashes_batch(texts)
    assert np.array_equal(whole, windowed) and np.array_equal(counts, windowed_counts)
    assert list(word_hashes(texts[0])) == list(whole[:counts[0]])
    assert len(shingles._powers_cache[0]) <= 4096 + 1  # the 5,000-byte word's powers were not kept


def test_ngram_hashes_match_across_texts_and_short_texts_get_one_shingle():
    a = ngram_hashes(word_hashes("x a b c d"), 3)
    b = ngram_hashes(word_hashes("a b c d y"), 3)
    assert set(a) & set(b) == set(a[1:3])
    assert len(ngram_hashes(word_hashes("a b"), 5)) == 1
    assert len(ngram_hashes(word_hashes("a b"), 5, short="none")) == 0
    assert len(char_hashes("ab   c")) == 4  # whitespace runs count as one space


def test_estimated_jaccard_tracks_true_jaccard():
    rng = random.Random(0)
    hasher = MinHasher(MinHashConfig(num_perm=256, bands=32, rows=8))
    base = random_words(rng, 400)
    for keep in (1.0, 0.9, 0.7, 0.5, 0.2):
        other = base[: int(400 * keep)] + random_words(rng, 400 - int(400 * keep))
        a, b = " ".join(base), " ".join(other)
        true = hasher.jaccard(a, b)
        est = estimated_jaccard(hasher.signature(a), hasher.signature(b))
        assert abs(true - est) < 0.08, (keep, true, est)


def test_batched_signatures_equal_one_at_a_time_and_empty_texts_have_no_bands():
    rng = random.Random(1)
    hasher = MinHasher(WEB_MINHASH)
    texts = [" ".join(random_words(rng, rng.randrange(0, 300))) for _ in range(50)] + ["", "one"]
    batch = hasher.signatures(texts)
    assert batch.dtype == np.uint64 and batch.shape == (52, WEB_MINHASH.num_perm)
    for text, sig in zip(texts, batch):
        assert (sig == hasher.signature(text)).all()
    assert (hasher.signature("") == MAX_HASH).all()
    assert hasher.band_keys(hasher.signature("")) == []
    assert len(hasher.band_keys(hasher.signature("one"))) == WEB_MINHASH.bands


def test_identical_texts_share_every_band_and_unrelated_texts_share_none():
    rng = random.Random(2)
    hasher = MinHasher(CODE_MINHASH)
    text = " ".join(random_words(rng, 300))
    assert hasher.band_keys(hasher.signature(text)) == hasher.band_keys(hasher.signature(text.upper()))
    other = " ".join(random_words(rng, 300))
    assert not set(hasher.band_keys(hasher.signature(text))) & set(hasher.band_keys(hasher.signature(other)))


def test_web_preset_s_curve_separates_0_9_from_0_6():
    assert WEB_MINHASH.candidate_probability(0.9) > 0.99
    assert WEB_MINHASH.candidate_probability(0.6) < 0.05


def test_char_mode_and_config_checks():
    hasher = MinHasher(MinHashConfig(mode="char", ngram=4, num_perm=64, bands=16, rows=4))
    assert hasher.jaccard("abcdefgh", "abcdefgh") == 1.0
    assert 0 < hasher.jaccard("abcdefgh", "abcdefxy") < 1
    with pytest.raises(ValueError, match="bands x rows"):
        MinHashConfig(num_perm=10, bands=5, rows=5)
    with pytest.raises(ValueError, match="mode"):
        MinHashConfig(mode="line")
