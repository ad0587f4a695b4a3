"""The real-page set: ~300 saved public web pages (news, blogs, shops, Q&A and encyclopedia math) as WARC.

The pages come from public repositories that redistribute saved pages under a licence (extraction
benchmarks and test fixtures: scrapinghub's article and product benchmarks, mozilla/readability,
trafilatura, postlight/parser; Wikipedia / Stack Exchange / OpenStax pages under their content's
CC licence). `real_pages_manifest.jsonl` beside this file is the set's single source of truth: one
row per page with its URL, source repository, commit, path, git blob, sha256, size, language, the
math markups it holds, its licence and the attribution to give, and the WARC shard it lives in.

The WARC shards (9 MB) are committed in benchmarks/data/real_pages/ with a README giving each
source's licence (the manifest gives each page's attribution), so the benchmark's default and the
extraction tests run everywhere. A directory holding `real-0000K.warc.gz` is looked for (first hit wins) at

    $DEEPCORPUS_REAL_PAGES, benchmarks/data/real_pages/, ../shared/data/real_pages/

    python -m benchmarks.real_pages build --sources DIR [--output benchmarks/data/real_pages]
        # rebuild the shards from git clones of the source repositories under DIR
        # (DIR/owner+name or DIR/owner/name, bare or with a work tree); every page is checked by sha256
    python -m benchmarks.real_pages replicate --copies 16 --output /tmp/crawl16
        # N copies of every shard (distinct record ids, URLs made unique per copy): a crawl N times as big
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator

from deepcorpus.samples.make_crawl import http_response, warc_head, warc_record

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MANIFEST = os.path.join(HERE, "real_pages_manifest.jsonl")
DEFAULT_DIR = os.path.join(HERE, "data", "real_pages")
SHARED_DIR = os.path.join(os.path.dirname(ROOT), "shared", "data", "real_pages")
DATE = "2024-01-01T00:00:00Z"  # one crawl date for every record: the pages' own dates are in their repositories
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.I)
NS = uuid.UUID("6f1c1d2e-5a1b-4c55-9d2e-0b7d1f3c8a11")


def manifest(path: str = MANIFEST) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def shards(rows: list[dict]) -> list[str]:
    return sorted({r["shard"] for r in rows})


def locate() -> str | None:
    """The directory holding every shard the manifest names, or None when the set is not here."""
    want = shards(manifest())
    for d in (os.environ.get("DEEPCORPUS_REAL_PAGES"), DEFAULT_DIR, SHARED_DIR):
        if d and all(os.path.isfile(os.path.join(d, s)) for s in want):
            return d
    return None


def warc_files(directory: str, rows: list[dict] | None = None) -> list[str]:
    return [os.path.join(directory, s) for s in shards(rows if rows is not None else manifest())]


def _git_dir(sources: str, repo: str) -> str:
    owner, name = repo.split("/")
    for base in (os.path.join(sources, f"{owner}+{name}"), os.path.join(sources, owner, name)):
        for g in (os.path.join(base, "repo", ".git"), os.path.join(base, "repo"), os.path.join(base, ".git"), base):
            if os.path.isdir(os.path.join(g, "objects")):
                return g
    raise SystemExit(f"{sources}: no git clone of {repo} (looked for {owner}+{name} and {owner}/{name})")


def _page_bytes(git_dir: str, row: dict) -> bytes:
    data = subprocess.run(["git", "--git-dir", git_dir, "cat-file", "blob", row["blob"]], capture_output=True,
                          check=True).stdout
    if row["path"].endswith(".gz"):
        data = gzip.decompress(data)
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        raise SystemExit(f"{row['repo']} {row['path']}: content differs from the manifest's sha256")
    return data


def content_type(body: bytes) -> str:
    """The Content-Type a server would send: with the charset the page's own <meta> declares when the
    bytes decode with it (the saved pages lost their HTTP headers), else none, for the reader to detect."""
    m = _META_CHARSET.search(body[:65536])
    if m:
        charset = m.group(1).decode("ascii").lower()
        try:
            body.decode(charset)
            return f"text/html; charset={charset}"
        except (LookupError, UnicodeDecodeError):
            pass
    return "text/html"


# Copies for scale curves are compressed at zlib's default level: 1.8x as fast to write as level 9
# (a CC-size file took ~3 minutes), for 0.8% more bytes on these pages.
COPY_LEVEL = 6


def _response_headers(url: str, copy: int, digest: str) -> dict:
    # The payload type is declared as Common Crawl does (readers such as datatrove's skip records
    # that lack it unless libmagic recognises the bytes as HTML).
    return {"Content-Type": "application/http; msgtype=response", "WARC-Identified-Payload-Type": "text/html",
            "WARC-Payload-Digest": f"sha256:{digest}", "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(NS, f'{copy}|{url}')}>"}


def _response(url: str, body: bytes, copy: int, level: int = 9) -> bytes:
    return warc_record("response", url, DATE, http_response(body, content_type(body)),
                       _response_headers(url, copy, hashlib.sha256(body).hexdigest()), level)


def response_head(url: str, body_length: int, copy: int, http_head: bytes, digest: str) -> bytes:
    """The response record of `_response` up to the page's bytes: its WARC headers and `http_head`
    (`http_response(body, ...)` without the body); the body and the record's closing CRLF CRLF follow."""
    return warc_head("response", url, DATE, len(http_head) + body_length, _response_headers(url, copy, digest)) + http_head


