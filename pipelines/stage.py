"""One Beam pipeline that writes datasets: lock, stage, run, count, commit, clean up.

    with Stage("score", beam_args, command=args.command_line) as stage:
        _ = stage.pipeline | ReadDocuments(sources) | ScoreFn(...) | "Write" >> stage.write(
            args.output, WEB_DOC, inputs=[...], replace=args.force)
        counters = stage.run()
        stage.commit(args.output, extra={"counters": counters})

Each output follows the dataset protocol (`deepcorpus.core.datasets`): `output()` refuses anything
that is not ours (core/outputs.py), takes the output's lock (core/locks.py), removes a killed
run's leftovers, and records the manifest-to-be (`_pending-RUN.json`); the pipeline writes its
parts straight into the dataset directory and, last, their list; `commit()` writes the manifest.
Whatever fails before an output's commit (the pipeline, a check after it, an interrupt), this
run's parts, records and Beam temporaries are removed on leaving the block and its locks released,
so a failure leaves the previous dataset as it was. A launcher killed after the pipeline finished
leaves what `deepcorpus commit DIR` needs to finish the commit.
"""

from __future__ import annotations

import logging
import shutil

import pyarrow as pa

from deepcorpus.core import datasets, locks, outputs, storage
from deepcorpus.core.contracts import contract
from pipelines import progress, runner, summary
from pipelines.io import WriteDataset, WriteJsonl, jsonl_shards

log = logging.getLogger(__name__)


class Stage:
    """A pipeline (`stage.pipeline`) and the datasets it writes."""

    def __init__(self, what: str, beam_args: list[str], *, command: list[str] | None,
                 config: runner.RunnerConfig | None = None):
        self.what = what
        self.command = command
        self.pipeline = runner.new_pipeline(beam_args, config)
        self.local = runner.is_local(self.pipeline.options)
        # Local runs print progress lines while they run (pipelines/progress.py); remote ones the
        # job's URL and counters, from Beam's metrics API.
        self.reporter = progress.Reporter(what) if self.local else None
        self._targets: dict[str, tuple[datasets.Target, dict, locks.Lock]] = {}
        self._jsonl: list[str] = []

    def progress(self, unit: str = "rows") -> progress.Progress | None:
        """A progress sink for the DoFns that read (None on a remote runner)."""
        return self.reporter.sink(unit) if self.reporter is not None else None

    def output(self, path: str, schema_name: str, schema: pa.Schema | None = None, *, inputs: list[str] | None = None,
               options: dict | None = None, extra: dict | None = None, totals: dict[str, str] | None = None,
               replace: bool = False, flag: str = "--force", base: str | None = None) -> datasets.Target:
        """Where the pipeline writes dataset `path` (a graph builder's argument; `WriteDataset(target)`).

        An existing dataset there is refused unless `replace` (`flag` names the option that allows it);
        `inputs`, `options` and `extra` go into the manifest (inputs inside `base`, the run directory,
        named relative to it), `totals` sums part stats into it."""
        outputs.check_dataset_output(path, replace=replace, flag=flag)
        lock = locks.Lock(path, command=self.command).acquire()
        try:
            datasets.cleanup(path)  # a killed earlier write's leftovers
            target = datasets.Target(path, datasets.new_run_id(), schema_name,
                                     schema if schema is not None else contract(schema_name).schema)
            draft = datasets.draft_manifest(target, command=self.command, inputs=inputs, options=options, extra=extra,
                                            totals=totals, base=base)
            datasets.write_pending(target, draft)
        except BaseException:
            lock.release()
            raise
        self._targets[path] = (target, draft, lock)
        return target

    def write(self, path: str, schema_name: str, schema: pa.Schema | None = None, num_shards: int = 0,
              **output) -> WriteDataset:
        """The transform writing rows to dataset `path` (listed by the manifest at `commit`)."""
        return WriteDataset(self.output(path, schema_name, schema, **output), num_shards=num_shards)

    def write_jsonl(self, path: str, sharded: bool = False) -> WriteJsonl:
        """The transform writing a JSONL listing at `path`; Beam's temporaries beside it are cleaned up.
        `sharded`: as many files as the runner likes, `NAME-SSSSS-of-NNNNN.jsonl` for `NAME.jsonl`
        (listings that grow with the input: one writer for a billion lines is a day)."""
        self.track_jsonl(path, sharded)
        return WriteJsonl(path, sharded=sharded)

    def track_jsonl(self, path: str, sharded: bool = False) -> None:
        """A JSONL listing the pipeline writes at `path` (with `WriteJsonl`), inside a run directory
        this command owns: the earlier run's listing (single or sharded) and Beam temporaries beside
        it are removed now (Beam would delete the listing itself, with a warning), this run's
        temporaries on leaving."""
        _remove_beam_temporaries(path)
        for old in [path, *jsonl_shards(path)]:
            if storage.exists(old) and not storage.is_dir(old):
                storage.remove_file(old)
        self._jsonl.append(path)

    def run(self) -> dict[str, dict[str, int]]:
        """Run the pipeline to completion; its counters, {stage: {name: value}}."""
        if self.reporter is None:
            return summary.counters_from_result(runner.run(self.pipeline, self.what))
        with self.reporter:
            return summary.counters_from_result(runner.run(self.pipeline, self.what))

    def written_rows(self, path: str) -> int:
        """The rows the pipeline wrote to dataset `path` (its part list), before the commit: what a
        conservation check compares with the counters while nothing is committed yet."""
        target, _, _ = self._targets[path]
        return sum(int(p["rows"]) for p in datasets.read_part_list(path, target.run_id) or [])

    def commit(self, path: str, *, inputs: list[str] | None = None, extra: dict | None = None) -> dict:
        """Write dataset `path`'s manifest, listing the parts the pipeline recorded; returns it.
        `inputs` given here (rather than to `output`) are fingerprinted now."""
        target, draft, lock = self._targets[path]
        parts = datasets.read_part_list(path, target.run_id)
        if parts is None:
            if target.wired:
                raise datasets.DatasetError(f"{path}: the pipeline finished without recording its parts")
            parts = [datasets.write_part(target.schema.empty_table(), target.part_path(0, unique=False))]
        if inputs is not None:
            draft = {**draft, "inputs": datasets.fingerprint_files(inputs)}
        manifest = datasets.commit(path, draft, parts, extra=extra, lock=lock)
        del self._targets[path]
        lock.release()
        return manifest

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc) -> None:
        for path, (target, _, lock) in list(self._targets.items()):  # not committed: failed, or not wanted
            try:
                datasets.remove_run(path, target.run_id)
            finally:
                lock.release()
                storage.remove_empty_dir(path)
        self._targets.clear()
        for path in self._jsonl:
            _remove_beam_temporaries(path)
        self._jsonl.clear()
        # Beam removes its pipeline's local temp dir when run() ends; a stage that stops before
        # running (an output refused, bad input: exit 2) left one in /tmp each time.
        shutil.rmtree(self.pipeline.local_tempdir, ignore_errors=True)


def _remove_beam_temporaries(path: str) -> None:
    """Beam's file sinks write `beam-temp-NAME-UUID/` beside NAME and remove it when they finish; a
    failed or killed run leaves it."""
    folder, name = storage.parent(path), storage.basename(path)
    for entry, info in storage.entries(folder).items():
        if entry.startswith(f"beam-temp-{name}-") and info.type.name == "Directory":
            storage.remove_tree(storage.join(folder, entry))
