"""Stream HTML pages (WARC) or plain texts (WET) out of a crawl file, record by record, with FastWARC.

Files open through `deepcorpus.core.storage` (local, gs://, s3:// via pyarrow; https:// streamed), so the
same code reads Common Crawl on a laptop and on Dataflow workers; FastWARC detects gzip, zstd and
lz4 itself. A record that cannot be parsed or decoded is counted and skipped; a file that breaks
mid-stream is counted, logged with its path, and ends without failing the run.

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

log = logging.getLogger(__name__)

MAX_PAYLOAD = 4 * 1024 * 1024  # bigger "pages" are binaries or dumps, never useful text
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
HTML_TYPES = ("text/html", "application/xhtml")

Count = Callable[[str, int], None]


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


class _Positioned:
    """A sequential stream that also answers tell(), which FastWARC asks of Python streams."""

    def __init__(self, raw):
        self.raw = raw
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        self.raw.close()

    @property
    def closed(self) -> bool:
        return bool(getattr(self.raw, "closed", False))


def open_crawl_file(path: str):
    """A readable stream for FastWARC: local files go to FastWARC's own reader, the rest stream."""
    if not (storage.is_remote(path) or storage.is_http(path)):
        if not storage.exists(path):
            raise OSError("no such file")
        return path
    return _Positioned(storage.open_read(path))


def iter_pages(path: str, count: Count = _no_count,
               on_error: Callable[[str, str], None] | None = None) -> Iterator[dict]:
    """Dicts with id, url, crawl_date, html (or text for WET), encoding, source_file.

    `on_error(path, message)` hears about a file that could not be opened or broke mid-stream."""
    try:
        stream = open_crawl_file(path)
    except OSError as e:
        count("corrupt_files", 1)
        log.warning("%s: cannot open (%s); skipped", path, e)
        if on_error:
            on_error(path, f"cannot open ({e})")
        return
    count("files", 1)
    types = WarcRecordType.response | WarcRecordType.conversion
    record = None
    try:
        for record in ArchiveIterator(stream, record_types=types, parse_http=True, fsspec_args=False):
            count("records", 1)
            try:
                page = _page(record, path, count)
            except (UnicodeError, ValueError, OSError, AttributeError) as e:
                count("corrupt_records", 1)
                log.debug("%s: bad record %s (%s)", path, record.record_id, e)
                continue
            if page is not None:
                yield page
    except GeneratorExit:
        raise
    except BaseException as e:  # FastWARC raises (or panics) on a garbled stream: the rest of the file is lost
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        count("corrupt_files", 1)
        where = f" after record {record.record_id}" if record is not None else ""
        log.warning("%s: unreadable%s (%s); the rest of the file was skipped", path, where, e)
        if on_error:
            on_error(path, f"unreadable{where} ({e}); the rest of the file was skipped")
    finally:
        if not isinstance(stream, str):
            stream.close()


def _page(record, path: str, count: Count) -> dict | None:
    url = record.headers.get("WARC-Target-URI")
    date = record.headers.get("WARC-Date", "")
    base = {"id": _uuid(record.record_id), "url": url, "crawl_date": date, "source_file": path}
    if not url:
        count("corrupt_records", 1)
        return None
    if record.record_type == WarcRecordType.conversion:  # WET: the text is already extracted
        text = record.reader.read().decode("utf-8", "replace")
        count("wet", 1)
        return {**base, "html": None, "text": text, "encoding": "utf-8"}
    if record.http_headers is None:
        count("corrupt_records", 1)
        return None
    ctype = record.http_headers.get("Content-Type", "") or ""
    if not ctype.lower().startswith(HTML_TYPES):
        count("skipped_not_html", 1)
        return None
    if record.http_headers.status_code != 200:
        count("skipped_status", 1)
        return None
    payload = record.reader.read()
    if len(payload) > MAX_PAYLOAD:
        count("skipped_too_large", 1)
        return None
    html, encoding = _decode(payload, ctype)
    count("html", 1)
    return {**base, "html": html, "text": None, "encoding": encoding}
