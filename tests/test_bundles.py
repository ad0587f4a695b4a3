"""The local runner cuts large stage inputs into bounded bundles (pipelines/bundles.py)."""

import apache_beam as beam
import pytest
from apache_beam.metrics import Metrics

from pipelines import bundles, runner, summary


def test_pack_bounds_each_bundle_and_names_every_input():
    pieces = {"a": [[b"x" * 40], [b"x" * 40], [b"x" * 40]], "b": [[b"y" * 70], [b"y" * 10, b"y" * 10]]}
    packed = bundles.pack(pieces, target_bytes=100)
    assert all(set(b) == {"a", "b"} for b in packed)
    assert all(sum(len(c) for chunks in b.values() for c in chunks) <= 100 for b in packed)
    for name, parts in pieces.items():  # nothing lost, nothing repeated, in order
        assert [c for b in packed for c in b[name]] == [c for part in parts for c in part]
    assert len(packed) == 3


def test_pack_of_nothing_is_one_empty_bundle():
    assert bundles.pack({"a": [[]]}, target_bytes=100) == [{"a": []}]


class _CountBundles(beam.DoFn):
    def __init__(self, name):
        self.bundles = Metrics.counter("bundles", name)
        self.seen = Metrics.counter("rows", name)

    def start_bundle(self):
        self.bundles.inc()

    def process(self, element):
        self.seen.inc()
        yield element


@pytest.mark.parametrize("workers", [1, 2])
def test_large_stage_inputs_run_as_several_bundles_and_lose_nothing(monkeypatch, workers):
    monkeypatch.setattr(bundles.SplittingBundleManager, "target_bytes", 64 << 10)
    monkeypatch.setattr(bundles, "VALUES_PER_PIECE", 500)
    n, keys = 20_000, 2_000
    p = runner.new_pipeline([f"--direct_num_workers={workers}"])
    rows = p | beam.Create(range(n)) | "Pad" >> beam.Map(lambda i: (i % keys, "v" * 40 + str(i)))
    grouped = (rows | beam.GroupByKey() | "AfterGroup" >> beam.ParDo(_CountBundles("grouped"))
               | beam.MapTuple(lambda k, vs: (k, sorted(vs))))
    # A Flatten of two collections is read from a materialized list buffer, not a grouping one.
    flat = ((rows, p | "More" >> beam.Create([(-1, "w" * 40)] * 5000)) | beam.Flatten()
            | "AfterFlatten" >> beam.ParDo(_CountBundles("flat")))
    expected = {k: sorted("v" * 40 + str(i) for i in range(k, n, keys)) for k in range(keys)}
    checked = Metrics.counter("check", "groups_right")
    _ = grouped | beam.MapTuple(lambda k, vs: checked.inc() if vs == expected[k] else None)
    _ = flat | "Count" >> beam.combiners.Count.Globally() | beam.Map(
        lambda c: Metrics.counter("check", "flat_rows").inc(c))
    counters = summary.counters_from_result(runner.run(p, "bounded bundles"))
    assert counters["check"]["groups_right"] == keys
    assert counters["check"]["flat_rows"] == n + 5000
    assert counters["rows"]["grouped"] == keys
    assert counters["bundles"]["grouped"] > 2 * workers  # cut, not one bundle per worker
    assert counters["bundles"]["flat"] > 2 * workers


def test_a_few_large_groups_are_cut_by_their_size_not_their_count(monkeypatch):
    # A shard's band-hash packs: few keys, few but large values (under VALUES_PER_PIECE).
    monkeypatch.setattr(bundles.SplittingBundleManager, "target_bytes", 64 << 10)
    p = runner.new_pipeline(["--direct_num_workers=1"])
    groups = (p | beam.Create([(k, "x" * 5000 + str(i)) for k in range(8) for i in range(50)])
              | beam.GroupByKey() | "AfterGroup" >> beam.ParDo(_CountBundles("big")))
    checked = Metrics.counter("check", "groups_whole")
    _ = groups | beam.MapTuple(lambda k, vs: checked.inc() if len(list(vs)) == 50 else None)
    counters = summary.counters_from_result(runner.run(p, "large groups"))
    assert counters["check"]["groups_whole"] == 8  # a group is never split
    assert counters["bundles"]["big"] == 8  # each ~250 KB group over the 64 KB target: one bundle each


def test_a_stage_with_empty_input_is_not_run_and_its_consumers_see_nothing():
    # As on Dataflow, where a stage with no input starts no bundle: the rounds of an unrolled loop
    # after it converged. Counts downstream of the empty stage (a global one emits its default) stay right.
    before = bundles.skipped["stages"]
    p = runner.new_pipeline(["--direct_num_workers=2"])
    nothing = (p | beam.Create(range(10)) | beam.Filter(lambda i: i > 100) | beam.Reshuffle()
               | "AfterEmpty" >> beam.ParDo(_CountBundles("empty")) | "Pairs" >> beam.Map(lambda i: (i, 1))
               | beam.GroupByKey())
    counted = nothing | "Count" >> beam.combiners.Count.Globally()
    _ = counted | beam.Map(lambda c: Metrics.counter("check", "count_is_zero").inc(int(c == 0)))
    counters = summary.counters_from_result(runner.run(p, "empty stages"))
    assert counters["check"]["count_is_zero"] == 1
    assert "empty" not in counters.get("bundles", {})  # its bundle never started
    assert bundles.skipped["stages"] > before
