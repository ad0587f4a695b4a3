"""The benchmark n-gram index: 10-grams, whole short texts, boilerplate left out."""

import json

import pytest

from dedup.ngrams import BenchmarkIndex


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_ten_gram_and_short_text_matching(tmp_path):
    path = write_jsonl(tmp_path / "bench.jsonl", [
        {"id": "q1", "question": "A train leaves the station at noon travelling at sixty miles per hour toward the city"},
        {"id": "q2", "question": "Compute seven times eight"},
        {"id": "q3", "question": "Hi there"},  # two words: too short to match anything
    ])
    index = BenchmarkIndex.from_files([path], fields=("question",))
    assert index.find("Puzzle: a TRAIN leaves the station at noon, travelling at sixty miles per hour!") .endswith("/bench.jsonl#q1")
    assert index.find("compute seven times eight") .endswith("/bench.jsonl#q2")
    assert index.find("compute seven times nine") is None
    assert index.find("hi there") is None
    assert index.find("a train leaves the station at noon") is None  # 7 words of a longer text
    assert index.num_ngrams == 7 + 1 and index.nbytes == 8 * 12


def test_ngrams_shared_by_many_items_are_boilerplate(tmp_path):
    header = "import Mathlib import Aesop set_option maxHeartbeats 400000 in open BigOperators Real Nat"
    rows = [{"name": f"t{i}", "lean": f"{header} theorem t{i} (x : Nat) : x + {i} = {i} + x := by sorry"} for i in range(20)]
    index = BenchmarkIndex.from_files([write_jsonl(tmp_path / "f.jsonl", rows)], fields=None, max_items=10)
    assert index.dropped_common > 0
    assert index.find(header + " theorem mine : True := trivial") is None
    assert index.find("theorem t7 (x : Nat) : x + 7 = 7 + x := by sorry") .endswith("/f.jsonl#t7")


@pytest.mark.slow
def test_public_benchmark_files_index(shared_data):
    import glob

    paths = sorted(glob.glob(f"{shared_data}/benchmarks/*/*.jsonl*"))
    index = BenchmarkIndex.from_files(paths, fields=None)
    first = json.loads(open(f"{shared_data}/benchmarks/gsm8k/test.jsonl").readline())
    assert index.find("Solution sketch. " + first["question"]) == "gsm8k/test.jsonl#0"
    assert index.total_bytes < 32 * 2**20
