"""Stream HTML pages (WARC) or plain texts (WET) out of a crawl file, record by record, with FastWARC.

Files open through `deepcorpus.core.storage` (local, gs://, s3:// via pyarrow; https:// streamed),
whose remote reads retry, honour Retry-After and resume with Range requests. Reading loses nothing
silently: every way a file can end badly is told apart, counted and reported through `on_error`
(`read_errors.jsonl` in the pipeline) with the records read before it:

- `corrupt`: a format error (not a WARC record, not gzip) - the rest of the file cannot be parsed;
- `truncated`: the file ends inside a gzip member, a zstd frame or a WARC record (a cut download, a
  partly copied file): neither FastWARC nor zlib's stream readers report this, so gzip and zstd are
  decompressed here, member by member (a gzip WARC is one member per record), and every record's
  length is checked against its Content-Length;
- `failed`: the file cannot be opened, or its reads kept failing after the retries.

A record that cannot be decoded is counted (`corrupt_records`) and skipped; the file goes on.

We do not use `resiliparse.beam.warcio.ReadWarcs`: it imports boto3 at module level (not a
dependency here), cannot read https://, and logs a broken file without counting it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator

from fastwarc.warc import ArchiveIterator, WarcRecordType
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from deepcorpus.core import storage
from deepcorpus.core.resumable import PermanentError, ReadFailed, Truncated

try:  # ISA-L's inflate: zlib's decompressobj API (eof, unused_data, an error on bad data), ~2x faster
    from isal.isal_zlib import decompressobj as _inflater
except ImportError:  # pragma: no cover - isal is a dependency; zlib keeps a broken install reading
    from zlib import decompressobj as _inflater

log = logging.getLogger(__name__)

MAX_PAYLOAD = 4 * 1024 * 1024  # bigger "pages" are binaries or dumps, never useful text
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
HTML_TYPES = ("text/html", "application/xhtml")
READ_BYTES = 1 << 20
GZIP_MAGIC, ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
CRAWL_SUFFIXES = (".warc", ".warc.gz", ".warc.zst", ".warc.lz4", ".wet", ".wet.gz", ".wet.zst", ".arc.gz")

Count = Callable[[str, int], None]
OnError = Callable[[dict], None]


class Corrupt(OSError):
    """A format error: what follows cannot be parsed as the format it claims to be."""


def _no_count(name: str, n: int = 1) -> None:
    pass


def _uuid(record_id: str) -> str:
    return record_id.strip("<>").removeprefix("urn:uuid:")


def _decode(payload: bytes, content_type: str) -> tuple[str, str]:
    """(text, encoding): the HTTP charset when it decodes cleanly, else Resiliparse's detection."""
    m = _CHARSET.search(content_type)
    if m:
        declared = m.group(1).lower()
        try:
            return payload.decode(declared), declared
        except (LookupError, UnicodeDecodeError):
            pass
    encoding = detect_encoding(payload)
    return bytes_to_str(payload, encoding), encoding


class Counted:
    """A raw stream that counts the bytes read from it (for the `bytes` counter and progress)."""

    def __init__(self, raw, on_bytes: Callable[[int], None] | None = None):
        self.raw = raw
        self.bytes = 0
        self._on_bytes = on_bytes

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.bytes += len(data)
        if self._on_bytes is not None and data:
            self._on_bytes(len(data))
        return data

    def close(self) -> None:
        self.raw.close()


