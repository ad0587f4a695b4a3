"""The single math steps as commands (train-classifier, score, discover, decontaminate), in a chain,
on the local runner and on the remote-like harness (workers that see only the bucket)."""

import json
import shutil

import pytest

from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core import datasets

BENCH = samples.path("benchmarks", "math_benchmark.jsonl")


def _inputs(where):
    """docs.jsonl (the labelled set with URLs over three sites), negatives.jsonl, the seed, a benchmark."""
    rows = [json.loads(line) for line in open(samples.path("math_eval.jsonl"), encoding="utf-8")]
    with open(where / "docs.jsonl", "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps({"id": r["id"], "url": f"https://site{i % 3}.example.org/q/{i}", "text": r["text"]}) + "\n")
    with open(where / "negatives.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            if not r["label"]:
                f.write(json.dumps({"text": r["text"]}) + "\n")
    shutil.copy(samples.path("math_seed.jsonl"), where / "seed.jsonl")
    shutil.copy(BENCH, where / "bench.jsonl")
    return len(rows)


def chain(where, beam_args, model=None):
    """The four steps; `model`: a directory whose model.bin (+ .json) to use instead of training one."""
    n = _inputs(where)
    if model is None:
        assert main(["math", "train-classifier", "--positives", str(where / "seed.jsonl"), "--negatives",
                     str(where / "negatives.jsonl"), "--output", str(where / "model.bin")]) == 0
    else:
        for name in ("model.bin", "model.bin.json"):
            shutil.copy(model / name, where / name)
    assert main(["math", "score", "--input", str(where / "docs.jsonl"), "--model", str(where / "model.bin"),
                 "--output", str(where / "scored"), *beam_args]) == 0
    scored = datasets.open_dataset(str(where / "scored"), "web_doc")
    assert scored.row_count == n
    assert main(["math", "discover", "--input", str(where / "scored"), "--output", str(where / "review.yaml")]) == 0
    assert main(["math", "decontaminate", "--input", str(where / "scored"), "--benchmark", str(where / "bench.jsonl"),
                 "--output", str(where / "clean"), *beam_args]) == 0
    return {r["id"]: r["score"] for r in scored.iter_rows(["id", "score"])}, datasets.open_dataset(
        str(where / "clean")).row_count


def test_the_steps_chain_locally(tmp_path):
    scores, kept = chain(tmp_path, ["--direct_running_mode", "in_memory", "--direct_num_workers", "1"])
    assert 0 < kept <= len(scores) and all(0.0 <= s <= 1.0 for s in scores.values())


@pytest.mark.slow
def test_the_steps_chain_on_remote_like_workers(remote_like, tmp_path):
    local_scores, local_kept = chain(tmp_path, ["--direct_running_mode", "in_memory", "--direct_num_workers", "1"])
    scores, kept = chain(remote_like.dir("steps"), remote_like.beam_args, model=tmp_path)  # the same model
    assert kept == local_kept and scores.keys() == local_scores.keys()
    assert all(abs(scores[k] - local_scores[k]) < 1e-6 for k in scores)  # the same model, shared per machine there
