"""Paths: local globs, https:// streamed reads (against a loopback server), atomic writes."""



from deepcorpus.core import storage


def test_https_paths_stream_through_urllib(http_root):
    root, base = http_root
    (root / "crawl.warc.gz").write_bytes(b"WARC/1.0 pretend bytes" * 100)
    url = f"{base}/crawl.warc.gz"
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
