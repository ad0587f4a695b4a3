"""Reading the inputs users give and writing datasets in the contract, as Beam transforms.

`ReadDocuments` turns any mix of datasets (exactly the parts their manifests list) and plain
JSONL/Parquet files into a PCollection of dicts. `WriteDataset` writes zstd Parquet parts straight
into the dataset directory under this run's id and, last, the list of them; the driver then
commits (writes the manifest) after the pipeline finished (`pipelines.stage.Stage` does both; see
`deepcorpus.core.datasets` for the protocol). `WriteJsonl` writes the small listings beside a
dataset (what was removed and why, read errors) as one JSONL file.
"""

from __future__ import annotations

import json
import zlib

import apache_beam as beam

from deepcorpus.core import datasets


class ReadDocuments(beam.PTransform):
    """Rows (dicts) from resolved Sources; rows without an id get `FILE:N`.

    A dataset's parts are listed from its manifest inside the pipeline (the graph holds its path,
    not thousands of part names) and spread over the workers; plain files, which the user named,
    are created as given. `progress` (a `pipelines.progress.Progress`) hears bytes and rows."""

    def __init__(self, sources: list[datasets.Source], columns: list[str] | None = None, progress=None):
        super().__init__()
        self.sources = sources
        self.columns = columns
        self.progress = progress

    def expand(self, pbegin):
        from pipelines.parts import ListParts, ReadPartFn

        pcolls = []
        for i, source in enumerate(self.sources):
            if source.dataset is not None:
                pcolls.append(
                    pbegin
                    | f"Read[{i}]Files" >> beam.Create([source.dataset.path])
                    | f"Read[{i}]Parts" >> beam.ParDo(ListParts(self.progress))
                    | f"Read[{i}]Spread" >> beam.Reshuffle()
                    | f"Read[{i}]Rows" >> beam.ParDo(ReadPartFn(self.columns, progress=self.progress))
                )
                continue
            kind = "jsonl" if source.kind == "jsonl" else "parquet"
            pcolls.append(
                pbegin
                | f"Read[{i}]Files" >> beam.Create(source.files)
                | f"Read[{i}]Rows" >> beam.ParDo(_FileRows(kind, self.columns, self.progress))
            )
        if len(pcolls) == 1:
            return pcolls[0]
        return tuple(pcolls) | "Merge" >> beam.Flatten()


class _FileRows(beam.DoFn):
    def __init__(self, kind: str, columns: list[str] | None, progress=None):
        self.kind, self.columns, self.progress = kind, columns, progress

    def process(self, path: str):
        for row in datasets.iter_file_rows(path, self.kind, self.columns):
            if self.progress is not None:
                self.progress.add(rows=1)
            yield row


def conform_row(row: dict, names: tuple[str, ...]) -> dict:
    return {name: row.get(name) for name in names}


CHUNK_ROWS = 256  # rows turned into Arrow data at a time while a row group fills


def _value_bytes(row: dict) -> int:
    """A cheap estimate of a row's size in memory (its strings and bytes), for row-group sizing."""
    return sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row.values())


class WritePartsFn(beam.DoFn):
    """Rows -> Parquet parts written straight under the dataset directory, one part per bundle
    (rolled over past `datasets.PART_BYTES`), named `part-RUN-UNIQUE.parquet`; at the end of the
    bundle yields each part's record {name, rows, bytes, sha256} for the commit.

    Row groups are flushed every ROW_GROUP_ROWS rows or ROW_GROUP_BYTES of values, so memory stays
    flat. A bundle that fails and is retried leaves its part unlisted; the commit's clean-up removes
    it. Nothing is renamed or copied: on GCS and S3 that would be a copy plus a delete per object.
    """

    def __init__(self, target: datasets.Target):
        self.target = target

    def start_bundle(self):
        self._writer = None
        self._rows: list[dict] = []
        self._tables: list = []  # the row group so far, as Arrow tables of CHUNK_ROWS rows
        self._buffered_rows = 0
        self._bytes = 0
        self._done: list[dict] = []

    def process(self, row):
        self._rows.append(row)
        self._bytes += _value_bytes(row)
        if len(self._rows) >= CHUNK_ROWS:
            self._to_arrow()
        if self._buffered_rows + len(self._rows) >= datasets.ROW_GROUP_ROWS or self._bytes >= datasets.ROW_GROUP_BYTES:
            self._flush()
        return ()

    def _to_arrow(self):
        """The rows so far as one Arrow table: a row group is held as Arrow data (its bytes), not as
        Python dicts (several times that)."""
        from deepcorpus.core.contracts import conform

        if self._rows:
            self._tables.append(conform(self._rows, self.target.schema))
            self._buffered_rows += len(self._rows)
            self._rows = []

    def _flush(self):
        import pyarrow as pa

        self._to_arrow()
        if not self._tables:
            return
        if self._writer is None:
            self._writer = datasets.PartWriter(self.target.part_path(), self.target.schema)
        self._writer.write_table(pa.concat_tables(self._tables))  # one row group
        self._tables, self._buffered_rows, self._bytes = [], 0, 0
        if self._writer.bytes_written >= datasets.PART_BYTES:
            self._done.append(self._writer.close())
            self._writer = None

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        self._flush()
        if self._writer is not None:
            self._done.append(self._writer.close())
            self._writer = None
        for record in self._done:
            yield WindowedValue(record, GlobalWindow().max_timestamp(), [GlobalWindow()])
        self._done = []

    def teardown(self):
        if getattr(self, "_writer", None) is not None:  # a bundle that failed: its part is thrown away
            self._writer.abort()


