"""Caps on the work one page may cost: size, DOM depth, time. A crawl holds hostile pages.

Resiliparse's main-content extraction is quadratic in the DOM's depth: a page nested 5,000 levels
deep takes 2 s, 20,000 levels 35 s, 200,000 would stall a worker for hours (real pages: depth 18
median, 51 at most in the real-page set). So around `extract_math.extract` (whose internals are the
extraction's own business) each page is checked, cheapest first:

- size: more than `max_chars` characters of HTML is skipped (`dropped_too_large`);
- depth: the page is parsed once (the tree is handed on to the extractor, so nothing is parsed
  twice) and a CSS selector of `max_depth` nested levels, matched by lexbor in C, says whether any
  element lies deeper (`dropped_too_deep`; ~0.3 ms on a 160 KB page);
- time: a page with more than `guard_tags` tags is extracted in a child process under `max_seconds`
  (`extract/guarded`; over time: `dropped_timeout`, the child killed and started again). Pages
  within the size and depth caps and under `guard_tags` tags cost milliseconds by construction;
  a stuck C extension cannot be interrupted inside the process, only beside it.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
from dataclasses import dataclass

from resiliparse.parse.html import HTMLTree

from pipelines.math.extract_math import Extraction, extract


@dataclass(frozen=True)
class PageCaps:
    max_chars: int = 2_000_000  # Common Crawl cuts payloads at 1 MiB; this is past any real page
    max_depth: int = 256
    guard_tags: int = 10_000
    max_seconds: float = 20.0


DEFAULT_CAPS = PageCaps()
START_TIMEOUT_S = 120.0


@dataclass
class Outcome:
    extraction: Extraction | None
    reason: str  # "ok", or why the page was dropped: too_large, too_deep, timeout, crashed, error_X
    guarded: bool = False


def _selector(depth: int) -> str:
    return " > ".join(["*"] * depth)


def too_deep(tree: HTMLTree, depth: int) -> bool:
    """Whether any element of the parsed page lies `depth` or more levels below the document."""
    return tree.document.query_selector(_selector(depth)) is not None


class PageExtractor:
    """`extract(html)` with the caps; one per DoFn (it may own a child process for big pages)."""

    def __init__(self, caps: PageCaps = DEFAULT_CAPS, main_content: bool = True):
        self.caps = caps
        self.main_content = main_content
        self._child: subprocess.Popen | None = None

    def extract(self, html: str) -> Outcome:
        caps = self.caps
        if len(html) > caps.max_chars:
            return Outcome(None, "too_large")
        try:
            tree = HTMLTree.parse(html)
            if tree.body is not None and too_deep(tree, caps.max_depth):
                return Outcome(None, "too_deep")
            if html.count("<") > caps.guard_tags:
                return self._guarded(html)
            return Outcome(extract(html, self.main_content, tree=tree), "ok")
        except Exception as e:  # a page Resiliparse cannot parse is dropped, never fatal
            return Outcome(None, f"error_{type(e).__name__}")

    # --- the child process for big pages ----------------------------------------------------

    def _start(self) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-m", "pipelines.math.page_caps", str(int(self.main_content))],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=_die_with_parent)
        if _receive(child.stdout, START_TIMEOUT_S) != "ready":  # start-up is not the page's time
            child.kill()
            child.wait()
            raise OSError("the extraction child did not start")
        return child

    def _guarded(self, html: str) -> Outcome:
        try:
            if self._child is None or self._child.poll() is not None:
                self._child = self._start()
            child = self._child
            _send(child.stdin, html)
            reply = _receive(child.stdout, self.caps.max_seconds)
        except (BrokenPipeError, EOFError, OSError):
            self._kill()
            return Outcome(None, "crashed", guarded=True)
        if reply is None:
            self._kill()
            return Outcome(None, "timeout", guarded=True)
        if isinstance(reply, str):
            return Outcome(None, reply, guarded=True)
        return Outcome(reply, "ok", guarded=True)

    def _kill(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child.wait()
            self._child = None

    def close(self) -> None:
        self._kill()


def _die_with_parent():
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _read_exact(fd: int, n: int, deadline_s: float | None) -> bytes | None:
    import time

    end = None if deadline_s is None else time.monotonic() + deadline_s
    chunks, got = [], 0
    while got < n:
        timeout = None if end is None else max(0.0, end - time.monotonic())
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(fd, n - got)
        if not chunk:
            raise EOFError("the extraction child exited")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _receive(stream, timeout_s: float):
    fd = stream.fileno()
    head = _read_exact(fd, 8, timeout_s)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack("<Q", head)[0], timeout_s)
    return None if body is None else pickle.loads(body)  # noqa: S301 - our own child's reply


def _child_main(main_content: bool) -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    _send(stdout, "ready")
    while True:
        head = stdin.read(8)
        if len(head) < 8:
            return
        html = pickle.loads(stdin.read(struct.unpack("<Q", head)[0]))  # noqa: S301 - from our parent
        try:
            reply = extract(html, main_content)
        except Exception as e:  # noqa: BLE001 - the parent counts it
            reply = f"error_{type(e).__name__}"
        _send(stdout, reply)


if __name__ == "__main__":
    _child_main(bool(int(sys.argv[1])))
