"""Reading the inputs users give and writing datasets in the contract, as Beam transforms.

`ReadDocuments` turns any mix of datasets and plain JSONL/Parquet files into a PCollection of
dicts. `WriteDataset` writes zstd Parquet parts to a hidden staging directory; the driver calls
`commit()` after the pipeline finished, which moves them into place and writes the manifest last
(`pipelines.stage.Stage` does both). `WriteJsonl` writes the small listings beside a dataset
(what was removed and why, read errors) as one JSONL file.
"""

from __future__ import annotations

import json

import apache_beam as beam
import pyarrow as pa

from deepcorpus.core import datasets, storage
from deepcorpus.core.contracts import contract


class ReadDocuments(beam.PTransform):
    """Rows (dicts) from resolved Sources; rows without an id get `FILE:N`."""

    def __init__(self, sources: list[datasets.Source], columns: list[str] | None = None):
        super().__init__()
        self.sources = sources
        self.columns = columns

    def expand(self, pbegin):
        pcolls = []
        for i, source in enumerate(self.sources):
            files = source.dataset.files if source.dataset is not None else source.files
            kind = "jsonl" if source.kind == "jsonl" else "parquet"
            pcolls.append(
                pbegin
                | f"Read[{i}]Files" >> beam.Create(files)
                | f"Read[{i}]Rows" >> beam.FlatMap(datasets.iter_file_rows, kind, self.columns)
            )
        if len(pcolls) == 1:
            return pcolls[0]
        return tuple(pcolls) | "Merge" >> beam.Flatten()


def conform_row(row: dict, names: tuple[str, ...]) -> dict:
    return {name: row.get(name) for name in names}


class WriteDataset(beam.PTransform):
    """Write rows to `staging` as zstd Parquet parts of the named contract (or a given schema)."""

    def __init__(self, staging: str, schema_name: str, schema: pa.Schema | None = None, num_shards: int = 0):
        super().__init__()
        self.staging = staging
        self.schema = schema if schema is not None else contract(schema_name).schema
        self.num_shards = num_shards

    def expand(self, rows):
        names = tuple(self.schema.names)
        return (
            rows
            | "Conform" >> beam.Map(conform_row, names)
            | "WriteParquet"
            >> beam.io.WriteToParquet(
                storage.join(self.staging, "part"),
                self.schema,
                codec="zstd",
                file_name_suffix=".parquet",
                num_shards=self.num_shards,
                row_group_buffer_size=64 * 1024 * 1024,
            )
        )


def to_json_line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


class WriteJsonl(beam.PTransform):
    """Dicts -> the one file `path` (named exactly so, no shard suffix), a JSON object per line."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def expand(self, rows):
        return (
            rows
            | "Json" >> beam.Map(to_json_line)
            | "WriteText" >> beam.io.WriteToText(self.path, shard_name_template="")
        )
