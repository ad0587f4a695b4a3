"""WARC files of Common Crawl's size, served over HTTP from 127.0.0.1 and made as they are sent.

A hundred such files are ~130 GB: more than this machine's disk, and ~4 hours of writing. Every
file here is copies of the real-page set (benchmarks/real_pages.py) under URLs of their own, as
`crawl_bench --cc-files` writes them, so only the record headers differ from copy to copy: each
page's HTML is compressed once, and a record is sent as two gzip members, its headers (compressed
as they are sent) and that shared body. A `.warc.gz` may cut its members anywhere (readers
decompress member after member), so a reader reads the same records either way; Common Crawl's own
files have one member per record.

    with CrawlServer(set_dir, files=100) as server:
        server.listing(path)             # a warc.paths.gz naming the files, for `--crawl-base server.base`
        server.stats                     # {"requests", "ranges", "bytes"}

GET and HEAD, with a Content-Length (a file's size is counted once, by making its headers) and
Range requests, so the reader's retries resume as they would against Common Crawl. The server's
CPU (~1 s a file, compressing headers) is not the reader's.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import re
import threading
from collections import Counter
from collections.abc import Iterator

from benchmarks import real_pages
from deepcorpus.samples.make_crawl import http_response

CC_FILE_PAGES = 40_000  # one Common Crawl WARC file: ~1 GB compressed, ~35-45k responses
NAME = "CC-MAIN-like-{:05d}.warc.gz"
_PATH = re.compile(r"^/CC-MAIN-like-(\d{5})\.warc\.gz$")
_SEND_BYTES = 1 << 20
LEVEL = real_pages.COPY_LEVEL


class _Page:
    __slots__ = ("url", "size", "http_head", "digest", "member")

    def __init__(self, url: str, body: bytes):
        http = http_response(body, real_pages.content_type(body))
        self.url, self.size = url, len(body)
        self.http_head = http[: len(http) - len(body)]
        self.digest = hashlib.sha256(body).hexdigest()
        self.member = gzip.compress(body + b"\r\n\r\n", LEVEL, mtime=0)


class CrawlServer:
    def __init__(self, set_dir: str, files: int, pages_per_file: int = CC_FILE_PAGES):
        self.pages = [_Page(url, body) for src in real_pages.warc_files(set_dir)
                      for url, body in real_pages.iter_records(src)]
        self.files = files
        self.copies_per_file = -(-pages_per_file // len(self.pages))
        self.stats: Counter = Counter()
        self._sizes: dict[int, int] = {}
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def names(self) -> list[str]:
        return [NAME.format(n) for n in range(self.files)]

    def listing(self, path: str, files: int | None = None) -> str:
        """A Common Crawl style `warc.paths.gz` of the first `files` files (all by default), relative
        to `base`."""
        with gzip.open(path, "wt") as f:
            f.write("".join(name + "\n" for name in self.names()[:files]))
        return path

    def members(self, n: int) -> Iterator[bytes]:
        """File `n`, member by member: its warcinfo record, then each copy's records."""
        yield real_pages._warcinfo(NAME.format(n))
        for copy in range(n * self.copies_per_file, (n + 1) * self.copies_per_file):
            for page in self.pages:
                url = real_pages.copy_url(page.url, copy)
                yield gzip.compress(real_pages.response_head(url, page.size, copy, page.http_head, page.digest),
                                    LEVEL, mtime=0)
                yield page.member

    def size(self, n: int) -> int:
        with self._lock:
            known = self._sizes.get(n)
        if known is None:
            known = sum(map(len, self.members(n)))
            with self._lock:
                self._sizes[n] = known
        return known

    def __enter__(self) -> CrawlServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # A reader pauses between reads while its pages are extracted: a short socket timeout
            # would cut it off (and make it resume) for no fault of its own.
            timeout = 600
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                owner._serve(self, body=True)

            def do_HEAD(self):  # noqa: N802
                owner._serve(self, body=False)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, h: http.server.BaseHTTPRequestHandler, body: bool) -> None:
        m = _PATH.match(h.path.split("?", 1)[0])
        n = int(m.group(1)) if m else -1
        if not 0 <= n < self.files:
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        size, start = self.size(n), 0
        ranged = h.headers.get("Range")
        with self._lock:
            self.stats["requests"] += 1
        if ranged:
            start = int(ranged.removeprefix("bytes=").split("-", 1)[0])
            with self._lock:
                self.stats["ranges"] += 1
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        else:
            h.send_response(200)
        h.send_header("Content-Length", str(size - start))
        h.send_header("Content-Type", "application/octet-stream")
        h.end_headers()
        if not body:
            return
        skip, out, held, sent = start, [], 0, 0
        try:
            for member in self.members(n):
                if skip >= len(member):
                    skip -= len(member)
                    continue
                out.append(member[skip:] if skip else member)
                skip, held = 0, held + len(out[-1])
                if held >= _SEND_BYTES:
                    h.wfile.write(b"".join(out))
                    sent, out, held = sent + held, [], 0
            h.wfile.write(b"".join(out))
            sent += held
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the reader went away (or will resume with a Range request)
        with self._lock:
            self.stats["bytes"] += sent
