"""The tokenizer: DeepSeek-style pre-tokenization, exact round trips, special tokens, hash and refusal."""

import hashlib
import json

import pytest

from deepcorpus.core.errors import UserError
from pipelines.tokenize import tokenizer as T

TEXTS = [
    "def f(x):\n    return 12345 + x  # sum\n\n\tif  y:\n        pass\n",
    "数学は楽しい。The integral ∫ x² dx = x³/3 + C, and 3.14159 ≈ π.",
    "theorem foo (a b : ℕ) : a + b = b + a := by\n  omega\n",
    "emoji 🙂 and\r\nwindows line ends\u00a0and nbsp",
]


@pytest.fixture(scope="module")
def tok():
    return T.train_tokenizer(TEXTS * 20, vocab_size=400, min_frequency=1)


def pieces(text):
    return [p for p, _ in T.build_tokenizer().pre_tokenizer.pre_tokenize_str(text)]


def test_numbers_are_split_into_single_digits():
    assert [p for p in pieces("x = 2024") if p.isdigit()] == ["2", "0", "2", "4"]


def test_cjk_runs_are_their_own_pre_tokens():
    ps = pieces("abc数学def")
    assert ps[0] == "abc" and ps[-1] == "def" and len(ps) == 3  # the CJK run never merges with Latin


def test_indentation_stays_in_whitespace_tokens_and_the_last_space_joins_the_word():
    ps = pieces("if x:\n        return y")
    assert "ĠĠĠĠĠĠĠ" in ps and "Ġreturn" in ps  # 7 spaces of indentation, then " return"


def test_special_tokens_have_fixed_low_ids(tok):
    ids = T.special_ids(tok)
    assert (ids.bos, ids.eos, ids.pad, ids.fim_begin, ids.fim_hole, ids.fim_end) == (0, 1, 2, 3, 4, 5)
    assert T.vocab_size(tok) > 256 + 6


@pytest.mark.parametrize("text", [*TEXTS, "", "a\x00b", "never seen: ꙮ ᚠ 𓀀"])
def test_every_string_round_trips_exactly(tok, tmp_path, text):
    T.save_tokenizer(tok, str(tmp_path / "t.json"))
    loaded = T.load_tokenizer(str(tmp_path / "t.json"))
    ids = loaded.encode(text, add_special_tokens=False).ids
    assert loaded.decode(ids, skip_special_tokens=False) == text


def test_the_text_of_a_special_token_inside_a_document_is_plain_text(tok, tmp_path):
    T.save_tokenizer(tok, str(tmp_path / "t.json"))
    loaded = T.load_tokenizer(str(tmp_path / "t.json"))
    ids = loaded.encode(f"a {T.EOS} b {T.FIM_HOLE}", add_special_tokens=False).ids
    assert not set(ids) & set(vars(T.special_ids(loaded)).values())


def test_saved_with_its_sha256(tok, tmp_path):
    path = tmp_path / "tokenizer.json"
    digest = T.save_tokenizer(tok, str(path))
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest() == T.tokenizer_hash(str(path))
    assert (tmp_path / "tokenizer.json.sha256").read_text() == f"{digest}  tokenizer.json\n"
    assert json.loads(path.read_bytes())["model"]["type"] == "BPE"


def test_shards_of_another_tokenizer_are_refused(tok, tmp_path):
    T.save_tokenizer(tok, str(tmp_path / "a.json"))
    other = T.train_tokenizer(TEXTS[:1] * 5, vocab_size=300, min_frequency=1)
    T.save_tokenizer(other, str(tmp_path / "b.json"))
    manifest = {"tokenizer_hash": T.tokenizer_hash(str(tmp_path / "a.json"))}
    T.check_tokenizer_matches(manifest, str(tmp_path / "a.json"))  # the same one passes
    with pytest.raises(UserError, match="written with tokenizer"):
        T.check_tokenizer_matches(manifest, str(tmp_path / "b.json"), "out/tokens")


def test_a_file_that_is_not_a_tokenizer_is_a_user_error(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text('{"not": "a tokenizer"}')
    with pytest.raises(UserError, match="not a tokenizer.json"):
        T.load_tokenizer(str(bad))
    with pytest.raises(UserError, match="no such file"):
        T.load_tokenizer(str(tmp_path / "missing.json"))


def test_a_tokenizer_without_our_special_tokens_is_refused(tmp_path):
    from tokenizers import Tokenizer, models

    plain = Tokenizer(models.BPE())
    (tmp_path / "t.json").write_text(plain.to_str())
    with pytest.raises(UserError, match="lacks the special tokens"):
        T.load_tokenizer(str(tmp_path / "t.json"))


def test_vocabulary_smaller_than_the_bytes_is_refused():
    with pytest.raises(UserError, match="--vocab-size"):
        T.train_tokenizer(TEXTS, vocab_size=100)


def test_encode_batch_fast_gives_the_ids_of_encode_batch(tok, tmp_path):
    """`tokenize run` and the trainer's bytes-per-token use encode_batch_fast (no offsets): same ids."""
    from pipelines.tokenize import fim

    T.save_tokenizer(tok, str(tmp_path / "t.json"))
    loaded = T.load_tokenizer(str(tmp_path / "t.json"))
    texts = [*TEXTS, "", "a\x00b", "never seen: ꙮ ᚠ 𓀀", f"a {T.EOS} b {T.FIM_HOLE}", "1234567890" * 50]
    # FIM pieces: cut at character positions, inside words and multi-byte characters alike
    for k, text in enumerate(TEXTS):
        split = fim.fim_split(text, f"doc{k}", fim.FimConfig(rate=1.0))
        texts += [split.prefix, split.middle, split.suffix]
    slow = [e.ids for e in loaded.encode_batch(texts, add_special_tokens=False)]
    fast = [e.ids for e in loaded.encode_batch_fast(texts, add_special_tokens=False)]
    assert fast == slow
