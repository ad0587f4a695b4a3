"""Each Beam step of the math pipeline on its own, in a TestPipeline."""

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from classifiers.math_classifier import ClassifierConfig, train_classifier
from deepcorpus.samples.make_crawl import OTHER, http_response, warc_record
from pipelines.math import transforms as T
from pipelines.math.documents import page_to_doc

MATH = ("Let $x$ be a real number. We prove that $x^2 \\geq 0$ for every $x$, since the square of a "
        "number is never negative; equality holds exactly when $x = 0$.")
RECIPE = "Whisk the eggs with the sugar until pale, then fold in the flour and bake for twenty minutes."


def pipeline():
    return BeamTestPipeline(runner="FnApiRunner")


def row(id, text, url="https://a.org/q/1", score=None, n_formulas=0, tokens=10):
    doc, _ = page_to_doc({"id": id, "url": url, "html": None, "text": text, "crawl_date": "2024-01-01"}, 1)
    doc["extraction"]["n_formulas"] = n_formulas
    doc["score"] = score
    doc["token_count"] = tokens
    return doc


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("m") / "model.bin")
    pos = [MATH.replace("x", v) for v in "abcdefghijklmnopqrstuvw"]
    neg = [" ".join(s[i:] + s[:i]) for s in OTHER.values() for i in range(5)]
    train_classifier(pos, neg, path, ClassifierConfig(dim=32))
    return path


def test_read_and_extract(tmp_path):
    html = f"<html><body><main><p>{MATH}</p><p><script type='math/tex'>e^{{i\\pi}}</script></p></main></body></html>"
    path = tmp_path / "a.warc.gz"
    path.write_bytes(warc_record("response", "https://www.a.org/q/1", "2024-01-01T00:00:00Z",
                                 http_response(html.encode(), "text/html; charset=utf-8"),
                                 {"Content-Type": "application/http; msgtype=response"}))
    with pipeline() as p:
        docs = (p | beam.Create([str(path)]) | beam.ParDo(T.ReadCrawlFn()) | beam.BatchElements()
                | beam.ParDo(T.ExtractFn()) | beam.FlatMap(lambda batch: batch))
        assert_that(docs | beam.Map(lambda d: (d["domain"], "$e^{i\\pi}$" in d["text"], d["extraction"]["extractor"],
                                               d["token_count"] > 0, len(d["content_hash"]))),
                    equal_to([("a.org", True, "resiliparse+math", True, 32)]))


def test_extract_drops_short_pages():
    with pipeline() as p:
        docs = p | beam.Create([[{"id": "1", "url": "https://a.org/", "html": "<html><body><p>Hi</p></body></html>",
                                  "crawl_date": ""}]]) | beam.ParDo(T.ExtractFn(min_chars=100))
        assert_that(docs, equal_to([]))


def test_language_id_adds_columns_and_filters():
    rows = [row("en", MATH), row("zh", "已知函数在区间上单调递增，求参数的取值范围，并说明理由。")]
    with pipeline() as p:
        out = p | beam.Create([rows]) | beam.ParDo(T.LanguageIdFn(("zh",)))  # one batch
        assert_that(out | beam.Map(lambda r: (r["id"], r["language"])), equal_to([("zh", "zh")]))


def test_score_adds_the_score_and_counts_both_sides_of_the_threshold(model_path):
    rows = [row("m", MATH), row("r", RECIPE)]
    with pipeline() as p:
        scored = p | beam.Create([rows]) | beam.ParDo(T.ScoreFn(model_path, iteration=1, threshold=0.5))
        assert_that(scored | beam.Map(lambda r: (r["id"], r["score"] >= 0.5, r["iteration"])),
                    equal_to([("m", True, 1), ("r", False, 1)]))
    counters = {m.key.metric.name: m.committed for m in p.result.metrics().query()["counters"]}
    assert counters["in"] == 2 and counters["above_threshold"] == 1 and counters["below_threshold"] == 1


