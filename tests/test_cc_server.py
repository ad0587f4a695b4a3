"""benchmarks/cc_server.py: CC-size files made as they are sent hold the records the written copies do."""

import gzip
import urllib.request

import pytest

from benchmarks import real_pages
from benchmarks.cc_server import CrawlServer
from pipelines.math import inputs
from pipelines.math.warc import iter_pages

SET = real_pages.locate()
pytestmark = pytest.mark.skipif(SET is None, reason="the real-page set is not here (benchmarks/real_pages.py)")


def _key(page: dict) -> tuple:
    return page["id"], page["url"], page["html"], page["encoding"]


@pytest.fixture(scope="module")
def server():
    with CrawlServer(SET, files=3, pages_per_file=2 * len(real_pages.manifest())) as s:  # 2 copies a file
        yield s


def test_a_served_file_holds_the_records_of_the_copies_written(server, tmp_path):
    served = list(iter_pages(server.base + "CC-MAIN-like-00001.warc.gz"))
    written = [p for path in real_pages.replicate(4, str(tmp_path), SET)[2 * 4:] for p in iter_pages(path)]
    assert len(served) == 2 * len(real_pages.manifest())
    assert sorted(map(_key, served)) == sorted(map(_key, written))


def test_files_are_distinct_and_sized_and_ranges_resume(server):
    url = server.base + "CC-MAIN-like-00002.warc.gz"
    head = urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=30)
    size = int(head.headers["Content-Length"])
    data = urllib.request.urlopen(url, timeout=30).read()
    assert len(data) == size == server.size(2)
    tail = urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=12345-"}), timeout=30)
    assert tail.status == 206 and tail.read() == data[12345:]
    other = {p["url"] for p in iter_pages(server.base + "CC-MAIN-like-00000.warc.gz")}
    assert other.isdisjoint(p["url"] for p in iter_pages(url))
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(server.base + "CC-MAIN-like-00003.warc.gz", timeout=30)
    assert e.value.code == 404


def test_its_listing_resolves_against_the_crawl_base(server, tmp_path):
    listing = server.listing(str(tmp_path / "warc.paths.gz"), 2)
    with gzip.open(listing, "rt") as f:
        assert f.read().split() == ["CC-MAIN-like-00000.warc.gz", "CC-MAIN-like-00001.warc.gz"]
    assert list(inputs.iter_listing(listing, server.base)) == [server.base + n for n in server.names()[:2]]
