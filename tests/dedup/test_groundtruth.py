"""Near-dedup against ground truth: a corpus of edited copies with known Jaccard similarities
(benchmarks/dedup_corpus.py, the small version of `make bench`'s dedup_correctness)."""

import pytest

from benchmarks.dedup_corpus import clusters_from_removed, make_corpus, score
from deepcorpus.cli import main
from deepcorpus.core import datasets


@pytest.mark.slow
def test_minhash_meets_precision_and_recall_on_known_duplicates(tmp_path):
    corpus = make_corpus(600, seed=5)
    path = str(tmp_path / "docs.jsonl")
    corpus.write_jsonl(path)
    code = main(["dedup", "minhash", "--input", path, "--output", str(tmp_path / "kept"),
                 "--removed", str(tmp_path / "removed"), "--direct_running_mode=in_memory"])
    assert code == 0
    removed = datasets.open_dataset(str(tmp_path / "removed")).read(["id", "duplicate_of"]).to_pylist()
    result = score(corpus, clusters_from_removed([(r["id"], r["duplicate_of"]) for r in removed]))
    assert result["pairs_dup"] > 50 and result["pairs_distinct"] > 200  # the corpus tests something
    assert result["precision"] >= 0.95
    assert result["recall"] >= 0.95
    assert abs(result["clusters"] - result["clusters_true"]) <= 0.15 * result["clusters_true"]