def test_token_budget_keeps_the_top_scores():
    rows = [row(str(i), "t", score=s, tokens=100) for i, s in enumerate([0.95, 0.85, 0.75, 0.65, 0.2])]
    hist = T.TokenHistogram()
    acc = hist.create_accumulator()
    for r in rows:
        acc = hist.add_input(acc, (r["score"], r["token_count"]))
    h = hist.extract_output(hist.merge_accumulators([acc, hist.create_accumulator()]))
    assert T.budget_cutoff(h, 0.5, None) == 0.5
    cutoff = T.budget_cutoff(h, 0.5, token_budget=250)  # room for two pages of 100 tokens
    assert 0.75 < cutoff <= 0.85
    assert sum(r["score"] >= cutoff for r in rows) == 2
    assert T.budget_cutoff(h, 0.5, token_budget=10_000) == 0.5


def test_sampling_by_hash_is_deterministic_and_at_the_rate():
    ids = [f"doc-{i}" for i in range(20_000)]
    h = [T.sample_hash(7, i) for i in ids]
    assert h == [T.sample_hash(7, i) for i in reversed(ids)][::-1] and all(0 <= x < 1 for x in h)
    assert h != [T.sample_hash(8, i) for i in ids]
    rate = T.sample_rate(1000, len(ids))
    assert 1000 <= sum(x < rate for x in h) < 1500  # enough, with a small margin the launcher trims
    assert T.sample_rate(10, 5) == 1.0 and T.sample_rate(10, 0) == 1.0


def test_training_roles_by_prefix_and_formulas_at_their_rates():
    rows = [row("q", "words only question", url="https://a.org/questions/1"),
            row("f", "has $x$", url="https://b.org/p", n_formulas=1),
            row("n", RECIPE, url="https://c.org/recipes/1")]
    with pipeline() as p:
        roles = p | beam.Create(rows) | beam.ParDo(T.SampleRolesFn(1, ("a.org/questions",), 1.0, 1.0))
        assert_that(roles | beam.Map(lambda kv: (kv[0], kv[1][0])), equal_to([("q", "positive"), ("n", "negative")]))
    with pipeline() as p:
        roles = p | beam.Create(rows) | beam.ParDo(T.SampleRolesFn(1, ("a.org/questions",), 0.0, 1.0))
        assert_that(roles | beam.Map(lambda kv: kv[0]), equal_to(["q"]))
    names = {m.key.metric.name: m.committed for m in p.result.metrics().query()["counters"]}
    assert names == {"sampled_positives": 1, "dropped_has_formulas": 1, "dropped_not_sampled": 1}


def test_domain_stats_wait_for_the_cutoff_as_score_bins():
    rows = [row("1", "t", url="https://a.org/q/1", score=0.9), row("2", "t", url="https://a.org/q/2", score=0.1),
            row("3", "t", url="https://a.org/q/3", score=0.6)]
    with pipeline() as p:
        bins = (p | beam.Create(rows) | beam.FlatMap(T.domain_stat_items, 0.5, 1)
                | beam.CombinePerKey(T.DomainBins()))
        at_threshold = bins | "AtThreshold" >> beam.Map(T.collected_at, 0.5, 0.5)
        above = bins | "AboveThreshold" >> beam.Map(T.collected_at, 0.8, 0.5)
        assert_that(at_threshold, equal_to([(("domain", "a.org"), (3, 2)), (("prefix", "a.org/q"), (3, 2))]),
                    label="threshold")
        assert_that(above, equal_to([(("domain", "a.org"), (3, 1)), (("prefix", "a.org/q"), (3, 1))]), label="cutoff")


def test_only_math_domains_reach_the_driver():
    entries = [("a.org", [("domain", "a.org", 10, 5), ("prefix", "a.org/q", 6, 5)]),
               ("b.org", [("domain", "b.org", 100, 1), ("prefix", "b.org/x", 100, 1)])]
    with pipeline() as p:
        out = p | beam.Create(entries) | beam.FlatMap(T.math_domain_stats, 0.10)
        assert_that(out, equal_to([("domain", "a.org", 10, 5), ("prefix", "a.org/q", 6, 5)]))


def test_broken_crawl_file_goes_to_the_errors_output(tmp_path):
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(b"this is not a WARC file at all\r\n" * 4)
    with pipeline() as p:
        read = p | beam.Create([str(path)]) | beam.ParDo(T.ReadCrawlFn()).with_outputs("errors", main="pages")
        assert_that(read.pages, equal_to([]), label="no pages")
        assert_that(read.errors | beam.Map(lambda e: e["file"]), equal_to([str(path)]), label="errors")
