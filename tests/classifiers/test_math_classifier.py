"""The fastText math classifier: DeepSeekMath's settings, trained on a few dozen texts, still sensible."""

import json
import os

import pytest

from classifiers.evaluation import binary_metrics
from classifiers.math_classifier import ClassifierConfig, MathClassifier, effective_epochs, train_classifier
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