class WritePartList(beam.PTransform):
    """Part records -> `_parts-RUN.json` beside the parts: the pipeline's last word on a dataset,
    from which the launcher (or `deepcorpus commit`) writes the manifest without reading a part.
    The list is one ~150-byte record per part of up to PART_BYTES: O(number of parts), e.g. ~4,000
    records (600 KB) for 1 TB of Parquet."""

    def __init__(self, target: datasets.Target):
        super().__init__()
        self.target = target

    def expand(self, records):
        return (
            records
            | "AllParts" >> beam.combiners.ToList()
            | "WritePartList" >> beam.Map(lambda recs, target: datasets.write_part_list(target, recs), self.target)
        )


class WriteDataset(beam.PTransform):
    """Write rows as zstd Parquet parts of `target` (a `datasets.Target`: the dataset, this run's id
    and the schema), then the part list the commit reads. `num_shards` > 0 writes exactly that many
    parts (rows spread by a hash of the row), through a GroupByKey."""

    def __init__(self, target: datasets.Target, num_shards: int = 0):
        super().__init__()
        self.target = target
        self.num_shards = num_shards
        target.wired = True  # the launcher's copy: the commit then expects a part list

    def expand(self, rows):
        names = tuple(self.target.schema.names)
        rows = rows | "Conform" >> beam.Map(conform_row, names)
        if self.num_shards > 0:
            n = self.num_shards
            parts = (
                rows
                | "Shard" >> beam.Map(lambda r: (zlib.crc32(json.dumps(r, sort_keys=True, default=str).encode()) % n, r))
                | "GroupByShard" >> beam.GroupByKey()
                | "WriteShards" >> beam.Map(write_shard, self.target)
            )
        else:
            parts = rows | "WriteParts" >> beam.ParDo(WritePartsFn(self.target))
        return parts | "Commit" >> WritePartList(self.target)


def write_shard(element: tuple[int, list[dict]], target: datasets.Target) -> dict:
    """(shard, rows) -> one part `part-RUN-SHARD-UNIQUE.parquet`, row group by row group; its record."""
    from deepcorpus.core.contracts import conform

    shard, rows = element
    writer = datasets.PartWriter(target.part_path(shard), target.schema)
    try:
        batch: list[dict] = []
        size = 0
        for row in rows:
            batch.append(row)
            size += _value_bytes(row)
            if len(batch) >= datasets.ROW_GROUP_ROWS or size >= datasets.ROW_GROUP_BYTES:
                writer.write_table(conform(batch, target.schema))
                batch, size = [], 0
        if batch or writer.rows == 0:
            writer.write_table(conform(batch, target.schema))
        return {**writer.close(), "index": shard}
    except BaseException:
        writer.abort()
        raise


def to_json_line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


class WriteJsonl(beam.PTransform):
    """Dicts -> the one file `path` (named exactly so, no shard suffix), a JSON object per line; or,
    `sharded`, files `NAME-SSSSS-of-NNNNN.jsonl` beside it, as many as the runner writes in parallel
    (one file means one writer, which a listing of a billion lines cannot afford)."""

    def __init__(self, path: str, sharded: bool = False):
        super().__init__()
        self.path = path
        self.sharded = sharded

    def expand(self, rows):
        lines = rows | "Json" >> beam.Map(to_json_line)
        if self.sharded:
            prefix = self.path.removesuffix(".jsonl")
            return lines | "WriteText" >> beam.io.WriteToText(prefix, file_name_suffix=".jsonl")
        return lines | "WriteText" >> beam.io.WriteToText(self.path, shard_name_template="")


def jsonl_shards(path: str) -> list[str]:
    """The shards `NAME-SSSSS-of-NNNNN.jsonl` a sharded listing `NAME.jsonl` was written as."""
    import re

    from deepcorpus.core import storage

    folder, name = storage.parent(path), storage.basename(path)
    pattern = re.compile(re.escape(name.removesuffix(".jsonl")) + r"-\d{5}-of-\d{5}\.jsonl$")
    return sorted(storage.join(folder, entry) for entry in storage.entries(folder) if pattern.match(entry))


def listing_files(path: str) -> list[str]:
    """The files of a JSONL listing written by `WriteJsonl`: `path` itself, or its shards."""
    from deepcorpus.core import storage

    if storage.exists(path) and not storage.is_dir(path):
        return [path]
    return jsonl_shards(path)


def iter_listing(path: str):
    """The rows of a JSONL listing, single or sharded."""
    for f in listing_files(path):
        yield from datasets.iter_jsonl(f)
