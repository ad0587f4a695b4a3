"""The real-page set: its manifest names every page's source and licence; the builder and the
replicator write WARC files the math reader reads, each copy with its own record ids and URLs."""

import gzip
import hashlib
import re
import subprocess

import pytest

from benchmarks import real_pages
from pipelines.math.warc import iter_pages


def test_manifest_says_where_each_page_comes_from():
    rows = real_pages.manifest()
    assert 250 <= len(rows) <= 400
    assert 100_000 < sum(r["bytes"] for r in rows) / len(rows) < 250_000
    assert len({r["sha256"] for r in rows}) == len(rows)
    for r in rows:
        assert r["url"].startswith(("http://", "https://")) and re.fullmatch(r"[0-9a-f]{40}", r["commit"])
        assert r["repo"].count("/") == 1 and r["path"] and r["blob"] and r["licence"] and r["repo"] in r["attribution"]
    assert len(real_pages.shards(rows)) == 4
    assert sum(1 for r in rows if r["n_formulas"]) >= 10
    assert len({(r["lang"] or "?")[:2].lower() for r in rows}) >= 10


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def source(tmp_path):
    """A clone of a one-commit repository holding two saved pages (one gzipped), and its manifest."""
    repo = tmp_path / "src" / "owner+name"
    (repo / "pages").mkdir(parents=True)
    pages = {"pages/a.html": b"<html><head><meta charset='utf-8'><title>A</title></head><body><p>Prose about "
                             b"$x^2$ and more prose.</p></body></html>",
             "pages/b.html.gz": "<html><body><p>Zweite Seite über Mathe.</p></body></html>".encode("latin-1")}
    for path, data in pages.items():
        (repo / path).write_bytes(gzip.compress(data) if path.endswith(".gz") else data)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pages")
    commit = _git(repo, "rev-parse", "HEAD")
    rows = []
    for k, (path, data) in enumerate(pages.items()):
        rows.append({"url": f"https://example.org/{k}", "repo": "owner/name", "commit": commit, "path": path,
                     "blob": _git(repo, "rev-parse", f"HEAD:{path}"), "sha256": hashlib.sha256(data).hexdigest(),
                     "bytes": len(data), "licence": "MIT", "attribution": "x", "shard": f"real-{k:05d}.warc.gz",
                     "math_formats": [], "n_formulas": 0})
    return tmp_path / "src", rows, pages


def test_build_then_replicate(source, tmp_path):
    sources, rows, pages = source
    out = tmp_path / "set"
    paths = real_pages.build(str(sources), str(out), rows)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["real-00000.warc.gz", "real-00001.warc.gz"]
    read = [p for f in paths for p in iter_pages(f)]
    assert [p["url"] for p in read] == ["https://example.org/0", "https://example.org/1"]
    assert "$x^2$" in read[0]["html"] and "über" in read[1]["html"]  # charset from <meta>, else detected
    copies = real_pages.replicate(3, str(tmp_path / "x3"), str(out), rows)
    assert len(copies) == 6
    again = [p for f in copies for p in iter_pages(f)]
    assert len({p["id"] for p in again}) == len({p["url"] for p in again}) == 6
    assert sorted(p["html"] for p in again) == sorted([p["html"] for p in read] * 3)


def test_build_refuses_a_page_that_changed(source, tmp_path):
    sources, rows, _ = source
    rows[0]["sha256"] = "0" * 64
    with pytest.raises(SystemExit, match="differs"):
        real_pages.build(str(sources), str(tmp_path / "set"), rows)