def _warcinfo(name: str) -> bytes:
    return warc_record("warcinfo", None, DATE, f"software: deepcorpus benchmarks.real_pages\r\nisPartOf: {name}\r\n"
                       .encode(), {"Content-Type": "application/warc-fields"})


def build(sources: str, out_dir: str = DEFAULT_DIR, rows: list[dict] | None = None) -> list[str]:
    """Write the shards (and a copy of the manifest) into `out_dir` from clones of the source repositories."""
    rows = rows if rows is not None else manifest()
    os.makedirs(out_dir, exist_ok=True)
    gits = {repo: _git_dir(sources, repo) for repo in sorted({r["repo"] for r in rows})}
    paths = []
    for shard in shards(rows):
        path = os.path.join(out_dir, shard)
        with open(path + ".part", "wb") as f:
            f.write(_warcinfo(shard))
            for r in rows:
                if r["shard"] == shard:
                    f.write(_response(r["url"], _page_bytes(gits[r["repo"]], r), 0))
        os.replace(path + ".part", path)
        paths.append(path)
    with open(os.path.join(out_dir, os.path.basename(MANIFEST)), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(describe(rows))
    return paths


def describe(rows: list[dict]) -> str:
    """The set's README: what it is, where each part comes from and under which licence."""
    from collections import Counter

    by_source = Counter((r["repo"], r["commit"][:12], r["licence"]) for r in rows)
    formats = Counter(f for r in rows for f in r["math_formats"])
    lines = [
        "# Real-page set (deepcorpus benchmarks)", "",
        f"{len(rows)} saved public web pages, {sum(r['bytes'] for r in rows) / len(rows) / 1000:.0f} KB of HTML "
        f"each on average, in {len(shards(rows))} WARC files (`real-0000K.warc.gz`, one response record per page, "
        "Common Crawl's layout). Built by `python -m benchmarks.real_pages build` from the repositories below; "
        "`real_pages_manifest.jsonl` gives, per page: URL, source repository, commit, path, git blob, sha256, "
        "size, language, licence, attribution, shard, and the math markups and formulas deepcorpus extracts.", "",
        f"Pages with formulas: {sum(1 for r in rows if r['n_formulas'])}; markups found: "
        + ", ".join(f"{k} {v}" for k, v in formats.most_common()) + ".", "",
        "| pages | source repository | commit | licence |", "| --- | --- | --- | --- |",
    ]
    lines += [f"| {n} | github.com/{repo} | {commit} | {lic} |" for (repo, commit, lic), n in sorted(by_source.items())]
    lines += ["", "Pages taken from a repository without a licence of its own (ccprocessor/llm-webkit-mirror) are only "
              "those whose content carries one: Wikipedia, Stack Exchange and Stack Overflow (CC BY-SA), OpenStax CNX "
              "(CC BY); give the attribution in the manifest when you redistribute them.", ""]
    return "\n".join(lines)


def copy_url(url: str, copy: int) -> str:
    """The URL of page `url` in copy `copy` (copy 0 keeps it): distinct, so URL dedup keeps every copy."""
    if copy == 0:
        return url
    base, _, frag = url.partition("#")
    return f"{base}{'&' if '?' in base else '?'}copy={copy}" + (f"#{frag}" if frag else "")


def iter_records(warc_path: str) -> Iterator[tuple[str, bytes]]:
    """(url, HTML bytes) of each response in one shard."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    for rec in ArchiveIterator(open(warc_path, "rb"), record_types=WarcRecordType.response, parse_http=True):
        yield rec.headers.get("WARC-Target-URI"), rec.reader.read()


def replicate(copies: int, out_dir: str, set_dir: str | None = None, rows: list[dict] | None = None) -> list[str]:
    """`copies` x the shards into `out_dir` (real-cCCC-0000K.warc.gz): a crawl `copies` times as large,
    each copy's records with their own ids and URLs (the HTML is the same)."""
    set_dir = set_dir or locate()
    if set_dir is None:
        raise SystemExit("the real-page set is not here (see benchmarks/real_pages.py)")
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for c in range(copies):
        for src in warc_files(set_dir, rows):
            path = os.path.join(out_dir, f"real-c{c:04d}-{os.path.basename(src)[len('real-'):]}")
            with open(path, "wb") as f:
                f.write(_warcinfo(os.path.basename(path)))
                for url, body in iter_records(src):
                    f.write(_response(copy_url(url, c), body, c, COPY_LEVEL))
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write the WARC shards from clones of the source repositories")
    b.add_argument("--sources", required=True, help="directory of git clones (owner+name or owner/name)")
    b.add_argument("--output", default=DEFAULT_DIR)
    r = sub.add_parser("replicate", help="N copies of the set as WARC files (for scale curves)")
    r.add_argument("--copies", type=int, required=True)
    r.add_argument("--output", required=True)
    r.add_argument("--set", default=None, help="the set's directory (default: found as the module says)")
    sub.add_parser("where", help="print the set's directory (exit 1 if it is not here)")
    a = parser.parse_args(argv)
    if a.cmd == "build":
        for p in build(a.sources, a.output):
            print(p)
    elif a.cmd == "replicate":
        for p in replicate(a.copies, a.output, a.set):
            print(p)
    else:
        d = locate()
        print(d or "not here")
        return 0 if d else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
