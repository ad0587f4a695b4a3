"""Reading crawl files over a network that fails: a fault-injecting server on 127.0.0.1 answers 503
with Retry-After and cuts responses mid-body; every record arrives, equal to a local read, and every
retry is counted. A file that keeps failing is reported with why and the records read before it."""

import shutil

import pytest

from deepcorpus import samples
from deepcorpus.core import resumable
from pipelines.math.warc import iter_pages
from tests.harness.faulty_http import FaultyServer

FAST = resumable.RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, timeout_s=10)


def read(path, policy=None):
    counts, errors = {}, []

    def count(name, n=1):
        counts[name] = counts.get(name, 0) + n

    pages = list(iter_pages(path, count, errors.append, policy=policy))
    return pages, counts, errors


@pytest.fixture
def crawl_dir(tmp_path):
    for name in ("crawl-00000.warc.gz", "crawl-00001.warc.gz"):
        shutil.copy(samples.path("crawl", name), tmp_path / name)
    return tmp_path


def test_cut_connections_and_slow_downs_lose_no_record(crawl_dir):
    with FaultyServer(crawl_dir, cut_rate=0.6, cut_first=1, busy_first=1, retry_after="1", seed=3) as server:
        for name in ("crawl-00000.warc.gz", "crawl-00001.warc.gz"):
            local, _, _ = read(str(crawl_dir / name))
            remote, counts, errors = read(server.url(name), FAST)
            assert errors == [] and counts["files_read"] == 1
            assert [(p["id"], p["html"]) for p in remote] == [(p["id"], p["html"]) for p in local]
        # every failed request was retried, the cut ones from the byte where they stopped (Range)
        assert server.stats["cuts"] >= 2 and server.stats["busy"] == 2 and server.stats["ranges"] >= 2


def test_every_retry_is_counted(crawl_dir):
    name = "crawl-00000.warc.gz"
    with FaultyServer(crawl_dir, cut_rate=0.7, cut_first=2, busy_rate=0.3, retry_after="0", seed=1) as server:
        _, counts, errors = read(server.url(name), FAST)
        assert errors == [] and counts["retries"] == server.stats["busy"] + server.stats["cuts"] > 0
        assert counts["bytes"] == (crawl_dir / name).stat().st_size


def test_retry_after_is_honoured_in_seconds_and_as_a_date(crawl_dir):
    import email.utils
    import time

    for header, expect in (("7", 7.0), (email.utils.formatdate(time.time() + 30, usegmt=True), 30.0)):
        waits = []
        with FaultyServer(crawl_dir, busy_first=2, retry_after=header) as server:
            url = server.url("crawl-00000.warc.gz")
            stream = resumable.ResumableStream(url, resumable.http_opener(url), policy=FAST, sleep=waits.append)
            assert stream.read(2) == b"\x1f\x8b"
            stream.close()
        assert len(waits) == 2 and all(abs(w - expect) < 2 for w in waits)


def test_a_server_that_ignores_range_is_read_from_the_start_and_skipped_ahead(crawl_dir):
    name = "crawl-00001.warc.gz"
    with FaultyServer(crawl_dir, cut_first=3, honour_range=False) as server:
        pages, counts, errors = read(server.url(name), FAST)
        assert errors == [] and server.stats["ranges"] == 0 and server.stats["cuts"] > 0
    assert [p["id"] for p in pages] == [p["id"] for p in read(str(crawl_dir / name))[0]]


def test_a_file_that_keeps_failing_is_reported_with_the_reason_and_the_records_read(crawl_dir):
    name = "crawl-00000.warc.gz"
    size = (crawl_dir / name).stat().st_size
    with FaultyServer(crawl_dir, cut_at_byte=size // 2) as server:  # every request stops at the same byte
        pages, counts, errors = read(server.url(name), FAST)
    (err,) = errors
    assert err["kind"] == "failed" and "connection closed early" in err["error"] and f"of {size:,}" in err["error"]
    assert err["records_read"] == len(pages) > 10 and counts["failed_files"] == 1
    assert counts["retries"] == FAST.attempts
    with FaultyServer(crawl_dir, always_busy=True, retry_after="0") as server:
        pages, counts, errors = read(server.url(name), FAST)
    assert pages == [] and errors[0]["kind"] == "failed" and "HTTP 503" in errors[0]["error"]
    with FaultyServer(crawl_dir) as server:
        _, counts, errors = read(server.url("missing.warc.gz"), FAST)
    assert errors[0]["kind"] == "failed" and "404" in errors[0]["error"] and counts["failed_files"] == 1
