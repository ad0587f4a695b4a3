"""Binary fastText classifiers, shared by the math classifier and the code quality model.

One place for what fastText needs around it: a training file written beside the model (not in a
shared /tmp) and removed afterwards, fastText's occasional spurious "Encountered NaN" retried,
models read from gs://, s3:// or https:// through a local copy (fastText opens local files only; the
one place a model file is copied, once per worker in `setup()`), and the positive label's probability
as the score. A model's `.json` sidecar is read by its classifier from where the model lives.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

log = logging.getLogger(__name__)

# A fastText binary model (.bin, .ftz) opens with this int32, little-endian (FASTTEXT_FILEFORMAT_MAGIC_INT32).
MAGIC = 793712314

# fasttext-numpy2-wheel 0.9.2 now and then reports NaN on a busy machine and succeeds when run again
# on the same data and seed; anything else, or NaN this many times in a row, is an error.
TRAIN_ATTEMPTS = 10


@dataclass
class FastTextParams:
    dim: int
    lr: float
    word_ngrams: int
    min_count: int
    epoch: int
    bucket: int
    threads: int = 1  # one thread makes training reproducible for a given seed
    seed: int = 0


def _quiet(fasttext) -> None:
    # fastText prints a deprecation notice on every load_model.
    fasttext.FastText.eprint = lambda *a, **k: None


def train_binary(lines: list[str], model_path: str, params: FastTextParams):
    """Train on `__label__X text` lines, save to `model_path`, and return the fastText model."""
    import fasttext

    _quiet(fasttext)
    os.makedirs(os.path.dirname(os.path.abspath(model_path)), exist_ok=True)
    train_file = f"{model_path}.train-{os.getpid()}.txt"
    with open(train_file, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    try:
        for attempt in range(1, TRAIN_ATTEMPTS + 1):
            try:
                model = fasttext.train_supervised(
                    input=train_file, dim=params.dim, lr=params.lr, wordNgrams=params.word_ngrams,
                    minCount=params.min_count, epoch=params.epoch, bucket=params.bucket, thread=params.threads,
                    seed=params.seed, verbose=0,
                )
                break
            except RuntimeError as e:  # fastText reports NaN losses and empty vocabularies this way
                if "NaN" not in str(e) or attempt == TRAIN_ATTEMPTS:
                    raise ValueError(f"fastText training failed: {e}") from None
                log.warning("fastText reported NaN (attempt %d of %d); training again", attempt, TRAIN_ATTEMPTS)
    finally:
        os.unlink(train_file)
    model.save_model(model_path)
    return model


def check_model_file(path: str, what: str = "model") -> None:
    """A UserError naming `path` unless it exists and opens as a fastText model; read in the launcher
    (its first 4 bytes), so a wrong file is refused before the workers try to load it."""
    if not storage.exists(path):
        raise UserError(f"{path}: no such {what} file")
    head = storage.peek(path, 4)
    if len(head) < 4 or int.from_bytes(head, "little") != MAGIC:
        raise UserError(f"{path}: not a fastText {what} (fastText's binary .bin or .ftz format)")


def load_binary(path: str):
    """A fastText model from a local, gs://, s3:// or https:// path."""
    import fasttext

    _quiet(fasttext)
    local = path
    if storage.is_remote(path) or storage.is_http(path):
        local = os.path.join(tempfile.mkdtemp(prefix="fasttext-"), storage.basename(path))
        with open(local, "wb") as f:
            f.write(storage.read_bytes(path))
    return fasttext.load_model(local)


def positive_probability(model, normalized_text: str, positive: str) -> float:
    """The probability fastText gives `positive` for a text already normalized for it."""
    labels, probs = model.predict(normalized_text, k=-1)
    for label, p in zip(labels, probs):
        if label == positive:
            return float(min(1.0, max(0.0, p)))
    return 0.0