class Members:
    """Decompressed bytes of a gzip (or zstd) stream of concatenated members (frames), raising
    `Truncated` when the input ends inside one and `Corrupt` on bytes that are not the format.

    FastWARC's own gzip reader and zlib's GzipFile-like readers end quietly at a cut member; this
    is the reason we decompress ourselves (about 50 us per record with zlib, half that with ISA-L,
    which reports a cut member the same way: `eof` stays false)."""

    def __init__(self, raw, first: bytes, codec: str):
        self.raw = raw
        self.codec = codec
        self._pending = first  # compressed bytes read ahead (the magic number)
        self._d = self._new()
        self._started = False  # the current member has consumed input
        self._chunks: list[bytes] = []  # decompressed, not yet handed out: served chunk by chunk, never joined
        self._next = 0  # the next of `_chunks` to serve
        self._buf = b""
        self._off = 0
        self._eof = False
        self._error: Corrupt | None = None  # raised once the good bytes before it are handed out
        self.position = 0  # decompressed bytes handed out
        self.members = 0

    def _new(self):
        if self.codec == "gzip":
            return _inflater(31)
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()

    def _decompress(self, data: bytes) -> bytes:
        try:
            return self._d.decompress(data)
        except Exception as e:  # zlib.error, isal's IsalError, zstandard.ZstdError
            raise Corrupt(f"not {self.codec} data after member {self.members} ({e})") from None

    def _fill(self) -> list[bytes]:
        if self._error is not None:
            raise self._error
        out = []
        while not out:
            data = self._pending or self.raw.read(READ_BYTES)
            self._pending = b""
            if not data:
                if self._started and not self._d.eof:
                    raise Truncated(f"the file ends inside {self.codec} member {self.members + 1} "
                                    f"(after {self.position:,} decompressed bytes)")
                self._eof = True
                return []
            while data:
                if self._d.eof:  # the previous member is complete: the next one starts here
                    self.members += 1
                    self._d = self._new()
                    self._started = False
                self._started = True
                try:
                    chunk = self._decompress(data)
                except Corrupt as e:
                    if not out:
                        raise
                    self._error = e
                    return out
                if chunk:
                    out.append(chunk)
                data = self._d.unused_data if self._d.eof else b""
            if self._d.eof:
                self._started = True  # a complete member; a next one may follow
        return out

    def read(self, n: int = -1) -> bytes:
        # At most one chunk per call (FastWARC asks 64 KiB at a time and takes short reads); a whole
        # chunk asked for is handed out as it is, no copy.
        while self._off >= len(self._buf):
            if self._next < len(self._chunks):
                self._buf, self._off = self._chunks[self._next], 0
                self._next += 1
                continue
            if self._eof:
                return b""
            self._chunks, self._next = self._fill(), 0
            if not self._chunks:
                return b""
        end = len(self._buf) if n is None or n < 0 else self._off + n
        data = self._buf if self._off == 0 and end >= len(self._buf) else self._buf[self._off:end]
        self._off += len(data)
        self.position += len(data)
        return data

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self.raw.close()


class _Plain:
    """An uncompressed (or lz4: FastWARC decodes it) stream with the bytes read ahead put back."""

    def __init__(self, raw, first: bytes):
        self.raw, self._first, self.position = raw, first, 0

    def read(self, n: int = -1) -> bytes:
        if self._first:
            data, self._first = (self._first, b"") if n < 0 or n >= len(self._first) else \
                (self._first[:n], self._first[n:])
        else:
            data = self.raw.read(n)
        self.position += len(data)
        return data

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self.raw.close()


def open_crawl_file(path: str, count: Count = _no_count, on_bytes: Callable[[int], None] | None = None,
                    policy=None):
    """(decompressed stream for FastWARC, the counting raw stream under it)."""
    if storage.is_remote(path) or storage.is_http(path):
        raw = storage.open_read(path, on_retry=lambda reason: count("retries", 1), policy=policy)
    else:
        if not storage.exists(path):
            raise FileNotFoundError(f"{path}: no such file")
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the wrapper
    counted = Counted(raw, on_bytes)
    first = b""
    while len(first) < 4:
        more = counted.read(4 - len(first))
        if not more:
            break
        first += more
    if first.startswith(GZIP_MAGIC):
        return Members(counted, first, "gzip"), counted
    if first.startswith(ZSTD_MAGIC):
        return Members(counted, first, "zstd"), counted
    return _Plain(counted, first), counted


