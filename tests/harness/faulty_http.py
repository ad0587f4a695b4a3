"""A fault-injecting HTTP file server on 127.0.0.1, for tests of remote reads.

It behaves like Common Crawl's https endpoint under load: it answers 503 "Slow Down" with a
`Retry-After`, cuts responses mid-body (the headers promise the whole file, the connection closes
after part of it), and honours Range requests (or ignores them, answering 200 with the whole file).
Faults are drawn from a seeded RNG, so a test sees the same faults on every run.

    with FaultyServer(directory, cut_rate=0.5, cut_first=1, busy_first=1, retry_after="1") as server:
        url = server.url("crawl-00000.warc.gz")
        ... read it ...
        server.stats  # {"requests", "busy", "cuts", "ranges", "bytes"}

Bounded in time: handler sockets time out, and the server shuts itself down after `max_seconds`.
"""

from __future__ import annotations

import http.server
import os
import random
import threading
import time
from collections import Counter


class FaultyServer:
    def __init__(self, directory: str | os.PathLike, *, cut_rate: float = 0.0, busy_first: int = 0,
                 busy_rate: float = 0.0, retry_after: str | None = "1", honour_range: bool = True,
                 cut_at_byte: int | None = None, cut_first: int = 0, always_busy: bool = False, seed: int = 0, max_seconds: float = 120):
        self.directory = os.fspath(directory)
        self.cut_rate, self.busy_first, self.busy_rate = cut_rate, busy_first, busy_rate
        self.retry_after, self.honour_range, self.cut_at_byte = retry_after, honour_range, cut_at_byte
        self.always_busy, self.cut_first = always_busy, cut_first
        self.served_per_path: Counter = Counter()
        self.max_seconds = max_seconds
        self.rng = random.Random(seed)
        self.stats: Counter = Counter()
        self.requests_per_path: Counter = Counter()
        self.lock = threading.Lock()
        self._server = None
        self._timer = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{name}"

    def __enter__(self) -> FaultyServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 10  # a stuck client cannot hold a handler thread for long
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                owner._serve(self)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._timer = threading.Timer(self.max_seconds, self._server.shutdown)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, h: http.server.BaseHTTPRequestHandler) -> None:
        path = os.path.join(self.directory, h.path.lstrip("/").split("?", 1)[0])
        with self.lock:
            self.stats["requests"] += 1
            self.requests_per_path[h.path] += 1
            nth = self.requests_per_path[h.path]
            busy = self.always_busy or nth <= self.busy_first or self.rng.random() < self.busy_rate
            cut = self.rng.random() < self.cut_rate
            if not busy:
                self.served_per_path[h.path] += 1
                cut = cut or self.served_per_path[h.path] <= self.cut_first
            cut_fraction = self.rng.uniform(0.05, 0.95)
        if busy:
            with self.lock:
                self.stats["busy"] += 1
            body = b"Slow Down"
            h.send_response(503)
            if self.retry_after is not None:
                h.send_header("Retry-After", self.retry_after)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if not os.path.isfile(path):
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        with open(path, "rb") as f:  # test files: small
            data = f.read()
        start = 0
        ranged = h.headers.get("Range")
        if ranged and self.honour_range:
            start = int(ranged.removeprefix("bytes=").split("-", 1)[0])
            with self.lock:
                self.stats["ranges"] += 1
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            h.send_response(200)
        body = data[start:]
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Content-Type", "application/octet-stream")
        h.end_headers()
        if self.cut_at_byte is not None and start <= self.cut_at_byte < len(data):
            send = self.cut_at_byte - start
        elif cut and len(body) > 1:
            send = max(1, int(len(body) * cut_fraction))
        else:
            send = len(body)
        try:
            for i in range(0, send, 64 * 1024):
                h.wfile.write(body[i:min(send, i + 64 * 1024)])
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        with self.lock:
            self.stats["bytes"] += send
        if send < len(body):
            with self.lock:
                self.stats["cuts"] += 1
            time.sleep(0.01)
            h.close_connection = True
            h.connection.shutdown(2)
