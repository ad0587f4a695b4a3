"""Reading crawl files: HTML responses only, charsets honoured; a cut file is `truncated`, garbage is
`corrupt`, a missing file `failed`, each counted and reported with the records read before it."""

import gzip
import os
import zlib

import pytest
from isal import isal_zlib

from deepcorpus import samples
from deepcorpus.samples.make_crawl import http_response, warc_record
from pipelines.math import warc
from pipelines.math.warc import iter_pages

HTML = "<html><body><p>Théorème: $a^2+b^2=c^2$.</p></body></html>"


def counted(path, errors=None):
    counts = {}

    def count(name, n=1):
        counts[name] = counts.get(name, 0) + n

    return list(iter_pages(path, count, errors.append if errors is not None else None)), counts


def write(path, *records):
    with open(path, "wb") as f:
        f.write(b"".join(records))
    return str(path)


@pytest.fixture(params=["isal", "zlib"])
def inflater(request, monkeypatch):
    """Each gzip test runs with ISA-L (the default) and with zlib (the fallback when isal cannot be
    imported): a cut member must be `truncated` and garbage `corrupt` with either."""
    monkeypatch.setattr(warc, "_inflater", {"isal": isal_zlib.decompressobj, "zlib": zlib.decompressobj}[request.param])
    return request.param


def test_isal_is_the_default_inflater():
    assert warc._inflater is isal_zlib.decompressobj


def response(url, body: bytes, ctype="text/html; charset=utf-8"):
    return warc_record("response", url, "2024-01-02T03:04:05Z", http_response(body, ctype),
                       {"Content-Type": "application/http; msgtype=response"})


def test_reads_html_responses_with_url_date_and_encoding(tmp_path):
    path = write(tmp_path / "a.warc.gz",
                 warc_record("warcinfo", None, "2024-01-01T00:00:00Z", b"software: test\r\n"),
                 warc_record("request", "https://x.org/p", "2024-01-02T03:04:05Z", b"GET /p HTTP/1.1\r\n\r\n"),
                 response("https://x.org/p", HTML.encode("utf-8")),
                 response("https://x.org/logo.png", b"\x89PNG", "image/png"))
    pages, counts = counted(path)
    assert len(pages) == 1
    page = pages[0]
    assert page["url"] == "https://x.org/p" and page["crawl_date"] == "2024-01-02T03:04:05Z"
    assert "Théorème" in page["html"] and page["encoding"] == "utf-8"
    assert counts["skipped_not_html"] == 1 and counts["html"] == 1


def test_declared_gbk_charset_is_decoded(tmp_path):
    body = "<html><body><p>已知函数 $f(x)=x^2$</p></body></html>".encode("gbk")
    path = write(tmp_path / "zh.warc.gz", response("https://x.cn/1.html", body, "text/html; charset=GBK"))
    (page,), _ = counted(path)
    assert "已知函数" in page["html"] and page["encoding"] == "gbk"


def test_undeclared_charset_is_detected(tmp_path):
    path = write(tmp_path / "d.warc.gz", response("https://x.org/d", HTML.encode("utf-8"), "text/html"))
    (page,), _ = counted(path)
    assert "Théorème" in page["html"]


