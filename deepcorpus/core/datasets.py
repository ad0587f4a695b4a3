"""Datasets on disk: a directory of zstd Parquet parts plus `_manifest.json`, committed last.

A write goes to a hidden temporary sibling (`.NAME.tmp-XXXX/`); `commit` moves it into place and
only then writes the manifest. A reader refuses a directory without a manifest, so a crash at any
point leaves either the previous dataset or nothing that looks whole.

Users also bring plain JSONL or Parquet files with a `text` column (and optional `id`, `url`):
`resolve_inputs` accepts both and says plainly what is wrong with anything else.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import io
import json
import os
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from deepcorpus.core import __version__, storage
from deepcorpus.core.contracts import CONTRACTS, TOKEN_SHARD, contract
from deepcorpus.core.errors import DatasetError, UserError

MANIFEST = "_manifest.json"
COMPRESSION = "zstd"
ROW_GROUP_ROWS = 8192


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def staging_path(final: str) -> str:
    """A hidden sibling of `final` to write into before the commit."""
    return storage.join(storage.parent(final), f".{storage.basename(final)}.tmp-{uuid.uuid4().hex[:8]}")


def code_version() -> str:
    """The package version plus the git commit it runs from, when there is one."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(
            ["git", "-C", here, "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        return f"{__version__}+g{sha}"
    except (OSError, subprocess.SubprocessError):
        return __version__


def fingerprint_files(paths: list[str]) -> dict[str, str]:
    """A cheap identity per input file (size and modification time), enough to notice a change."""
    out = {}
    for path in paths:
        if storage.is_http(path):
            out[path] = "url"
            continue
        h = hashlib.sha256(f"{storage.size(path)}:{storage.mtime_ns(path)}".encode()).hexdigest()
        out[path] = h[:16]
    return out


def parquet_files(path: str) -> list[str]:
    return [p for p in storage.listdir(path) if p.endswith(".parquet") and not storage.basename(p).startswith(".")]


# --- writing -----------------------------------------------------------------------------------


def write_part(table: pa.Table, path: str) -> None:
    with storage.open_write(path) as f:
        pq.write_table(table, f, compression=COMPRESSION, row_group_size=ROW_GROUP_ROWS)


def commit(
    staging: str,
    final: str,
    schema_name: str,
    *,
    command: list[str] | None,
    inputs: list[str] | None = None,
    extra: dict | None = None,
) -> dict:
    """Move the parts written under `staging` to `final` and write the manifest last.

    `command` is what the manifest records as the command that made the dataset: the command line
    as typed (the CLI passes it down), or None for a dataset written by code, not by a command."""
    spec = contract(schema_name)
    files = parquet_files(staging)
    row_count = 0
    byte_size = 0
    for f in files:
        with storage.open_random(f) as handle:  # only the footer is read
            byte_size += handle.size()
            row_count += pq.ParquetFile(handle).metadata.num_rows
    manifest = {
        "schema": schema_name,
        "schema_version": spec.version,
        "row_count": row_count,
        "byte_size": byte_size,
        "num_parts": len(files),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": list(command) if command is not None else None,
        "code_version": code_version(),
        "inputs": fingerprint_files(inputs or []),
    }
    manifest.update(extra or {})
    if storage.exists(final):
        # Replace the old dataset: its manifest goes first so it never looks whole half-deleted.
        old_manifest = storage.join(final, MANIFEST)
        if storage.exists(old_manifest):
            storage.remove_tree(old_manifest)
        storage.remove_tree(final)
    if storage.is_remote(final):
        storage.makedirs(final)
        for f in files:
            storage.move(f, storage.join(final, storage.basename(f)))
        storage.remove_tree(staging)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
        os.replace(staging, final)
    storage.write_bytes_atomic(storage.join(final, MANIFEST), json.dumps(manifest, indent=2).encode())
    return manifest


class DatasetWriter:
    """Write a dataset part by part from Python; commit on success, discard on error.

        with DatasetWriter("out/formal/corpus", "formal_proof", command=args.command_line) as w:
            w.write_rows(rows)
            w.extra["stats"] = {...}
    """

    def __init__(self, path: str, schema_name: str, *, schema: pa.Schema | None = None,
                 inputs: list[str] | None = None, rows_per_part: int = 100_000, command: list[str] | None = None):
        self.path = path
        self.command = command
        self.schema_name = schema_name
        self.schema = schema if schema is not None else contract(schema_name).schema
        self.inputs = inputs or []
        self.rows_per_part = rows_per_part
        self.extra: dict = {}
        self.staging = staging_path(path)
        self.manifest: dict | None = None
        self._parts = 0
        self._buffer: list[dict] = []

    def __enter__(self) -> DatasetWriter:
        storage.makedirs(self.staging)
        return self

    def write_rows(self, rows: list[dict]) -> None:
        self._buffer.extend(rows)
        while len(self._buffer) >= self.rows_per_part:
            chunk, self._buffer = self._buffer[: self.rows_per_part], self._buffer[self.rows_per_part :]
            self._write(chunk)

    def write_table(self, table: pa.Table) -> None:
        self._flush()
        write_part(table.cast(self.schema), storage.join(self.staging, part_name(self._parts)))
        self._parts += 1

    def _write(self, rows: list[dict]) -> None:
        from deepcorpus.core.contracts import conform

        write_part(conform(rows, self.schema), storage.join(self.staging, part_name(self._parts)))
        self._parts += 1

    def _flush(self) -> None:
        if self._buffer:
            self._write(self._buffer)
            self._buffer = []

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            storage.remove_tree(self.staging)
            return
        self._flush()
        if self._parts == 0:  # an empty dataset is still a dataset: one part with the schema
            self._write([])
        self.manifest = commit(self.staging, self.path, self.schema_name, command=self.command, inputs=self.inputs,
                               extra=self.extra)


# --- reading -----------------------------------------------------------------------------------


def read_manifest(path: str) -> dict:
    mpath = storage.join(path, MANIFEST)
    if not storage.exists(path):
        raise DatasetError(f"{path}: no such dataset")
    if not storage.exists(mpath):
        raise DatasetError(f"{path}: no {MANIFEST} (an unfinished write, or not a deepcorpus dataset)")
    try:
        manifest = json.loads(storage.read_bytes(mpath))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(f"{mpath}: malformed manifest ({e})") from None
    for key in ("schema", "schema_version", "row_count"):
        if key not in manifest:
            raise DatasetError(f"{mpath}: manifest lacks {key!r}")
    return manifest


@dataclass
class Dataset:
    """A committed dataset: its manifest and its Parquet parts."""

    path: str
    manifest: dict
    files: list[str] = field(default_factory=list)

    @property
    def schema_name(self) -> str:
        return self.manifest["schema"]

    @property
    def row_count(self) -> int:
        return int(self.manifest["row_count"])

    def read(self, columns: list[str] | None = None) -> pa.Table:
        tables = [read_parquet(f, columns) for f in self.files]
        return pa.concat_tables(tables) if tables else pa.table({})

    def iter_batches(self, columns: list[str] | None = None, batch_size: int = 1024) -> Iterator[pa.RecordBatch]:
        for f in self.files:
            yield from iter_parquet_batches(f, columns, batch_size)

    def iter_rows(self, columns: list[str] | None = None) -> Iterator[dict]:
        for batch in self.iter_batches(columns):
            yield from batch.to_pylist()


def read_parquet(path: str, columns: list[str] | None = None) -> pa.Table:
    try:
        if storage.is_remote(path):
            fs, p = storage.filesystem(path)
            return pq.read_table(p, filesystem=fs, columns=columns)
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None


def parquet_schema(path: str) -> pa.Schema:
    """A Parquet file's schema (local, gs:// or s3://), read from its footer alone."""
    try:
        with storage.open_random(path) as handle:
            return pq.read_schema(handle)
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None


def open_dataset(path: str, expect: str | tuple[str, ...] | None = None) -> Dataset:
    """Open a committed dataset, refusing unfinished writes and other schemas or versions."""
    manifest = read_manifest(path)
    name, version = manifest["schema"], manifest["schema_version"]
    if name not in CONTRACTS:
        raise DatasetError(f"{path}: unknown schema {name!r}")
    if version != CONTRACTS[name].version:
        raise DatasetError(
            f"{path}: schema {name} version {version}, but this deepcorpus reads version "
            f"{CONTRACTS[name].version}; rebuild it or use a matching deepcorpus"
        )
    if expect is not None:
        allowed = (expect,) if isinstance(expect, str) else expect
        if name not in allowed:
            raise DatasetError(f"{path}: a {name} dataset, but a {' or '.join(allowed)} dataset is needed here")
    return Dataset(path, manifest, parquet_files(path))


# --- inputs users bring --------------------------------------------------------------------------


@dataclass
class Source:
    """One input as given on the command line: a dataset, or plain JSONL/Parquet files."""

    spec: str
    kind: str  # "dataset", "jsonl" or "parquet"
    files: list[str]
    dataset: Dataset | None = None

    @property
    def schema_name(self) -> str | None:
        return self.dataset.schema_name if self.dataset else None


def _is_jsonl(path: str) -> bool:
    return path.endswith((".jsonl", ".jsonl.gz", ".json", ".ndjson"))


def resolve_input(spec: str, expect: str | tuple[str, ...] | None = None) -> Source:
    """Turn a path or glob into a Source, or raise a one-line UserError naming it."""
    if storage.is_dir(spec):
        if storage.exists(storage.join(spec, MANIFEST)):
            return Source(spec, "dataset", [], open_dataset(spec, expect))
        corpus = storage.join(spec, "corpus")  # a pipeline's run directory: its final dataset
        if storage.exists(storage.join(corpus, MANIFEST)):
            return Source(spec, "dataset", [], open_dataset(corpus, expect))
        if parquet_files(spec):
            raise DatasetError(f"{spec}: no {MANIFEST} (an unfinished write, or not a deepcorpus dataset)")
        raise UserError(f"{spec}: directory holds no dataset, JSONL or Parquet files")
    files = storage.expand(spec)
    if not files:
        raise UserError(f"{spec}: no such file")
    if all(f.endswith(".parquet") for f in files):
        for f in files:
            _check_parquet(f)
        return Source(spec, "parquet", files)
    if all(_is_jsonl(f) for f in files):
        for f in files:
            _check_jsonl(f)
        return Source(spec, "jsonl", files)
    bad = next(f for f in files if not (f.endswith(".parquet") or _is_jsonl(f)))
    raise UserError(f"{bad}: not a dataset, JSONL or Parquet file")


def resolve_inputs(specs: list[str], expect: str | tuple[str, ...] | None = None) -> list[Source]:
    if not specs:
        raise UserError("no input given")
    return [resolve_input(s, expect) for s in specs]


def _open_lines(path: str) -> io.BufferedReader:
    raw = io.BufferedReader(storage.open_read(path))
    # Local and cloud streams come decompressed already (Arrow detects .gz); https ones do not.
    if path.endswith(".gz") and raw.peek(2)[:2] == b"\x1f\x8b":
        raw = io.BufferedReader(gzip.GzipFile(fileobj=raw))
    return raw


def _numbered_jsonl(path: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; a UserError naming the file and line for a
    line that is not UTF-8, not JSON or not an object, and for a stream that breaks (a corrupt or
    cut .gz)."""
    lineno = 0
    try:
        with _open_lines(path) as f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise UserError(f"{path}:{lineno}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column "
                                    f"{e.start + 1})") from None
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line.rstrip("\r\n"))  # columns count within the line
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}:{lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
                if not isinstance(obj, dict):
                    raise UserError(f"{path}:{lineno}: expected a JSON object per line")
                yield lineno, obj
    except (OSError, EOFError, zlib.error, pa.ArrowException) as e:
        if isinstance(e, FileNotFoundError) and lineno == 0:
            raise UserError(f"{path}: no such file") from None
        raise UserError(f"{path}:{lineno + 1}: unreadable ({str(e).splitlines()[0] or type(e).__name__})") from None


def iter_jsonl(path: str) -> Iterator[dict]:
    for _, obj in _numbered_jsonl(path):
        yield obj


def check_text(value, path: str, line: int | None = None) -> None:
    """A document's `text` is a string (or missing); anything else is the input's error, named."""
    if value is not None and not isinstance(value, str):
        where = f"{path}:{line}" if line is not None else path
        raise UserError(f"{where}: 'text' is {type(value).__name__}, not a string")


def _check_jsonl(path: str) -> None:
    for lineno, obj in _numbered_jsonl(path):
        if "text" not in obj:
            raise UserError(f"{path}: JSONL rows have no 'text' field")
        check_text(obj["text"], path, lineno)
        return
    raise UserError(f"{path}: empty file")


def _check_parquet(path: str) -> None:
    schema = parquet_schema(path)
    if "text" not in schema.names:
        raise UserError(f"{path}: Parquet file has no 'text' column")
    kind = schema.field("text").type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        raise UserError(f"{path}: Parquet column 'text' is {kind}, not a string")


def iter_file_rows(path: str, kind: str, columns: list[str] | None = None) -> Iterator[dict]:
    """Rows of one JSONL or Parquet file, streamed; rows without an `id` get `FILE:N`. A row whose
    `text` is not a string, or a file that turns out corrupt, is a UserError naming it."""
    if kind == "jsonl":
        for i, (lineno, row) in enumerate(_numbered_jsonl(path)):
            check_text(row.get("text"), path, lineno)
            if row.get("id") is None:
                row["id"] = f"{storage.basename(path)}:{i}"
            yield {k: row.get(k) for k in columns} if columns else row
        return
    for i, row in enumerate(_iter_parquet_rows(path, columns)):
        if row.get("id") is None:
            row["id"] = f"{storage.basename(path)}:{i}"
        yield {k: row.get(k) for k in columns} if columns else row


def _iter_parquet_rows(path: str, columns: list[str] | None) -> Iterator[dict]:
    for batch in iter_parquet_batches(path, columns):
        yield from batch.to_pylist()


def iter_parquet_batches(path: str, columns: list[str] | None = None, batch_size: int = 1024) -> Iterator[pa.RecordBatch]:
    """A Parquet file's record batches, row group by row group (never the whole file); a file that
    is not Parquet, is cut short or has a corrupt page is a DatasetError naming it."""
    try:
        with storage.open_random(path) as handle:
            yield from pq.ParquetFile(handle).iter_batches(batch_size=batch_size, columns=columns)
    except (pa.ArrowException, OSError) as e:
        raise DatasetError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None


def iter_source_rows(source: Source, columns: list[str] | None = None) -> Iterator[dict]:
    """Rows of any Source as dicts; plain files get an `id` from file and line when they lack one."""
    if source.dataset is not None:
        yield from source.dataset.iter_rows(columns)
        return
    for f in source.files:
        yield from iter_file_rows(f, source.kind, columns)


def token_shard_info(ds: Dataset) -> dict:
    """seq_len, vocab_size, tokenizer_hash, eos_id and pad_id of a token-shard dataset."""
    if ds.schema_name != TOKEN_SHARD:
        raise DatasetError(f"{ds.path}: a {ds.schema_name} dataset, but token shards are needed")
    missing = [k for k in ("seq_len", "vocab_size", "tokenizer_hash", "eos_id", "pad_id") if k not in ds.manifest]
    if missing:
        raise DatasetError(f"{ds.path}: token-shard manifest lacks {', '.join(missing)}")
    return {k: ds.manifest[k] for k in ("seq_len", "vocab_size", "tokenizer_hash", "eos_id", "pad_id")}
