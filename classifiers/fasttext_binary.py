"""Binary fastText classifiers, shared by the math classifier and the code quality model.

One place for what fastText needs around it: a training file written beside the model (not in a
shared /tmp) and removed afterwards, fastText's occasional spurious "Encountered NaN" retried,
models read from gs://, s3:// or https:// through a local copy (fastText opens local files only;
`local_copy` streams it to disk once per machine), and the positive label's probability as the score. A model's `.json` sidecar is read by its classifier from where the model lives.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass

from deepcorpus.core import storage

log = logging.getLogger(__name__)

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


def load_binary(path: str):
    """A fastText model from a local, gs://, s3:// or https:// path (remote ones through `local_copy`)."""
    import fasttext

    _quiet(fasttext)
    return fasttext.load_model(local_copy(path))


def local_copy(path: str) -> str:
    """A local file holding model `path`: the path itself when it is local, else a copy streamed to
    this machine's disk once (never through memory: DeepSeekMath-size models are ~2 GB) and shared
    by every process here. The copy is named by the path and the object's size and update time, so a
    replaced model is fetched again; concurrent callers wait on one download (a file lock)."""
    import fcntl
    import hashlib

    if not (storage.is_remote(path) or storage.is_http(path)):
        return path
    stamp = "url" if storage.is_http(path) else f"{storage.size(path)}:{storage.mtime_ns(path)}"
    key = hashlib.sha256(f"{path}\0{stamp}".encode()).hexdigest()[:16]
    folder = os.path.join(tempfile.gettempdir(), "deepcorpus-models", key)
    local = os.path.join(folder, storage.basename(path))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(local):
            tmp = f"{local}.part-{os.getpid()}"
            try:
                with storage.open_read(path) as src, open(tmp, "wb") as dst:
                    for block in iter(lambda: src.read(8 << 20), b""):
                        dst.write(block)
                os.replace(tmp, local)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    return local


def positive_probability(model, normalized_text: str, positive: str) -> float:
    """The probability fastText gives `positive` for a text already normalized for it."""
    labels, probs = model.predict(normalized_text, k=-1)
    for label, p in zip(labels, probs):
        if label == positive:
            return float(min(1.0, max(0.0, p)))
    return 0.0