def test_a_file_cut_inside_a_gzip_member_is_truncated_not_a_clean_end(tmp_path, inflater):
    good = response("https://x.org/1", HTML.encode())
    broken = response("https://x.org/2", HTML.encode() * 50)
    errors = []
    pages, counts = counted(write(tmp_path / "t.warc.gz", good, broken[: len(broken) // 2]), errors)
    assert [p["url"] for p in pages] == ["https://x.org/1"]
    assert counts["truncated_files"] == 1 and "files_read" not in counts
    assert errors[0]["kind"] == "truncated" and errors[0]["records_read"] == 1 and "gzip member 2" in errors[0]["error"]
    # only the trailer missing: every record is there, the file is still reported as cut
    errors = []
    pages, counts = counted(write(tmp_path / "u.warc.gz", good, broken[:-4]), errors)
    assert len(pages) == 2 and counts["truncated_files"] == 1 and errors[0]["records_read"] == 2


def test_a_member_cut_anywhere_is_truncated(tmp_path, inflater):
    """Every cut of the last member (its header, its deflate data, its CRC and size trailer) reads as
    `truncated`, never as a clean end nor as `corrupt`, and the record before it is kept."""
    good = response("https://x.org/1", HTML.encode())
    broken = response("https://x.org/2", HTML.encode() * 50)
    cuts = sorted({*range(1, 20), *range(20, len(broken) - 20, 37), *range(len(broken) - 20, len(broken))})
    for cut in cuts:
        errors = []
        pages, counts = counted(write(tmp_path / "c.warc.gz", good, broken[:cut]), errors)
        assert [e["kind"] for e in errors] == ["truncated"], cut
        assert pages[0]["url"] == "https://x.org/1" and "corrupt_files" not in counts, cut


def test_the_bundled_crawl_cut_in_half_is_reported_with_the_records_read(tmp_path, inflater):
    data = open(samples.path("crawl", "crawl-00000.warc.gz"), "rb").read()
    full, _ = counted(samples.path("crawl", "crawl-00000.warc.gz"))
    errors = []
    half, counts = counted(write(tmp_path / "half.warc.gz", data[: len(data) // 2]), errors)
    assert 0 < len(half) < len(full) and [p["id"] for p in half] == [p["id"] for p in full[: len(half)]]
    assert errors == [{"file": str(tmp_path / "half.warc.gz"), "kind": "truncated", "error": errors[0]["error"],
                       "records_read": len(half), "bytes_read": len(data) // 2}]


def test_an_uncompressed_file_ending_inside_a_record_is_truncated(tmp_path):
    raw = gzip.decompress(response("https://x.org/1", HTML.encode())) + \
        gzip.decompress(response("https://x.org/2", HTML.encode() * 50))
    errors = []
    pages, counts = counted(write(tmp_path / "t.warc", raw[:-100]), errors)
    assert [p["url"] for p in pages] == ["https://x.org/1"]
    assert counts["truncated_records"] == 1 and counts["records"] == 2 and errors[0]["kind"] == "truncated"


def test_garbled_file_is_reported_not_fatal(tmp_path, inflater, caplog):
    good = response("https://x.org/1", HTML.encode())
    errors = []
    path = write(tmp_path / "g.warc.gz", good, b"not gzip at all\r\n" * 3, response("https://x.org/3", HTML.encode()))
    pages, counts = counted(path, errors)
    assert [p["url"] for p in pages] == ["https://x.org/1"]
    assert counts["corrupt_files"] == 1 and errors[0]["kind"] == "corrupt" and errors[0]["records_read"] == 1
    assert "g.warc.gz: not gzip data" in caplog.text
    plain = write(tmp_path / "p.warc", gzip.decompress(good), b"not a WARC header\r\n\r\n")
    pages, counts = counted(plain, errors)
    assert len(pages) == 1 and counts["corrupt_files"] == 1 and "unreadable after record" in errors[-1]["error"]


def test_missing_file_is_counted(tmp_path):
    errors = []
    pages, counts = counted(str(tmp_path / "nope.warc.gz"), errors)
    assert pages == [] and counts["failed_files"] == 1 and errors[0]["kind"] == "failed"


def test_zstd_warc(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    raw = gzip.decompress(response("https://x.org/z", HTML.encode()))
    path = tmp_path / "z.warc.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(raw))
    pages, _ = counted(str(path))
    assert [p["url"] for p in pages] == ["https://x.org/z"]
    cut = tmp_path / "cut.warc.zst"
    cut.write_bytes(path.read_bytes()[:-6])
    errors = []
    assert counted(str(cut), errors)[1]["truncated_files"] == 1 and "zstd member" in errors[0]["error"]


def test_bundled_crawl_reads_every_page(inflater):
    total = 0
    for name in sorted(os.listdir(samples.path("crawl"))):
        pages, counts = counted(samples.path("crawl", name))
        total += len(pages)
        assert counts["files_read"] == 1 and counts["records"] == counts["html"] + counts.get("skipped_not_html", 0)
    assert total >= 300


def test_http_crawl_files_stream(http_root):
    root, url = http_root
    write(root / "h.warc.gz", response("https://x.org/h", HTML.encode()), response("https://x.org/i", HTML.encode()))
    pages, counts = counted(f"{url}/h.warc.gz")
    assert [p["url"] for p in pages] == ["https://x.org/h", "https://x.org/i"]
    assert counts["files"] == 1


def test_wet_conversion_records_carry_text(tmp_path):
    text = b"Plain text from a WET file with $x^2$ in it."
    path = write(tmp_path / "a.warc.wet.gz", warc_record("conversion", "https://x.org/w", "2024-01-01T00:00:00Z",
                                                        text, {"Content-Type": "text/plain"}))
    (page,), counts = counted(path)
    assert page["html"] is None and page["text"] == text.decode() and counts["wet"] == 1
