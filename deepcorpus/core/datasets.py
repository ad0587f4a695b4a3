"""Datasets on disk: a directory of zstd Parquet parts plus `_manifest.json`, which lists them.

    DIR/_manifest.json                  the commit: schema, row_count, parts [{name, rows, bytes,
                                        sha256}], run_id, inputs, options, code, command, ...
    DIR/part-RUN-....parquet            the parts, written once, in place, named by the run
    DIR/_lock.json                      the writer's lease while a write runs (core/locks.py)
    DIR/_pending-RUN.json               a Beam write's manifest-to-be, before its pipeline runs
    DIR/_parts-RUN.json                 the part list the pipeline wrote when it finished

The protocol. A write takes the lock, gets a run id (`new_run_id`) and writes its parts directly
under DIR with that run id in their names: no staging directory, no second copy, no rename (on
gs:// and s3:// a rename is a copy plus a delete per object). Committing is one atomic write of the
manifest, listing exactly this run's parts; until it lands, readers keep reading the previous
manifest's parts, which nothing touches before the commit. After it, `cleanup` removes parts no
manifest lists (the replaced dataset, the orphans of retried bundles, a killed run's leftovers).

Readers read exactly the listed parts, refuse a dataset whose listed part is missing or of another
size, and ignore every other file. `row_count` is the sum of the parts' rows. A Beam pipeline emits
its parts' records itself (`_parts-RUN.json`, O(number of parts)), so the commit never reads a
part, and `deepcorpus commit DIR` can finish a commit whose launcher died (`finish_pending`).

Users also bring plain JSONL or Parquet files with a `text` column (and optional `id`, `url`):
`resolve_inputs` accepts both and says plainly what is wrong with anything else.
"""

from __future__ import annotations

import datetime as _dt
import functools
import gzip
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from deepcorpus.core import __version__, fingerprint, storage
from deepcorpus.core.contracts import CONTRACTS, TOKEN_SHARD, contract
from deepcorpus.core.errors import DatasetError, UserError

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
PENDING_PREFIX = "_pending-"
PART_LIST_PREFIX = "_parts-"
PART_PREFIX = "part-"
COMPRESSION = "zstd"
ROW_GROUP_ROWS = 8192
# Of values: a Beam writer flushes a row group at this size. A reader decodes a whole row group's
# column chunks at once (~2x this in memory for text), and a worker both reads and writes parts, so
# this is what a worker's memory grows by until the row groups are full. 16 MiB is ~1-3K web pages,
# in line with the Hub's Parquet row groups, and many row groups per part for DuckDB's parallel scan.
ROW_GROUP_BYTES = 16 * 2**20
PART_BYTES = 256 * 2**20  # a Beam writer starts a new part past this many written bytes

_RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
_OUR_PART = re.compile(r"part-(\d{8}T\d{6}Z-[0-9a-f]{8})-[0-9a-z-]+\.parquet|part-\d{5}\.parquet")


