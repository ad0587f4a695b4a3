"""The dedup Beam transforms, each run alone in a TestPipeline on a handful of documents."""

import json
import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from dedup.beam import (
    CODE_MINHASH,
    WEB_MINHASH,
    ConnectedComponents,
    Decontaminate,
    ExactDedup,
    MinHashDedup,
    UrlDedup,
)
from dedup.components import union_find_components
from dedup.minhash import MinHashConfig
from dedup.normalize import NormalizeConfig


def pipeline():
    return TestPipeline(runner="FnApiRunner")


# Clusters here are a few documents deep: 4 rounds of connected components finish them, and
# fewer stages keep the tests quick (the default, 16, is for chains of thousands).
ROUNDS = 4


def ids(pcoll, label):
    return pcoll | label >> beam.Map(lambda r: r["id"])


def removals(pcoll, label):
    return pcoll | label >> beam.Map(lambda r: (r["id"], r["duplicate_of"], r["dedup_reason"]))


def words(seed: int, n: int = 120) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randrange(20000)}" for _ in range(n)]


def test_exact_dedup_keeps_the_earliest_crawl_of_each_normalized_text():
    docs = [
        {"id": "a", "text": "Hello   World", "crawl_date": "2024-05-01"},
        {"id": "b", "text": "hello world", "crawl_date": "2023-01-01"},  # earliest: kept
        {"id": "c", "text": "hello world!", "crawl_date": "2022-01-01"},  # punctuation counts by default
        {"id": "d", "text": "something else"},
    ]
    with pipeline() as p:
        out = p | beam.Create(docs) | ExactDedup()
        assert_that(ids(out.kept, "K"), equal_to(["b", "c", "d"]), label="kept")
        assert_that(removals(out.removed, "R"), equal_to([("a", "b", "exact")]), label="removed")


def test_exact_dedup_with_punctuation_folded_and_a_custom_rank():
    docs = [
        {"id": "a", "text": "Hello, world", "stars": 1},
        {"id": "b", "text": "hello world", "stars": 50},
        {"id": "c", "text": "hello world!", "stars": 7},
    ]
    with pipeline() as p:
        out = p | beam.Create(docs) | ExactDedup(
            NormalizeConfig(punctuation=True), rank_key=lambda r: (-r["stars"], r["id"]))
        assert_that(ids(out.kept, "K"), equal_to(["b"]), label="kept")
        assert_that(removals(out.removed, "R"), equal_to([("a", "b", "exact"), ("c", "b", "exact")]), label="removed")


def test_removed_rows_keep_every_input_column():
    docs = [{"id": "x", "text": "t", "extra": 1}, {"id": "y", "text": "t", "extra": 2}]
    with pipeline() as p:
        out = p | beam.Create(docs) | ExactDedup()
        assert_that(out.removed, equal_to([
            {"id": "y", "text": "t", "extra": 2, "duplicate_of": "x", "dedup_reason": "exact"}]))


def test_url_dedup_keeps_the_latest_crawl_of_each_canonical_url():
    docs = [
        {"id": "1", "text": "old", "url": "http://www.example.com/page/", "crawl_date": "2021-03-01T00:00:00Z"},
        {"id": "2", "text": "new", "url": "https://example.com/page?utm_source=x", "crawl_date": "2024-03-01T00:00:00Z"},
        {"id": "3", "text": "undated", "url": "https://example.com/page#top", "crawl_date": None},
        {"id": "4", "text": "other", "url": "https://example.com/other", "crawl_date": "2020-01-01"},
        {"id": "5", "text": "no url at all"},
    ]
    with pipeline() as p:
        out = p | beam.Create(docs) | UrlDedup()
        assert_that(ids(out.kept, "K"), equal_to(["2", "4", "5"]), label="kept")
        assert_that(removals(out.removed, "R"), equal_to([("1", "2", "url"), ("3", "2", "url")]), label="removed")


def test_url_dedup_can_prefer_the_earliest_crawl():
    docs = [
        {"id": "1", "text": "a", "url": "http://example.com/p", "crawl_date": "2021"},
        {"id": "2", "text": "b", "url": "http://example.com/p/", "crawl_date": "2024"},
    ]
    with pipeline() as p:
        out = p | beam.Create(docs) | UrlDedup(prefer="earliest")
        assert_that(ids(out.kept, "K"), equal_to(["1"]))


def test_minhash_dedup_removes_near_copies_and_keeps_distinct_documents():
    base = words(1, 200)
    edited = list(base)
    edited[100] = "changed"  # one word changed: Jaccard ~0.95
    docs = [
        {"id": "orig", "text": " ".join(base), "crawl_date": "2020"},
        {"id": "copy", "text": " ".join(edited), "crawl_date": "2023"},
        {"id": "copy2", "text": " ".join(base) + " footer", "crawl_date": "2024"},
        {"id": "other", "text": " ".join(words(2, 200))},
        {"id": "short", "text": "tiny"},
        {"id": "empty", "text": ""},
    ]
    with pipeline() as p:
        out = p | beam.Create(docs) | MinHashDedup(WEB_MINHASH, cc_rounds=ROUNDS)
        assert_that(ids(out.kept, "K"), equal_to(["orig", "other", "short", "empty"]), label="kept")
        assert_that(removals(out.removed, "R"), equal_to(
            [("copy", "orig", "near_duplicate"), ("copy2", "orig", "near_duplicate")]), label="removed")


