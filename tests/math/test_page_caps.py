"""page_caps.py: a hostile page costs at most its caps (size, depth, time) and is counted."""

import time

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.math import transforms as T
from pipelines.math.extract_math import extract
from pipelines.math.page_caps import PageCaps, PageExtractor

TEXT = ("Let $x$ be a real number. We prove that $x^2 \\geq 0$ for every $x$, since the square of a "
        "number is never negative; equality holds exactly when $x = 0$. ")


def nested(depth: int, tag: str = "div") -> str:
    return "<html><body>" + f"<{tag}>" * depth + f"<p>{TEXT}</p>" + f"</{tag}>" * depth + "</body></html>"


def test_a_page_200000_levels_deep_is_dropped_in_well_under_a_second_of_work():
    pages = PageExtractor()
    start = time.process_time()
    outcome = pages.extract(nested(200_000, "i"))  # 1.4 MB, under the size cap
    assert outcome.extraction is None and outcome.reason == "too_deep"
    assert time.process_time() - start < 5  # uncapped, main-content extraction would run for hours
    ok = pages.extract(nested(20))
    assert ok.reason == "ok" and "x^2" in ok.extraction.text


def test_too_large_and_unparseable_are_reasons_not_crashes():
    pages = PageExtractor(PageCaps(max_chars=1000))
    assert pages.extract("<p>" + "a" * 2000 + "</p>").reason == "too_large"


def test_pages_with_many_tags_are_extracted_beside_the_process_under_a_time_cap():
    many = "<html><body><main>" + "".join(f"<p>{TEXT} {i}</p>" for i in range(300)) + "</main></body></html>"
    pages = PageExtractor(PageCaps(guard_tags=100))
    try:
        outcome = pages.extract(many)
        assert outcome.guarded and outcome.reason == "ok"
        assert outcome.extraction.text == extract(many).text  # the child extracts exactly as in-process
        # A page the child needs a good part of a second for, under a 10 ms cap: a cap of 0 s raced
        # with the child's reply on a loaded machine (the parent can look after the reply is in).
        huge = "<html><body><main>" + "".join(f"<p>{TEXT} {i}</p>" for i in range(60_000)) + "</main></body></html>"
        slow = PageExtractor(PageCaps(guard_tags=100, max_seconds=0.01, max_chars=len(huge)))
        try:
            assert slow.extract(huge).reason == "timeout"  # the child is killed...
            assert slow._child is None
        finally:
            slow.close()
        assert pages.extract(many).reason == "ok"  # ...and others go on
    finally:
        pages.close()


def test_extract_counts_what_the_caps_cut():
    pages = [[{"id": "deep", "url": "https://a.org/1", "html": nested(400), "crawl_date": ""},
              {"id": "big", "url": "https://a.org/2", "html": "<p>" + TEXT * 80 + "</p>", "crawl_date": ""},
              {"id": "ok", "url": "https://a.org/3", "html": nested(5), "crawl_date": ""}]]
    with BeamTestPipeline(runner="FnApiRunner") as p:
        docs = (p | beam.Create(pages) | beam.ParDo(T.ExtractFn(caps=PageCaps(max_chars=8000, max_depth=256)))
                | beam.FlatMap(lambda batch: batch))
        assert_that(docs | beam.Map(lambda d: d["id"]), equal_to(["ok"]))
    counters = {m.key.metric.name: m.committed for m in p.result.metrics().query()["counters"]
                if m.key.metric.namespace == "extract"}
    assert counters["in"] == 3 and counters["out"] == 1
    assert counters["dropped_too_deep"] == 1 and counters["dropped_too_large"] == 1


def test_the_caps_are_options_of_math_run():
    from deepcorpus.cli import build_parser
    from pipelines.math.config import config_from_args

    args, _ = build_parser().parse_known_args(["math", "run", "--input", "a.warc.gz", "--seed", "s.jsonl", "--output",
                                               "o", "--max-page-depth", "64", "--max-page-seconds", "5"])
    caps = config_from_args(args).caps
    assert (caps.max_depth, caps.max_seconds, caps.max_chars) == (64, 5.0, PageCaps().max_chars)
