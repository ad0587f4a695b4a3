"""Binary fastText classifiers, shared by the math classifier and the code quality model.

One place for what fastText needs around it: a training file written beside the model (not in a
shared /tmp) and removed afterwards, fastText's occasional spurious "Encountered NaN" retried in a
fresh process, models read from gs://, s3:// or https:// through a local copy (fastText opens local
files only; `local_copy` streams it to disk once per machine), and the positive label's probability as
the score. A model's `.json` sidecar is read by its classifier from where the model lives.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

log = logging.getLogger(__name__)

# A fastText binary model (.bin, .ftz) opens with this int32, little-endian (FASTTEXT_FILEFORMAT_MAGIC_INT32).
MAGIC = 793712314

# fasttext-numpy2-wheel 0.9.2 trains in the calling thread and inherits its state: in a long-lived
# process (a test worker that ran torch before, a notebook) it can report NaN on data and a seed that
# train fine in a fresh process, e.g. when the thread flushes denormals to zero. So a NaN is retried
# in a fresh interpreter, up to this many times; anything else, or NaN every time, is an error.
TRAIN_ATTEMPTS = 3


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
        try:
            _train_to(train_file, model_path, params)
        except _NaN:
            for attempt in range(1, TRAIN_ATTEMPTS + 1):
                log.warning("fastText reported NaN; training again in a fresh process (%d of %d)", attempt,
                            TRAIN_ATTEMPTS)
                done = subprocess.run([sys.executable, "-m", "classifiers.fasttext_binary", train_file, model_path,
                                       json.dumps(asdict(params))], capture_output=True, text=True)
                if done.returncode == 0:
                    break
                if done.returncode != _NAN_EXIT or attempt == TRAIN_ATTEMPTS:
                    raise ValueError(f"fastText training failed: {done.stderr.strip().splitlines()[-1:]}") from None
    finally:
        os.unlink(train_file)
    return fasttext.load_model(model_path)


class _NaN(Exception):
    pass


_NAN_EXIT = 3


def _train_to(train_file: str, model_path: str, params: FastTextParams) -> None:
    import fasttext

    _quiet(fasttext)
    try:
        model = fasttext.train_supervised(
            input=train_file, dim=params.dim, lr=params.lr, wordNgrams=params.word_ngrams,
            minCount=params.min_count, epoch=params.epoch, bucket=params.bucket, thread=params.threads,
            seed=params.seed, verbose=0,
        )
    except RuntimeError as e:  # fastText reports NaN losses and empty vocabularies this way
        if "NaN" in str(e):
            raise _NaN(str(e)) from None
        raise ValueError(f"fastText training failed: {e}") from None
    model.save_model(model_path)


def check_model_file(path: str, what: str = "model") -> None:
    """A UserError naming `path` unless it exists and opens as a fastText model; read in the launcher
    (its first 4 bytes), so a wrong file is refused before the workers try to load it."""
    if not storage.exists(path):
        raise UserError(f"{path}: no such {what} file")
    head = storage.peek(path, 4)
    if len(head) < 4 or int.from_bytes(head, "little") != MAGIC:
        raise UserError(f"{path}: not a fastText {what} (fastText's binary .bin or .ftz format)")


def load_binary(path: str):
    """A fastText model from a local, gs://, s3:// or https:// path (remote ones through `local_copy`)."""
    import fasttext

    _quiet(fasttext)
    return fasttext.load_model(local_copy(path))


def version_stamp(path: str) -> str:
    """What changes when the object at `path` is replaced: size and update time on object stores,
    ETag / Last-Modified / Content-Length over https (from a HEAD request)."""
    if not storage.is_http(path):
        return f"{storage.size(path)}:{storage.mtime_ns(path)}"
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(path, method="HEAD"), timeout=30) as r:  # noqa: S310
            return "|".join(str(r.headers.get(h)) for h in ("ETag", "Last-Modified", "Content-Length"))
    except OSError:
        return "unknown"


def local_copy(path: str) -> str:
    """A local file holding model `path`: the path itself when it is local, else a copy streamed to
    this machine's disk once (never through memory: DeepSeekMath-size models are ~2 GB) and shared
    by every process here. The copy is named by the path and the object's size and update time, so a
    replaced model is fetched again; concurrent callers wait on one download (a file lock)."""
    import fcntl
    import hashlib

    if not (storage.is_remote(path) or storage.is_http(path)):
        return path
    key = hashlib.sha256(f"{path}\0{version_stamp(path)}".encode()).hexdigest()[:16]
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


if __name__ == "__main__":  # the fresh process of a NaN retry: TRAIN_FILE MODEL_PATH PARAMS_JSON
    try:
        _train_to(sys.argv[1], sys.argv[2], FastTextParams(**json.loads(sys.argv[3])))
    except _NaN as e:
        print(e, file=sys.stderr)
        sys.exit(_NAN_EXIT)