def test_minhash_clusters_chained_copies_through_connected_components():
    # a ~ b ~ c ~ d each differ by a few words from the next; a and d share less, but one cluster.
    text = words(3, 300)
    chain = []
    for step in range(4):
        t = list(text)
        for k in range(step * 8):
            t[k * 7 % 300] = f"edit{k}"
        chain.append({"id": f"c{step}", "text": " ".join(t)})
    with pipeline() as p:
        out = p | beam.Create(chain) | MinHashDedup(MinHashConfig(num_perm=128, bands=32, rows=4), cc_rounds=ROUNDS)
        assert_that(ids(out.kept, "K"), equal_to(["c0"]), label="kept")
        assert_that(out.removed | beam.Map(lambda r: r["duplicate_of"]), equal_to(["c0"] * 3), label="removed")


@pytest.mark.slow
def test_minhash_verification_drops_false_candidate_pairs():
    # Very loose bands make a pair at Jaccard ~0.5 a candidate; verification at 0.8 rejects it.
    loose = MinHashConfig(num_perm=64, bands=32, rows=2, threshold=0.8)
    base = words(4, 200)
    half = base[:100] + words(5, 100)
    docs = [{"id": "a", "text": " ".join(base)}, {"id": "b", "text": " ".join(half)}]
    with pipeline() as p:
        out = p | beam.Create(docs) | MinHashDedup(loose, verify=True, cc_rounds=ROUNDS)
        assert_that(ids(out.kept, "K"), equal_to(["a", "b"]), label="kept")
    with pipeline() as p:
        out = p | beam.Create(docs) | MinHashDedup(loose, verify=False, cc_rounds=ROUNDS)
        assert_that(ids(out.kept, "K"), equal_to(["a"]), label="kept")


def test_code_preset_uses_bigcode_parameters_and_a_repository_rank():
    assert (CODE_MINHASH.ngram, CODE_MINHASH.num_perm, CODE_MINHASH.threshold) == (5, 256, 0.7)
    assert (CODE_MINHASH.bands, CODE_MINHASH.rows) == (25, 10)
    assert WEB_MINHASH.threshold == 0.8
    code = "\n".join(f"def f{i}(x):\n    return x * {i} + helper(x, {i})" for i in range(40))
    repos = [
        {"id": "gpl", "text": code, "license": "gpl-3.0", "stars": 900},
        {"id": "mit-few", "text": code + "\n# fork", "license": "mit", "stars": 3},
        {"id": "mit-many", "text": code + "\n# other fork", "license": "mit", "stars": 40},
    ]

    def permissive_then_stars(r):
        return (0 if r["license"] in ("mit", "apache-2.0") else 1, -r["stars"], r["id"])

    with pipeline() as p:
        out = p | beam.Create(repos) | MinHashDedup(CODE_MINHASH, rank_key=permissive_then_stars, cc_rounds=ROUNDS)
        assert_that(ids(out.kept, "K"), equal_to(["mit-many"]), label="kept")


def _components_in_beam(edges, rounds=16):
    with pipeline() as p:
        labels = p | beam.Create(edges) | ConnectedComponents(rounds)
        expected = {n: m for n, m in union_find_components(edges).items() if n != m}
        assert_that(labels, equal_to(sorted(expected.items())))


@pytest.mark.slow
def test_connected_components_match_union_find_on_random_graphs():
    rng = random.Random(7)
    edges = [(rng.randrange(300), rng.randrange(300)) for _ in range(250)]
    edges = [e for e in edges if e[0] != e[1]]
    _components_in_beam(edges)


@pytest.mark.slow
def test_connected_components_match_union_find_on_a_long_chain():
    rng = random.Random(8)
    nodes = list(range(2000))
    rng.shuffle(nodes)
    chain = [(nodes[i], nodes[i + 1]) for i in range(len(nodes) - 1)]
    _components_in_beam(chain + [(5000 + i, 5001 + i) for i in range(300)])  # plus an ascending chain


def test_decontaminate_drops_documents_containing_a_benchmark_ngram(tmp_path):
    (tmp_path / "gsm8k").mkdir()
    bench = tmp_path / "gsm8k" / "test.jsonl"
    question = "Natalia sold clips to 48 of her friends in April and then she sold half as many clips in May"
    bench.write_text(json.dumps({"question": question, "answer": "72"}) + "\n"
                     + json.dumps({"question": "What is two plus two"}) + "\n")
    docs = [
        {"id": "leak", "text": "Homework help: natalia SOLD clips to 48 of her friends in April and then ..."},
        {"id": "short-leak", "text": "Quiz. What is two plus two? Four."},
        {"id": "clean", "text": "Natalia sold clips in May. A different story about friends."},
    ]
    with pipeline() as p:
        out = p | beam.Create(docs) | Decontaminate([str(bench)])
        assert_that(ids(out.kept, "K"), equal_to(["clean"]), label="kept")
        assert_that(removals(out.removed, "R"), equal_to([
            ("leak", "gsm8k/test.jsonl#0", "benchmark"), ("short-leak", "gsm8k/test.jsonl#1", "benchmark")]), label="removed")


def test_decontaminate_flag_mode_keeps_everything_and_reports_matches(tmp_path):
    (tmp_path / "mbpp").mkdir()
    bench = tmp_path / "mbpp" / "mbpp.jsonl"
    bench.write_text(json.dumps({"task_id": 11, "text": "Write a function to find the shared elements from the given two lists"}) + "\n")
    docs = [{"id": "d", "text": "please write a function to find the shared elements from the given two lists now"}]
    with pipeline() as p:
        out = p | beam.Create(docs) | Decontaminate([str(bench)], mode="flag")
        assert_that(ids(out.kept, "K"), equal_to(["d"]), label="kept")
        assert_that(removals(out.removed, "R"), equal_to([("d", "mbpp/mbpp.jsonl#11", "benchmark")]), label="removed")
