"""The verification cache as a dataset the prove step joins against (the path for remote outputs and
runners): a rerun asks Lean nothing it answered before, counted by the STAND-IN's request log."""

import json
import os
import sys

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from formal.backends import LeanConfig
from formal.cache import JoinedCache, statement_key
from formal.generators import TemplateGenerator
from formal.prover import ProveConfig
from formal.results import ERROR, TIMEOUT, VERIFIED, VerifyResult
from pipelines.formal.transforms import ProveCandidates

STANDIN = f"{sys.executable} {os.path.join(os.path.dirname(__file__), 'standin_repl.py')}"
CONFIG = LeanConfig(backend="repl", repl_command=STANDIN, workers=2, memory_mb=None, toolchain="stand-in")


def _cands(n):
    cands, _ = TemplateGenerator().formalize([], n, 1, "set_option maxHeartbeats 400000")
    return [c.to_dict() for c in cands]


def _round(cands, cache_dir, expected):
    with TestPipeline(runner="FnApiRunner") as p:
        rows = p | beam.Create(cands) | ProveCandidates(CONFIG, ProveConfig(attempts=2), batch_size=3,
                                                       cache_dir=str(cache_dir))
        if expected is None:  # new statements: all proved (their proofs are the stand-in's first try)
            expected = [(c["name"], VERIFIED) for c in cands]
            assert_that(rows | beam.Map(lambda r: (r["name"], r["status"])), equal_to(expected))
        else:
            assert_that(rows | beam.Map(lambda r: (r["name"], r["status"], r["proof"])), equal_to(expected))
    counters = {m.key.metric.name: m.committed for m in p.result.metrics().query()["counters"]
                if m.key.metric.namespace == "lean"}
    return counters


def _requests(log):
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_rerun_verifies_nothing_again(tmp_path, monkeypatch):
    log = tmp_path / "standin.log"
    monkeypatch.setenv("STANDIN_LOG", str(log))
    monkeypatch.setenv("STANDIN_FAIL", "¬\n: False")
    cands = _cands(7)
    cache_dir = tmp_path / "verify_cache"

    with TestPipeline(runner="FnApiRunner") as p:  # the first run's rows, to compare the rerun's with
        first = p | beam.Create(cands) | ProveCandidates(CONFIG, ProveConfig(attempts=2), batch_size=3)
        _ = first | beam.Map(json.dumps) | beam.io.WriteToText(str(tmp_path / "rows"), shard_name_template="")
    expected = sorted((r["name"], r["status"], r["proof"]) for r in map(json.loads, open(tmp_path / "rows")))
    assert {s for _, s, _ in expected} == {VERIFIED}
    log.unlink()

    counters = _round(cands, cache_dir, expected)
    asked = _requests(log)
    entries = [json.loads(line) for f in sorted(cache_dir.glob("*.jsonl")) for line in f.read_text().splitlines()]
    assert asked > 0 and counters["cache_hits"] == 0 and counters["cache_added"] == len(entries) > 0
    assert counters["cache_misses"] >= len(entries)
    assert {e["skey"] for e in entries} == {statement_key(c) for c in cands}
    files = len(list(cache_dir.glob("*.jsonl")))

    counters = _round(cands, cache_dir, expected)  # the rerun: the same rows, Lean not asked once
    assert _requests(log) == asked
    assert counters["cache_hits"] >= len(entries) and counters.get("cache_misses", 0) == 0
    assert counters.get("cache_added", 0) == 0
    assert len(list(cache_dir.glob("*.jsonl"))) == files  # an empty set of new entries writes no file

    more = _cands(9)  # two statements more: only they reach Lean
    counters = _round(more, cache_dir, None)
    assert counters["cache_hits"] >= len(entries) and 0 < counters["cache_added"]
    assert _requests(log) > asked


def test_only_definite_answers_join_the_batch_cache():
    cache = JoinedCache([{"key": "k1", "result": VerifyResult(VERIFIED, id="a").to_json()}])
    cache.put_many([("k1", VerifyResult(VERIFIED, id="a")), ("k2", VerifyResult(ERROR, id="b")),
                    ("k3", VerifyResult(TIMEOUT, id="c"))])
    assert [k for k, _ in cache.new] == ["k2"]  # k1 was known, a timeout may go another way next time
    found = cache.get_many(["k1", "k2", "k3", "k1"])
    assert set(found) == {"k1", "k2"} and all(r.cached for r in found.values())
    assert (cache.hits, cache.misses) == (3, 1)
