"""The fastText math classifier: DeepSeekMath's settings, trained on a few dozen texts, still sensible."""

import json
import os

import pytest

from classifiers.evaluation import binary_metrics
from classifiers.math_classifier import (
    ClassifierConfig,
    MathClassifier,
    effective_bucket,
    effective_epochs,
    train_classifier,
)
from classifiers.normalize import normalize_for_fasttext
from deepcorpus import samples
from deepcorpus.samples.make_crawl import OTHER


def jsonl(name):
    with open(samples.path(name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    seed = [r["text"] for r in jsonl("math_seed.jsonl")]
    negatives = [" ".join(sentences[i:] + sentences[:i]) for sentences in OTHER.values() for i in range(8)]
    path = str(tmp_path_factory.mktemp("clf") / "model.bin")
    return train_classifier(seed, negatives, path, ClassifierConfig(dim=64)), path


def test_defaults_are_deepseekmath_settings():
    cfg = ClassifierConfig()
    assert (cfg.max_positives, cfg.max_negatives, cfg.dim, cfg.lr, cfg.word_ngrams, cfg.min_count, cfg.epoch) == (
        500_000, 500_000, 256, 0.1, 3, 3, 3)


def test_epochs_rise_only_for_small_training_sets():
    cfg = ClassifierConfig()
    assert effective_epochs(cfg, 1_000_000) == 3
    assert effective_epochs(cfg, 100) == 100


def test_the_hash_table_is_fasttexts_default_at_scale_and_a_row_per_4_tokens_below():
    cfg = ClassifierConfig()
    assert effective_bucket(cfg, 3_000_000_000) == 2_000_000  # DeepSeekMath's million documents
    assert effective_bucket(cfg, 8_000_000) == 2_000_000
    assert effective_bucket(cfg, 380_000) == 95_000
    assert effective_bucket(cfg, 1_000) == 10_000
    assert effective_bucket(ClassifierConfig(bucket=123), 380_000) == 123


def test_small_seed_gives_a_sensible_classifier(model):
    clf, _ = model
    evals = jsonl("math_eval.jsonl")
    m = binary_metrics(clf.score_many([r["text"] for r in evals]), [r["label"] for r in evals], 0.5)
    # The set holds questions asked in words only, which a LaTeX-heavy seed cannot teach: recall < 1.
    assert m["precision"] >= 0.9 and m["recall"] >= 0.8


def test_scoring_uses_the_training_normalization(model):
    clf, _ = model
    text = r"Therefore $\int_0^1 x^2 dx = \frac{1}{3}$ by the theorem."
    assert clf.score(text) == clf.score_normalized(normalize_for_fasttext(text))
    assert clf.score(text) > 0.5 > clf.score("Whisk the eggs with the sugar and bake for twenty minutes.")


def test_saved_model_loads_with_its_settings(model):
    clf, path = model
    again = MathClassifier.load(path)
    text = "Let p be a prime and suppose p divides ab."
    assert again.score(text) == pytest.approx(clf.score(text))
    assert again.info["config"]["dim"] == 64 and again.info["positives"] == 48
    assert os.path.exists(path + ".json")


def test_a_model_over_https_loads_with_its_sidecar(model, http_root):
    import shutil

    clf, path = model
    root, url = http_root
    for name in ("model.bin", "model.bin.json"):
        shutil.copy(os.path.join(os.path.dirname(path), name), root / name)
    again = MathClassifier.load(f"{url}/model.bin")  # what a pipeline's workers do in setup()
    assert again.info["config"]["dim"] == 64
    text = "Let p be a prime and suppose p divides ab."
    assert again.score(text) == pytest.approx(clf.score(text))


def test_training_without_negatives_fails_clearly(tmp_path):
    with pytest.raises(ValueError, match="negatives"):
        train_classifier(["$x$ math"], [], str(tmp_path / "m.bin"))


def test_a_nan_in_this_process_is_trained_again_in_a_fresh_one(tmp_path, monkeypatch):
    # fastText's NaN depends on the calling thread's state (e.g. denormals flushed to zero by an
    # earlier library); the in-process attempt is made to fail that way, the fresh process trains.
    import classifiers.fasttext_binary as fb

    def nan_here(*args):
        raise fb._NaN("Encountered NaN.")

    monkeypatch.setattr(fb, "_train_to", nan_here)
    positives = ["we prove that x squared is at least zero for every real x"] * 20
    negatives = ["whisk the eggs with the sugar and bake for twenty minutes"] * 20
    clf = train_classifier(positives, negatives, str(tmp_path / "m.bin"), ClassifierConfig(dim=16))
    assert clf.score("we prove that y squared is at least zero") > clf.score("bake the eggs with sugar")


def test_a_remote_model_is_streamed_to_local_disk_once_per_machine(model, http_root, monkeypatch):
    import shutil

    from classifiers import fasttext_binary
    from deepcorpus.core import storage

    _, path = model
    root, url = http_root
    shutil.copy(path, root / "once.bin")
    opened = []
    real_open = storage.open_read
    monkeypatch.setattr(storage, "open_read", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
    first = fasttext_binary.local_copy(f"{url}/once.bin")
    second = fasttext_binary.local_copy(f"{url}/once.bin")
    assert first == second and opened == [f"{url}/once.bin"]  # fetched once, in blocks, never into memory whole
    assert open(first, "rb").read() == open(path, "rb").read()
    assert not [n for n in os.listdir(os.path.dirname(first)) if ".part-" in n]  # no temporary left behind
    assert fasttext_binary.local_copy(path) == path  # a local model is used where it is


@pytest.mark.slow
def test_a_shared_model_is_one_server_process_for_every_caller(model):
    from pipelines.shared_model import SharedModel, should_share

    clf, path = model
    texts = [normalize_for_fasttext(t) for t in ("Let p be a prime and suppose p divides ab.", "Bake for an hour.")]
    handle = SharedModel(path, shared=True)
    a, b = handle.acquire(), SharedModel(path, shared=True).acquire()  # two callers, one loaded model
    assert a.score_normalized_many(texts) == pytest.approx([clf.score_normalized(t) for t in texts])
    assert b.score_normalized_many(texts) == a.score_normalized_many(texts)
    assert SharedModel(path, shared=False).acquire().score_normalized_many(texts) == pytest.approx(
        a.score_normalized_many(texts))
    assert should_share(path, remote_runner=True, in_memory=False)
    assert not should_share(path, remote_runner=False, in_memory=True)
    assert not should_share(path, remote_runner=False, in_memory=False)  # a small model: a copy is cheaper


def test_a_replaced_remote_model_is_fetched_again(model, http_root):
    import shutil
    import time

    from classifiers import fasttext_binary

    _, path = model
    root, url = http_root
    shutil.copy(path, root / "m.bin")
    first = fasttext_binary.local_copy(f"{url}/m.bin")
    time.sleep(1.1)  # Last-Modified has a resolution of a second
    (root / "m.bin").write_bytes(open(path, "rb").read() + b"\0")
    second = fasttext_binary.local_copy(f"{url}/m.bin")
    assert second != first and os.path.getsize(second) == os.path.getsize(path) + 1