def iter_pages(path: str, count: Count = _no_count, on_error: OnError | None = None,
               on_bytes: Callable[[int], None] | None = None, policy=None) -> Iterator[dict]:
    """Dicts with id, url, crawl_date, html (or text for WET), encoding, source_file.

    `on_error({"file", "kind", "error", "records_read", "bytes_read"})` hears of a file that could not
    be opened or did not end cleanly; `on_bytes(n)` of the compressed bytes as they are read;
    `policy` (a `resumable.RetryPolicy`) of remote reads."""
    records = 0
    counted = None

    def report(kind: str, message: str) -> None:
        count(f"{kind}_files", 1)
        where = f" after {records:,} records" if records else ""
        log.warning("%s: %s%s", path, message, where)
        if on_error:
            on_error({"file": path, "kind": kind, "error": message, "records_read": records,
                      "bytes_read": counted.bytes if counted is not None else 0})

    try:
        stream, counted = open_crawl_file(path, count, on_bytes, policy)
    except (FileNotFoundError, PermanentError, ReadFailed) as e:
        report("failed", f"cannot open ({e})")
        return
    except OSError as e:
        report("failed", f"cannot open ({type(e).__name__}: {e})")
        return
    count("files", 1)
    record_id = None
    try:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.any_type, parse_http=True,
                                      fsspec_args=False):
            record_id = record.record_id
            wanted = record.record_type in (WarcRecordType.response, WarcRecordType.conversion)
            page, outcome = None, None
            if wanted:
                try:
                    page, outcome = _page(record, path)
                except (UnicodeError, ValueError, AttributeError) as e:
                    outcome = "corrupt_records"
                    log.debug("%s: bad record %s (%s)", path, record.record_id, e)
            reader = record.reader
            reader.consume()
            if reader.tell() != record.content_length:  # the stream ended inside this record
                if wanted:
                    count("records", 1)
                    count("truncated_records", 1)
                raise Truncated(f"the file ends inside record {_uuid(record.record_id)} "
                                f"({reader.tell():,} of {record.content_length:,} bytes)")
            if wanted:
                count("records", 1)
                count(outcome, 1)
                records += 1
                if page is not None:
                    yield page
        count("files_read", 1)
    except GeneratorExit:
        raise
    except Truncated as e:
        report("truncated", str(e))
    except ReadFailed as e:
        report("failed", f"read failed ({e})")
    except Corrupt as e:
        report("corrupt", str(e))
    except OSError as e:  # FastWARC: "Invalid WARC header" and the like
        after = f" after record {_uuid(record_id)}" if record_id else ""
        report("corrupt", f"unreadable{after} ({e}); the rest of the file was skipped")
    finally:
        count("bytes", counted.bytes if counted is not None else 0)
        stream.close()


def _page(record, path: str) -> tuple[dict | None, str]:
    """(page or None, the counter it goes to: html, wet, skipped_*, corrupt_records)."""
    url = record.headers.get("WARC-Target-URI")
    date = record.headers.get("WARC-Date", "")
    base = {"id": _uuid(record.record_id), "url": url, "crawl_date": date, "source_file": path}
    if not url:
        return None, "corrupt_records"
    if record.record_type == WarcRecordType.conversion:  # WET: the text is already extracted
        text = record.reader.read().decode("utf-8", "replace")
        return {**base, "html": None, "text": text, "encoding": "utf-8"}, "wet"
    if record.http_headers is None:
        return None, "corrupt_records"
    ctype = record.http_headers.get("Content-Type", "") or ""
    if not ctype.lower().startswith(HTML_TYPES):
        return None, "skipped_not_html"
    if record.http_headers.status_code != 200:
        return None, "skipped_status"
    payload = record.reader.read(MAX_PAYLOAD + 1)
    if len(payload) > MAX_PAYLOAD:
        return None, "skipped_too_large"
    html, encoding = _decode(payload, ctype)
    return {**base, "html": html, "text": None, "encoding": encoding}, "html"
