"""Remote reads that survive the network: retries with backoff, `Retry-After`, and Range resume.

Common Crawl's https endpoint answers 503 "Slow Down" under load and drops long transfers; object
stores fail now and then too. `ResumableStream` reads a remote file front to back and, when a
request fails or a connection ends before the file's size, waits (the server's `Retry-After` when it
gives one, else exponential backoff with jitter) and asks again from the last byte received: a cut
connection costs a retry, never the rest of the file. Only after `RetryPolicy.attempts` failures in a
row without progress does a read fail, with `ReadFailed` saying why, at which byte of how many.

    stream = ResumableStream(url, http_opener(url), on_retry=lambda why: ...)
    stream.read(1 << 20)

A stream whose size is unknown (no Content-Length) and ends early cannot be told from a complete
one here; the formats above (gzip members, WARC records with their Content-Length) tell it.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "deepcorpus (https://github.com/deepcorpus; Common Crawl reader)"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # failures in a row, without a byte of progress, before giving up
    max_retries: int = 200  # failures in all, for one file
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    max_retry_after_s: float = 300.0  # a longer Retry-After is waited this long
    timeout_s: float = 60.0  # per connect and per read


DEFAULT_POLICY = RetryPolicy()


class ReadFailed(OSError):
    """A remote file that kept failing after the retries; `reason`, `position` and `size` say where."""

    def __init__(self, path: str, reason: str, position: int, size: int | None, retries: int):
        where = f"byte {position:,} of {size:,}" if size is not None else f"byte {position:,}"
        super().__init__(f"{reason} at {where}, after {retries} retries")
        self.path, self.reason, self.position, self.size, self.retries = path, reason, position, size, retries


class PermanentError(OSError):
    """A failure no retry can fix (HTTP 403, 400...): reported at once."""


class Truncated(OSError):
    """The stream ended before its known size (or inside a gzip member or a WARC record)."""


class _Retry(Exception):
    """A failure worth another request: why, and how long the server asked us to wait."""

    def __init__(self, reason: str, wait_s: float | None = None):
        super().__init__(reason)
        self.reason, self.wait_s = reason, wait_s


Opener = Callable[[int], tuple[BinaryIO, int | None]]  # offset -> (stream from there, file size if known)


class ResumableStream(io.RawIOBase):
    """A sequential, read-only stream over `open_at`, resumed at the current offset after failures."""

    def __init__(self, path: str, open_at: Opener, *, policy: RetryPolicy = DEFAULT_POLICY,
                 on_retry: Callable[[str], None] | None = None, sleep: Callable[[float], None] = time.sleep):
        super().__init__()
        self.path = path
        self._open_at = open_at
        self.policy = policy
        self._on_retry = on_retry
        self._sleep = sleep
        self._stream: BinaryIO | None = None
        self.position = 0
        self.size: int | None = None
        self.retries = 0
        self._streak = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return self.readall()
        while True:
            try:
                if self._stream is None:
                    self._stream, size = self._open_at(self.position)
                    if size is not None:
                        self.size = size
                if self.size is not None and self.position >= self.size:
                    return b""
                data = self._stream.read(n)
            except _Retry as e:
                self._failed(e.reason, e.wait_s)
                continue
            except (FileNotFoundError, PermanentError):
                raise
            except (OSError, http.client.HTTPException) as e:  # TimeoutError is an OSError
                self._failed(f"{type(e).__name__}: {e}".rstrip(": "), None)
                continue
            if data:
                self.position += len(data)
                self._streak = 0
                return data
            if self.size is not None and self.position < self.size:
                self._failed("connection closed early", None)
                continue
            return b""

    def readall(self) -> bytes:
        chunks = []
        while True:
            data = self.read(1 << 20)
            if not data:
                return b"".join(chunks)
            chunks.append(data)

    def _failed(self, reason: str, wait_s: float | None) -> None:
        self._drop()
        self._streak += 1
        if self._streak > self.policy.attempts or self.retries >= self.policy.max_retries:
            raise ReadFailed(self.path, reason, self.position, self.size, self.retries)
        self.retries += 1
        if self._on_retry is not None:
            self._on_retry(reason)
        if wait_s is None:
            backoff = min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (self._streak - 1))
            wait_s = backoff * random.uniform(0.5, 1.0)
        self._sleep(min(wait_s, self.policy.max_retry_after_s))

    def _drop(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped anyway
                pass
            self._stream = None

    def close(self) -> None:
        self._drop()
        super().close()


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _skip(stream: BinaryIO, n: int) -> None:
    while n > 0:
        chunk = stream.read(min(n, 1 << 20))
        if not chunk:
            raise _Retry("connection closed while skipping to the resume offset")
        n -= len(chunk)


def http_opener(url: str, timeout_s: float = DEFAULT_POLICY.timeout_s) -> Opener:
    """GET `url` from an offset (a Range request; a server that ignores Range is skipped ahead)."""

    def open_at(offset: int):
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=timeout_s)  # noqa: S310 - user-given data URL
        except urllib.error.HTTPError as e:
            wait = retry_after(e.headers.get("Retry-After")) if e.headers else None
            e.close()
            if e.code in RETRY_STATUS:
                raise _Retry(f"HTTP {e.code}", wait) from None
            if e.code == 404:
                raise FileNotFoundError(f"{url}: HTTP 404") from None
            if e.code == 416 and offset:
                return io.BytesIO(b""), offset  # nothing after the offset: the file ended there
            raise PermanentError(f"{url}: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise _Retry(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
        length = response.headers.get("Content-Length")
        if response.status == 206:
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            start = response.headers.get("Content-Range", "").removeprefix("bytes ").partition("-")[0]
            if start.strip().isdigit() and int(start) != offset:
                response.close()
                raise _Retry(f"server resumed at byte {start}, not {offset}")
            size = int(total) if total.isdigit() else (offset + int(length) if length and length.isdigit() else None)
            return response, size
        if offset:  # 200 to a Range request: the whole file again
            _skip(response, offset)
        return response, (int(length) if length and length.isdigit() else None)

    return open_at


def file_opener(fs, path: str, buffer_bytes: int = 8 << 20) -> Opener:
    """A pyarrow filesystem's file (gs://, s3://) from an offset: a seekable handle, seeked, read
    through a buffer (each read of the handle is one ranged request)."""
    import pyarrow as pa

    def open_at(offset: int):
        try:
            raw = fs.open_input_file(path)
            size = raw.size()
            if offset:
                raw.seek(offset)
            f = pa.BufferedInputStream(raw, buffer_bytes)
        except FileNotFoundError:
            raise
        except OSError as e:
            if "not found" in str(e).lower() or "does not exist" in str(e).lower():
                raise FileNotFoundError(f"{path}: {e}") from None
            raise _Retry(f"{type(e).__name__}: {e}") from None
        return f, size

    return open_at
