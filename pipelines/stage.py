"""One Beam pipeline that writes datasets: stage, run, count, commit, clean up.

    with Stage("score", beam_args, command=args.command_line) as stage:
        _ = stage.pipeline | ReadDocuments(sources) | ScoreFn(...) | "Write" >> stage.write(args.output, WEB_DOC)
        counters = stage.run()
        stage.commit(args.output, extra={"counters": counters})

Each output is written to a hidden staging directory beside it (`datasets.staging_path`) and
committed only after the pipeline finished: moved into place, the manifest last, recording the
command it is given. Whatever fails before an output's commit (the pipeline, a check after it, an
interrupt), that output's staging directory is removed on leaving the block, so a crash leaves the
previous dataset or nothing, never half of one.
"""

from __future__ import annotations

import pyarrow as pa

from deepcorpus.core import datasets, storage
from deepcorpus.core.contracts import contract
from pipelines import runner, summary
from pipelines.io import WriteDataset


class Stage:
    """A pipeline (`stage.pipeline`) and the datasets it writes."""

    def __init__(self, what: str, beam_args: list[str], *, command: list[str] | None,
                 config: runner.RunnerConfig | None = None):
        self.what = what
        self.command = command
        self.pipeline = runner.new_pipeline(beam_args, config)
        self._staged: dict[str, tuple[str, str, pa.Schema]] = {}  # path -> (staging, schema name, schema)

    def output(self, path: str, schema_name: str, schema: pa.Schema | None = None) -> str:
        """The staging directory the pipeline writes dataset `path` into (a graph builder's argument)."""
        staging = datasets.staging_path(path)
        self._staged[path] = (staging, schema_name, schema if schema is not None else contract(schema_name).schema)
        return staging

    def write(self, path: str, schema_name: str, schema: pa.Schema | None = None, num_shards: int = 0) -> WriteDataset:
        """The transform writing rows to dataset `path` (staged until `commit`)."""
        return WriteDataset(self.output(path, schema_name, schema), schema_name, schema=schema, num_shards=num_shards)

    def run(self) -> dict[str, dict[str, int]]:
        """Run the pipeline to completion; its counters, {stage: {name: value}}."""
        return summary.counters_from_result(runner.run(self.pipeline, self.what))

    def commit(self, path: str, *, inputs: list[str] | None = None, extra: dict | None = None) -> dict:
        """Move the staged dataset `path` into place, manifest last; returns the manifest."""
        staging, schema_name, schema = self._staged.pop(path)
        storage.makedirs(staging)
        if not datasets.parquet_files(staging):  # nothing written: still a dataset, one empty part
            datasets.write_part(schema.empty_table(), storage.join(staging, datasets.part_name(0)))
        return datasets.commit(staging, path, schema_name, command=self.command, inputs=inputs, extra=extra)

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc) -> None:
        for staging, _, _ in self._staged.values():  # not committed: failed, or not wanted
            if storage.exists(staging):
                storage.remove_tree(staging)
        self._staged.clear()
