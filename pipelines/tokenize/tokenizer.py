"""The tokenizer: a DeepSeek-style byte-level BPE built, trained, saved, loaded and identified by hash.

Plain Python on the `tokenizers` library (no Beam), so the trainer and the formal pipeline can use
it too. What makes it DeepSeek-style:

- numbers are split into single digits before BPE, so arithmetic sees one token per digit;
- runs of CJK characters are pre-tokens of their own, so they never merge with Latin text;
- whitespace runs stay whole except for the last space, which joins the next word: code
  indentation becomes a few long whitespace tokens instead of one per space;
- no normalizer, byte-level: every string round-trips exactly through encode/decode;
- special tokens with DeepSeek's names (fullwidth bar U+FF5C, lower one-eighth block U+2581) at
  ids 0..5: BOS, EOS, PAD and the three FIM sentinels.

A token shard records the sha256 of the tokenizer.json bytes it was written with; anything that
reads shards checks it against its own tokenizer with `check_tokenizer_matches`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
FIM_BEGIN = "<｜fim▁begin｜>"
FIM_HOLE = "<｜fim▁hole｜>"
FIM_END = "<｜fim▁end｜>"
SPECIAL_TOKENS = (BOS, EOS, PAD, FIM_BEGIN, FIM_HOLE, FIM_END)

# 256 byte symbols, the special tokens and at least one merge.
MIN_VOCAB_SIZE = 256 + len(SPECIAL_TOKENS) + 1
# The BPE trainer (Rust) reserves ~66 bytes per vocabulary entry up front and aborts the process when
# that fails (2^31 asks for 141 GB). 2^24 (~1.1 GB) is 130x DeepSeek-V3's 129,280.
MAX_VOCAB_SIZE = 2**24

DIGITS = r"\p{N}"
CJK = r"[一-龥぀-ゟ゠-ヿ]+"  # CJK ideographs, hiragana, katakana
# DeepSeek-V3's word pattern: punctuation glued to a following ASCII word (".append", "(x"),
# letters with at most one leading non-letter, punctuation runs with their newlines, newline
# runs, and whitespace runs that leave their last space to the next word.
WORDS = (
    r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+"""
    r"""|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"""
    r"""| ?[\p{P}\p{S}]+[\r\n]*"""
    r"""|\s*[\r\n]+"""
    r"""|\s+(?!\S)"""
    r"""|\s+"""
)


@dataclass(frozen=True)
class SpecialIds:
    """The ids of the special tokens in one tokenizer."""

    bos: int
    eos: int
    pad: int
    fim_begin: int
    fim_hole: int
    fim_end: int


def build_tokenizer():
    """An untrained byte-level BPE with the DeepSeek-style pre-tokenizer and decoder."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(DIGITS), "isolated"),
        pre_tokenizers.Split(Regex(CJK), "isolated"),
        pre_tokenizers.Split(Regex(WORDS), "isolated"),
        # The regexes above did the splitting; ByteLevel only maps bytes to symbols.
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    return tok


def train_tokenizer(texts: Iterable[str], vocab_size: int, min_frequency: int = 2, length: int | None = None):
    """Train on an iterator of texts (consumed once, never held whole) and return the Tokenizer."""
    from tokenizers import pre_tokenizers, trainers

    if vocab_size < MIN_VOCAB_SIZE:
        raise UserError(f"--vocab-size must be at least {MIN_VOCAB_SIZE} (256 bytes + {len(SPECIAL_TOKENS)} special tokens + 1)")
    if vocab_size > MAX_VOCAB_SIZE:
        raise UserError(f"--vocab-size must be at most {MAX_VOCAB_SIZE:,} (got {vocab_size:,})")
    tok = build_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        # Every byte is in the vocabulary even if the sample never shows it: nothing is ever unknown.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer, length=length)
    return tok


def to_bytes(tok) -> bytes:
    """The tokenizer.json bytes; their sha256 is the tokenizer's identity."""
    return tok.to_str(pretty=True).encode("utf-8")


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_tokenizer(tok, path: str) -> str:
    """Write tokenizer.json and `PATH.sha256` beside it (atomically); returns the hash."""
    data = to_bytes(tok)
    digest = hash_bytes(data)
    storage.write_bytes_atomic(path, data)
    storage.write_bytes_atomic(path + ".sha256", f"{digest}  {storage.basename(path)}\n".encode())
    return digest


def read_tokenizer_bytes(path: str) -> bytes:
    if not storage.exists(path) or storage.is_dir(path):
        raise UserError(f"{path}: no such file (expected a tokenizer.json)")
    return storage.read_bytes(path)


def tokenizer_hash(path: str) -> str:
    """sha256 hex of the tokenizer.json bytes: what token shards record as `tokenizer_hash`."""
    return hash_bytes(read_tokenizer_bytes(path))


def tokenizer_from_bytes(data: bytes, name: str = "tokenizer.json"):
    """A Tokenizer from tokenizer.json bytes, checked to have every special token."""
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_str(data.decode("utf-8"))
    except Exception as e:  # tokenizers raises plain Exception on malformed JSON
        raise UserError(f"{name}: not a tokenizer.json ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    missing = [t for t in SPECIAL_TOKENS if tok.token_to_id(t) is None]
    if missing:
        raise UserError(f"{name}: tokenizer lacks the special tokens {', '.join(missing)}")
    # Documents that happen to contain the text of a special token are encoded as plain text:
    # only the pipeline itself puts EOS, PAD and the FIM sentinels into a stream.
    tok.encode_special_tokens = True
    return tok


def load_tokenizer(path: str):
    """Load tokenizer.json from a local, gs:// or s3:// path."""
    return tokenizer_from_bytes(read_tokenizer_bytes(path), path)


def special_ids(tok) -> SpecialIds:
    ids = [tok.token_to_id(t) for t in SPECIAL_TOKENS]
    return SpecialIds(*ids)


def vocab_size(tok) -> int:
    return tok.get_vocab_size(with_added_tokens=True)


def shard_manifest_keys(tok, digest: str) -> dict:
    """The tokenizer's part of a token-shard manifest."""
    ids = special_ids(tok)
    return {"vocab_size": vocab_size(tok), "tokenizer_hash": digest, "eos_id": ids.eos, "pad_id": ids.pad,
            "bos_id": ids.bos}


def check_tokenizer_matches(info: dict, tokenizer_path: str, shards: str = "token shards") -> None:
    """Refuse shards written with another tokenizer than `tokenizer_path` (UserError, one line).

    `info` is a token-shard manifest or `deepcorpus.core.datasets.token_shard_info(ds)`.
    """
    expected = info.get("tokenizer_hash")
    actual = tokenizer_hash(tokenizer_path)
    if expected != actual:
        raise UserError(
            f"{shards}: written with tokenizer {str(expected)[:12]}, but {tokenizer_path} is {actual[:12]}; "
            "tokenize again with this tokenizer or use the one the shards were made with"
        )


def describe(path: str) -> dict:
    """Vocabulary size, special ids and hash of a tokenizer.json, for summaries and reports."""
    data = read_tokenizer_bytes(path)
    tok = tokenizer_from_bytes(data, path)
    ids = special_ids(tok)
    return {"path": path, "sha256": hash_bytes(data), "vocab_size": vocab_size(tok), **{f"{k}_id": v for k, v in vars(ids).items()},
            "merges": len(json.loads(data)["model"].get("merges", []))}