def new_run_id() -> str:
    """A write's id: UTC time and 8 random hex digits (`20250301T120000Z-1a2b3c4d`), sortable by time."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def part_file(run_id: str, index: int | None = None, unique: str | None = None) -> str:
    """`part-RUN-00003.parquet`, `part-RUN-UNIQUE.parquet` or `part-RUN-00003-UNIQUE.parquet`."""
    pieces = [f"{index:05d}"] if index is not None else []
    pieces += [unique] if unique else []
    return f"{PART_PREFIX}{run_id}-{'-'.join(pieces)}.parquet"


def run_of_part(name: str) -> str | None:
    """The run id in one of our part names, '' for an old-style `part-00000.parquet`, None if not ours."""
    m = _OUR_PART.fullmatch(name)
    if not m:
        return None
    return m.group(1) or ""


@functools.lru_cache(maxsize=1)
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
    """A cheap identity per input (size and modification time; a dataset's commit), see core/fingerprint."""
    return fingerprint.input_identity(paths)


def parquet_files(path: str) -> list[str]:
    return [p for p in storage.listdir(path) if p.endswith(".parquet") and not storage.basename(p).startswith(".")]


# --- writing parts -----------------------------------------------------------------------------


class _Checksummed:
    """A write-only file object over an output stream that counts and hashes what passes through."""

    def __init__(self, raw):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.bytes = 0
        self.closed = False

    def write(self, data) -> int:
        self.sha.update(data)
        self.bytes += len(data)
        return self.raw.write(data)

    def tell(self) -> int:
        return self.bytes

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
            self.closed = True


class PartWriter:
    """One part file, written row group by row group straight to its final name; `close()` returns
    its record {name, rows, bytes, sha256} (what the manifest lists)."""

    def __init__(self, path: str, schema: pa.Schema):
        self.path = path
        self.schema = schema
        self.rows = 0
        self._out = _Checksummed(storage.open_write(path))
        self._writer = pq.ParquetWriter(self._out, schema, compression=COMPRESSION)

    @property
    def bytes_written(self) -> int:
        return self._out.bytes

    def write_table(self, table: pa.Table) -> None:
        self._writer.write_table(table.cast(self.schema) if not table.schema.equals(self.schema) else table,
                                 row_group_size=ROW_GROUP_ROWS)
        self.rows += table.num_rows

    def close(self) -> dict:
        self._writer.close()
        self._out.close()
        return {"name": storage.basename(self.path), "rows": self.rows, "bytes": self._out.bytes,
                "sha256": self._out.sha.hexdigest()}

    def abort(self) -> None:
        """Close and delete a part that will not be listed (a failed write)."""
        try:
            self._writer.close()
            self._out.close()
        except Exception:  # noqa: BLE001 - the part is being thrown away
            pass
        storage.remove_file(self.path)


def write_part(table: pa.Table, path: str) -> dict:
    """Write `table` as one part at `path`; its record for the manifest."""
    writer = PartWriter(path, table.schema)
    writer.write_table(table)
    return writer.close()


@dataclass
class Target:
    """Where one write's parts go: the dataset, this run's id and the schema (picklable, so Beam
    workers write the parts themselves). `wired` is set when a writer transform uses it."""

    path: str
    run_id: str
    schema_name: str
    schema: pa.Schema
    wired: bool = False

    def part_path(self, index: int | None = None, unique: bool = True) -> str:
        return storage.join(self.path, part_file(self.run_id, index, uuid.uuid4().hex[:12] if unique else None))

    @property
    def pending_path(self) -> str:
        return storage.join(self.path, f"{PENDING_PREFIX}{self.run_id}.json")

    @property
    def part_list_path(self) -> str:
        return storage.join(self.path, f"{PART_LIST_PREFIX}{self.run_id}.json")


def write_part_list(target: Target, records: list[dict]) -> list[dict]:
    """What a pipeline does last for each dataset it writes: record its parts in `_parts-RUN.json`
    (an empty dataset gets one empty part, so it still has a schema). The list holds one small
    record per part: O(number of parts)."""
    records = sorted(records, key=lambda r: (r.get("index", -1), r["name"]))
    if not records:
        records = [write_part(target.schema.empty_table(), target.part_path(0, unique=False))]
    body = {"run_id": target.run_id, "parts": records}
    storage.write_bytes_atomic(target.part_list_path, json.dumps(body, indent=1).encode())
    return records


def read_part_list(target_path: str, run_id: str) -> list[dict] | None:
    path = storage.join(target_path, f"{PART_LIST_PREFIX}{run_id}.json")
    try:
        return json.loads(storage.read_bytes(path))["parts"]
    except FileNotFoundError:
        return None
    except OSError:
        if not storage.exists(path):
            return None
        raise


# --- committing --------------------------------------------------------------------------------


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def draft_manifest(target: Target, *, command: list[str] | None, inputs: list[str] | None = None,
                   options: dict | None = None, extra: dict | None = None,
                   totals: dict[str, str] | None = None, base: str | None = None) -> dict:
    """The manifest without its parts: what is known before the parts are written. `totals` maps a
    manifest key to the part-record `stats` key summed into it (numbers, or dicts of numbers; give
    the key a {} in `extra` for a dict that may have nothing to sum). Inputs inside `base` (the run
    directory the dataset is part of) are named relative to it, so a copied run still resumes."""
    spec = contract(target.schema_name)
    draft = {
        "schema": target.schema_name,
        "schema_version": spec.version,
        "run_id": target.run_id,
        "command": list(command) if command is not None else None,
        "code_version": code_version(),
        "code_fingerprint": fingerprint.code_fingerprint(),
        "inputs": fingerprint.relative(fingerprint.input_identity(inputs or []), base),
        "options": fingerprint.plain(options or {}),
    }
    draft.update(fingerprint.plain(extra or {}))
    if totals:
        draft["_totals"] = dict(totals)
    return draft


def write_pending(target: Target, draft: dict) -> None:
    """Record the manifest-to-be beside the parts, so `deepcorpus commit` can finish the write."""
    storage.write_bytes_atomic(target.pending_path, json.dumps(draft, indent=2).encode())


def _sum_stats(records: list[dict], key: str, zero=0):
    total = dict(zero) if isinstance(zero, dict) else zero
    for r in records:
        value = (r.get("stats") or {}).get(key)
        if value is None:
            continue
        if isinstance(value, dict):
            total = total if isinstance(total, dict) else {}
            for k, v in value.items():
                total[k] = total.get(k, 0) + v
        else:
            total += value
    return dict(sorted(total.items())) if isinstance(total, dict) else total


def check_parts(path: str, parts: list[dict]) -> None:
    """Refuse (one line) if a listed part is missing under `path` or of another size. One listing."""
    present = storage.entries(path)
    for part in parts:
        info = present.get(part["name"])
        if info is None:
            raise DatasetError(f"{path}: listed part {part['name']} is missing (deleted, or the dataset was "
                               f"replaced while it was being read)")
        if info.size != part["bytes"]:
            raise DatasetError(f"{path}: part {part['name']} is {info.size} bytes, but the manifest lists "
                               f"{part['bytes']} (a truncated or replaced file)")


def commit(path: str, draft: dict, parts: list[dict], *, extra: dict | None = None, lock=None) -> dict:
    """Commit one write: check its parts are all there, write the manifest (one atomic write), then
    remove what no manifest lists. `lock` (a `locks.Lock`) is checked just before the manifest."""
    check_parts(path, parts)
    manifest = {k: v for k, v in draft.items() if not k.startswith("_")}
    manifest.update(
        row_count=sum(p["rows"] for p in parts),
        byte_size=sum(p["bytes"] for p in parts),
        num_parts=len(parts),
        parts=[{k: p[k] for k in ("name", "rows", "bytes", "sha256") if k in p} for p in parts],
        created=_now(),
    )
    for key, stat in (draft.get("_totals") or {}).items():
        manifest[key] = _sum_stats(parts, stat, manifest.get(key, 0))  # the draft may give the zero ({})
    manifest.update(fingerprint.plain(extra or {}))
    if lock is not None:
        lock.verify()
    storage.write_bytes_atomic(storage.join(path, MANIFEST), json.dumps(manifest, indent=2).encode())
    cleanup(path)
    return manifest


def cleanup(path: str, keep_runs: tuple[str, ...] = ()) -> int:
    """Remove our own files that the committed manifest does not list: parts (of the replaced
    dataset, of retried bundles, of killed runs), pending records and part lists of runs other than
    `keep_runs`, and killed writers' temporaries. Files that are not ours are never touched. Call it
    holding the lock. Returns how many files it removed."""
    names = storage.entries(path)
    listed: set[str] = set()
    committed = None
    if MANIFEST in names:
        try:
            manifest = read_manifest(path)
        except DatasetError:
            return 0  # a manifest we cannot read: touch nothing
        listed = {p["name"] for p in manifest.get("parts") or []}
        committed = manifest.get("run_id")
    removed = 0
    for name, info in names.items():
        if info.type.name != "File" or name in listed:
            continue
        run = run_of_part(name)
        if run is not None:
            mine = run in keep_runs
        elif name.startswith((PENDING_PREFIX, PART_LIST_PREFIX)) and name.endswith(".json"):
            run = name.split("-", 1)[1][:-5]
            if run == committed and run not in keep_runs:
                storage.remove_file(storage.join(path, name))  # the committed run's own records: not news
                continue
            mine = run in keep_runs
        elif name.startswith(".") and storage.TMP_MARK in name and not storage.is_remote(path):
            storage.remove_stale_temporaries(storage.join(path, name[1:].split(storage.TMP_MARK)[0]))
            continue
        else:
            continue  # not ours
        if not mine and storage.remove_file(storage.join(path, name)):
            removed += 1
    if removed:
        log.info("%s: removed %d file(s) no manifest lists (an earlier or unfinished run's)", path, removed)
    return removed


def remove_run(path: str, run_id: str) -> None:
    """Remove everything one run wrote under `path` that is not committed (a failed write)."""
    listed: set[str] = set()
    names = storage.entries(path)
    if MANIFEST in names:
        try:
            listed = {p["name"] for p in read_manifest(path).get("parts") or []}
        except DatasetError:
            pass
    for name in names:
        if name in listed:
            continue
        if run_of_part(name) == run_id or name in (f"{PENDING_PREFIX}{run_id}.json", f"{PART_LIST_PREFIX}{run_id}.json"):
            storage.remove_file(storage.join(path, name))


def pending_runs(path: str) -> list[str]:
    """Run ids with a pending record under `path`, oldest first."""
    runs = []
    for name in storage.entries(path):
        if name.startswith(PENDING_PREFIX) and name.endswith(".json") and _RUN_ID.fullmatch(name[len(PENDING_PREFIX):-5]):
            runs.append(name[len(PENDING_PREFIX):-5])
    return sorted(runs)


def finish_pending(path: str, lock=None) -> tuple[str, dict | None]:
    """`deepcorpus commit DIR`: commit the newest write whose pipeline finished (its part list is
    there) but whose launcher did not commit. Idempotent. Returns (what happened, manifest)."""
    runs = pending_runs(path)
    current = read_manifest(path) if storage.exists(storage.join(path, MANIFEST)) else None
    finished = [r for r in runs if read_part_list(path, r) is not None]
    if not finished:
        removed = cleanup(path)
        if current is None:
            unfinished = f" (run {runs[-1]} did not finish its pipeline; rerun the command)" if runs else ""
            raise DatasetError(f"{path}: nothing to commit and no committed dataset{unfinished}")
        note = f"; removed {removed} unlisted file(s)" if removed else ""
        if runs:
            note += f"; run {runs[-1]} had not finished its pipeline"
        return f"{path}: nothing to commit (committed: run {current.get('run_id')}, {current['row_count']:,} rows){note}", current
    run = finished[-1]
    if current is not None and current.get("run_id") == run:
        cleanup(path)
        return f"{path}: run {run} was already committed ({current['row_count']:,} rows)", current
    draft = json.loads(storage.read_bytes(storage.join(path, f"{PENDING_PREFIX}{run}.json")))
    parts = read_part_list(path, run)
    manifest = commit(path, draft, parts, extra={"committed_by": "deepcorpus commit (the launcher did not "
                                                 "finish; its Beam counters are not recorded)"}, lock=lock)
    return f"{path}: committed run {run}: {manifest['row_count']:,} rows in {manifest['num_parts']} part(s)", manifest


def recorded_fingerprint(manifest: dict) -> dict:
    """The fingerprint a manifest records (see core/fingerprint.py)."""
    return {"inputs": manifest.get("inputs") or {}, "options": manifest.get("options") or {},
            "code": manifest.get("code_fingerprint")}


def reusable(path: str, current: dict) -> tuple[dict | None, list[str]]:
    """(manifest, []) when dataset `path` is committed, whole, and made from exactly `current` (a
    `fingerprint.make`, with the `base` its manifest's inputs were recorded with); else (None, what
    differs), [] when there is no dataset to compare with."""
    if not storage.exists(storage.join(path, MANIFEST)):
        return None, []
    try:
        manifest = open_dataset(path).manifest
    except DatasetError as e:
        return None, [str(e)]
    recorded = recorded_fingerprint(manifest) if "code_fingerprint" in manifest else None
    changed = fingerprint.changes(recorded, current)
    return (None, changed) if changed else (manifest, [])


class DatasetWriter:
    """Write a dataset part by part from Python; commit on success, discard on error.

        with DatasetWriter("out/formal/corpus", "formal_proof", command=args.command_line) as w:
            w.write_rows(rows)
            w.extra["stats"] = {...}

    It takes the output's lock, writes `part-RUN-NNNNN.parquet` straight into the dataset directory
    and commits by writing the manifest; an existing dataset there is replaced (`replace=False`
    refuses instead), anything that is not a dataset is refused (core/outputs.py).
    """

    def __init__(self, path: str, schema_name: str, *, schema: pa.Schema | None = None,
                 inputs: list[str] | None = None, options: dict | None = None, rows_per_part: int = 100_000,
                 command: list[str] | None = None, replace: bool = True):
        self.path = path
        self.command = command
        self.schema_name = schema_name
        self.schema = schema if schema is not None else contract(schema_name).schema
        self.inputs = inputs or []
        self.options = options or {}
        self.rows_per_part = rows_per_part
        self.replace = replace
        self.extra: dict = {}
        self.manifest: dict | None = None
        self.parts: list[dict] = []
        self._buffer: list[dict] = []
        self._lock = None
        self._target: Target | None = None

    def __enter__(self) -> DatasetWriter:
        from deepcorpus.core import locks, outputs

        outputs.check_dataset_output(self.path, replace=self.replace)
        self._lock = locks.Lock(self.path, command=self.command).acquire()
        try:
            cleanup(self.path)  # a killed earlier write's leftovers
            self._target = Target(self.path, new_run_id(), self.schema_name, self.schema)
            self._draft = draft_manifest(self._target, command=self.command, inputs=self.inputs, options=self.options)
        except BaseException:
            self._lock.release()
            raise
        return self

    def write_rows(self, rows: list[dict]) -> None:
        self._buffer.extend(rows)
        while len(self._buffer) >= self.rows_per_part:
            chunk, self._buffer = self._buffer[: self.rows_per_part], self._buffer[self.rows_per_part :]
            self._write(chunk)

    def write_table(self, table: pa.Table) -> None:
        self._flush()
        self._put(table.cast(self.schema))

    def _put(self, table: pa.Table) -> None:
        self.parts.append(write_part(table, self._target.part_path(len(self.parts), unique=False)))

    def _write(self, rows: list[dict]) -> None:
        from deepcorpus.core.contracts import conform

        self._put(conform(rows, self.schema))

    def _flush(self) -> None:
        if self._buffer:
            self._write(self._buffer)
            self._buffer = []

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None:
                remove_run(self.path, self._target.run_id)
                return
            self._flush()
            if not self.parts:  # an empty dataset is still a dataset: one part with the schema
                self._write([])
            self.manifest = commit(self.path, self._draft, self.parts, extra=self.extra, lock=self._lock)
        except BaseException:
            remove_run(self.path, self._target.run_id)
            raise
        finally:
            self._lock.release()
            storage.remove_empty_dir(self.path)


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
    if not isinstance(manifest, dict):
        raise DatasetError(f"{mpath}: malformed manifest (not a JSON object)")
    for key in ("schema", "schema_version", "row_count"):
        if key not in manifest:
            raise DatasetError(f"{mpath}: manifest lacks {key!r}")
    return manifest


@dataclass
class Dataset:
    """A committed dataset: its manifest and the Parquet parts it lists (`files`, in order)."""

    path: str
    manifest: dict
    files: list[str] = field(default_factory=list)

    @property
    def schema_name(self) -> str:
        return self.manifest["schema"]

    @property
    def row_count(self) -> int:
        return int(self.manifest["row_count"])

    @property
    def parts(self) -> list[dict]:
        return self.manifest.get("parts") or []

    def _listed_rows(self, file: str) -> int | None:
        name = storage.basename(file)
        return next((p["rows"] for p in self.parts if p["name"] == name), None)

    def _check_rows(self, file: str, found: int) -> None:
        listed = self._listed_rows(file)
        if listed is not None and listed != found:
            raise DatasetError(f"{file}: holds {found} rows, but the manifest lists {listed} (a replaced file)")

    def read(self, columns: list[str] | None = None) -> pa.Table:
        tables = []
        for f in self.files:
            table = read_parquet(f, columns)
            self._check_rows(f, table.num_rows)
            tables.append(table)
        return pa.concat_tables(tables) if tables else pa.table({})

    def iter_batches(self, columns: list[str] | None = None, batch_size: int = 1024) -> Iterator[pa.RecordBatch]:
        for f in self.files:
            yield from iter_parquet_batches(f, columns, batch_size, rows=functools.partial(self._check_rows, f))

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
    """Open a committed dataset: its listed parts, checked present and of their listed sizes (one
    listing); refuses unfinished writes and other schemas or versions."""
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
    parts = manifest.get("parts")
    if not isinstance(parts, list):
        raise DatasetError(f"{path}: the manifest lists no parts (written by an older deepcorpus); rebuild it")
    check_parts(path, parts)
    if sum(p["rows"] for p in parts) != manifest["row_count"]:
        raise DatasetError(f"{path}: the manifest's row_count {manifest['row_count']} is not the sum of its parts")
    return Dataset(path, manifest, [storage.join(path, p["name"]) for p in parts])


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


def open_text(path: str) -> io.TextIOBase:
    """A UTF-8 text stream over a local, remote or https file, gzip or not (by its magic number)."""
    return io.TextIOWrapper(_open_lines(path), encoding="utf-8")


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


def iter_parquet_batches(path: str, columns: list[str] | None = None, batch_size: int = 1024,
                         rows=None) -> Iterator[pa.RecordBatch]:
    """A Parquet file's record batches, row group by row group (never the whole file); a file that
    is not Parquet, is cut short or has a corrupt page is a DatasetError naming it. `rows(n)` hears
    the footer's row count before the first batch (a dataset checks it against its manifest)."""
    try:
        with storage.open_random(path) as handle:
            pf = pq.ParquetFile(handle)
            if rows is not None:
                rows(pf.metadata.num_rows)
            # One reader per row group: pyarrow's (25.0) reader over the whole file keeps about half
            # of each row group it has read allocated until the file ends (7.5 of every 16 MiB, 272
            # MiB for a 77k-page part), so a worker's memory grew with the part it read.
            for group in range(pf.metadata.num_row_groups):
                yield from pf.iter_batches(batch_size=batch_size, row_groups=[group], columns=columns)
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
