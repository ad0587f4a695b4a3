"""Reading crawl files: HTML responses only, charsets honoured, broken records and files counted."""

import gzip
import os

import pytest

from deepcorpus import samples
from deepcorpus.samples.make_crawl import http_response, warc_record
from pipelines.math.warc import iter_pages

HTML = "<html><body><p>Théorème: $a^2+b^2=c^2$.</p></body></html>"


def counted(path):
    counts = {}

    def count(name, n=1):
        counts[name] = counts.get(name, 0) + n

    return list(iter_pages(path, count)), counts


def write(path, *records):
    with open(path, "wb") as f:
        f.write(b"".join(records))
    return str(path)


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


def test_truncated_record_is_counted_and_skipped(tmp_path):
    good = response("https://x.org/1", HTML.encode())
    broken = response("https://x.org/2", HTML.encode() * 50)
    path = write(tmp_path / "t.warc.gz", good, broken[: len(broken) // 2])
    pages, counts = counted(path)
    assert [p["url"] for p in pages] == ["https://x.org/1"]
    assert counts["corrupt_records"] == 1


def test_garbled_file_is_reported_not_fatal(tmp_path, caplog):
    good = response("https://x.org/1", HTML.encode())
    path = write(tmp_path / "g.warc.gz", good, b"not gzip at all\r\n" * 3, response("https://x.org/3", HTML.encode()))
    pages, counts = counted(path)
    assert [p["url"] for p in pages] == ["https://x.org/1"]
    assert counts["corrupt_files"] == 1
    assert "g.warc.gz: unreadable" in caplog.text


def test_missing_file_is_counted(tmp_path):
    pages, counts = counted(str(tmp_path / "nope.warc.gz"))
    assert pages == [] and counts["corrupt_files"] == 1


def test_zstd_warc(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    raw = gzip.decompress(response("https://x.org/z", HTML.encode()))
    path = tmp_path / "z.warc.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(raw))
    pages, _ = counted(str(path))
    assert [p["url"] for p in pages] == ["https://x.org/z"]


def test_bundled_crawl_reads_every_page():
    total = 0
    for name in sorted(os.listdir(samples.path("crawl"))):
        pages, counts = counted(samples.path("crawl", name))
        total += len(pages)
        assert counts.get("corrupt_files", 0) == 0
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
