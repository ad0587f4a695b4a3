"""Paths: local globs, https:// streamed reads (against a loopback server), atomic writes."""

import functools
import http.server
import threading

import pytest

from deepcorpus.core import storage


@pytest.fixture
def http_root(tmp_path):
    (tmp_path / "crawl.warc.gz").write_bytes(b"WARC/1.0 pretend bytes" * 100)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_https_paths_stream_through_urllib(http_root):
    url = f"{http_root}/crawl.warc.gz"
    assert storage.is_http(url) and storage.expand(url) == [url]
    with storage.open_read(url) as f:
        assert f.read(8) == b"WARC/1.0"
    assert storage.peek(url, 4) == b"WARC"


def test_local_globs_and_listing(tmp_path):
    for name in ("b.jsonl", "a.jsonl", "c.txt"):
        (tmp_path / name).write_text("x")
    assert storage.expand(str(tmp_path / "*.jsonl")) == [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    assert storage.expand(str(tmp_path / "missing.jsonl")) == []
    assert [storage.basename(p) for p in storage.listdir(str(tmp_path))] == ["a.jsonl", "b.jsonl", "c.txt"]


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "m.json"
    storage.write_bytes_atomic(str(target), b"{}")
    storage.write_bytes_atomic(str(target), b'{"a": 1}')
    assert target.read_bytes() == b'{"a": 1}'
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["m.json"]


def test_remote_paths_are_recognised_without_contacting_them():
    assert storage.is_remote("gs://bucket/x") and storage.is_remote("s3://bucket/x")
    assert storage.join("gs://bucket/a/", "b", "c") == "gs://bucket/a/b/c"
    assert storage.parent("gs://bucket/a/b") == "gs://bucket/a"
