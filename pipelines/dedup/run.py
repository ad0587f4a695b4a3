"""`deepcorpus dedup exact|url|minhash|decontaminate` and `deepcorpus math decontaminate`: one dedup
transform of `dedup/` over any dataset of the contracts, or plain JSONL/Parquet with `id` and `text`.

    Read -> [Ids] -> ExactDedup | UrlDedup | MinHashDedup | Decontaminate -> WriteKept [, WriteRemoved]

The output keeps the input's contract and every column. Plain files become a `documents` dataset
whose schema is the first input file's (ids are made strings); under `math decontaminate`, a
web_doc dataset. The removed documents, with
`duplicate_of` and `dedup_reason` added, are a `documents` dataset. Both are written by the dataset
protocol (pipelines/stage.py) and committed only after the pipeline finished; an existing dataset
at either is replaced only with `--force`, anything else never. The manifest's `dedup` key records
the method, its settings and the counters.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time

import pyarrow as pa

from dedup.ngrams import benchmark_files
from deepcorpus.core import datasets
from deepcorpus.core.contracts import DOCUMENTS, TOKEN_SHARD, WEB_DOC, contract
from deepcorpus.core.errors import UserError

log = logging.getLogger(__name__)

@dataclasses.dataclass
class Plan:
    """What to read and how to write: the output's contract name, schema, whether ids need
    to become strings (plain files whose `id` is a number), and whether plain rows become web_doc rows."""

    sources: list[datasets.Source]
    schema_name: str
    schema: pa.Schema
    stringify_ids: bool
    as_web_doc: bool = False


def _plain_schema(source: datasets.Source) -> pa.Schema:
    first = source.files[0]
    if source.kind == "parquet":
        schema = datasets.parquet_schema(first)
    else:
        rows = []
        for row in datasets.iter_jsonl(first):
            rows.append(_string_id(row))
            if len(rows) >= 1000:
                break
        try:
            schema = pa.Table.from_pylist(rows).schema
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise UserError(f"{first}: rows disagree on a column's type ({str(e).splitlines()[0]})") from None
    # Columns that were null in the sample are typed as strings; ids always are.
    fields = [pa.field(f.name, pa.string()) if f.type == pa.null() or f.name == "id" else f for f in schema]
    if "id" not in schema.names:
        fields.insert(0, pa.field("id", pa.string()))
    return pa.schema(fields)


def plan(specs: list[str], plain_as_web_doc: bool = False) -> Plan:
    sources = datasets.resolve_inputs(specs)
    kinds = {s.schema_name for s in sources}
    if kinds == {None} and plain_as_web_doc:
        return Plan(sources, WEB_DOC, contract(WEB_DOC).schema, stringify_ids=True, as_web_doc=True)
    if kinds == {None}:
        schema = _plain_schema(sources[0])
        return Plan(sources, DOCUMENTS, schema, stringify_ids=True)
    if None in kinds:
        raise UserError("--input mixes datasets and plain JSONL/Parquet files; dedup one kind at a time")
    if len(kinds) > 1:
        raise UserError(f"--input mixes {' and '.join(sorted(kinds))} datasets; dedup one kind at a time")
    (name,) = kinds
    if name == TOKEN_SHARD:
        raise UserError(f"{sources[0].spec}: token shards have no text to dedup; dedup the corpora before tokenizing")
    if name == DOCUMENTS:
        schema = datasets.parquet_schema(sources[0].dataset.files[0]) if sources[0].dataset.files else \
            contract(DOCUMENTS).schema
        return Plan(sources, DOCUMENTS, schema, stringify_ids=False)
    return Plan(sources, name, contract(name).schema, stringify_ids=False)


def removed_schema(schema: pa.Schema) -> pa.Schema:
    extra = [pa.field(n, pa.string()) for n in ("duplicate_of", "dedup_reason") if n not in schema.names]
    return pa.schema(list(schema) + extra)


def transform(args, options=None):
    """The dedup transform and the settings to record in the manifest, from the parsed options.
    With the pipeline's `options`, benchmark files the workers cannot read are staged to
    --temp_location first (`pipelines.worker_paths`)."""
    from dedup import beam as dedup_beam
    from dedup.normalize import NormalizeConfig

    if args.method == "exact":
        cfg = NormalizeConfig(lowercase=not args.keep_case, punctuation=args.punctuation, digits=args.digits)
        return dedup_beam.ExactDedup(cfg), dataclasses.asdict(cfg)
    if args.method == "url":
        return dedup_beam.UrlDedup(prefer=args.prefer), {"prefer": args.prefer}
    if args.method == "minhash":
        base = dedup_beam.CODE_MINHASH if args.preset == "code" else dedup_beam.WEB_MINHASH
        changes = {k: v for k, v in {
            "ngram": args.ngram, "mode": args.shingle, "num_perm": args.num_perm, "bands": args.bands,
            "rows": args.rows, "threshold": args.threshold, "seed": args.seed,
        }.items() if v is not None}
        if "bands" in changes or "rows" in changes:
            bands, rows = changes.get("bands", base.bands), changes.get("rows", base.rows)
            changes.setdefault("num_perm", max(base.num_perm, bands * rows))
        try:
            cfg = dataclasses.replace(base, **changes)
        except ValueError as e:
            raise UserError(str(e)) from None
        if args.cc_rounds < 1 or (args.bucket_shards is not None and args.bucket_shards < 1) or args.batch_size < 1:
            raise UserError("--cc-rounds, --bucket-shards and --batch-size must be at least 1")
        if args.verify_limit < 1:
            raise UserError("--verify-limit must be at least 1")
        settings = {**dataclasses.asdict(cfg), "preset": args.preset, "verify": args.verify,
                    "verify_limit": args.verify_limit, "cc_rounds": args.cc_rounds,
                    "bucket_shards": args.bucket_shards or "auto"}
        return dedup_beam.MinHashDedup(cfg, verify=args.verify, cc_rounds=args.cc_rounds,
                                       bucket_shards=args.bucket_shards, batch_size=args.batch_size,
                                       verify_limit=args.verify_limit), settings
    if args.method == "decontaminate":
        from dedup.ngrams import BenchmarkIndex

        paths = benchmark_files(args.benchmark)
        if args.ngram < 3:
            raise UserError("--ngram must be at least 3")
        # Build the index once here too: bad files fail now, in one line, and the size gets logged.
        index = BenchmarkIndex.from_files(paths, fields=args.field, n=args.ngram, max_items=args.max_items)
        log.info("benchmark index: %d items from %d files, %d n-grams, %.1f MiB", len(index.items), len(paths),
                 index.num_ngrams, index.total_bytes / 2**20)
        settings = {"benchmarks": paths, "fields": args.field, "ngram": args.ngram, "mode": args.mode,
                    "max_items": args.max_items, "index_items": len(index.items),
                    "index_ngrams": index.num_ngrams, "index_bytes": index.total_bytes}
        if options is not None:  # the index is built inside the pipeline, from files its workers can open
            from pipelines import worker_paths

            paths = [worker_paths.stage(options, path, "--benchmark") for path in paths]
        return dedup_beam.Decontaminate(paths, fields=args.field, n=args.ngram, mode=args.mode,
                                        max_items=args.max_items), settings
    raise UserError(f"unknown dedup method {args.method!r}")


def components_line(counters: dict[str, int], rounds: int | None) -> str | None:
    """Whether the connected components converged, from `dedup.beam.ConnectedComponents`' counters."""
    if "in" not in counters:
        return None
    used = max((int(k[len("cc_round"):-len("_edges")]) for k in counters
                if k.startswith("cc_round") and k.endswith("_edges") and counters[k]), default=0)
    left = counters.get("cc_unconverged_nodes", 0)
    if left:
        return f"connected components: NOT converged after {used} rounds ({left:,} nodes still contracting)"
    return f"connected components: converged in {used} of {rounds} rounds"


def _counted(row, counter):
    counter.inc()
    return row


def _string_id(row: dict) -> dict:
    if row.get("id") is not None and not isinstance(row["id"], str):
        row = dict(row, id=str(row["id"]))
    return row


def run(args, beam_args: list[str], plain_as_web_doc: bool = False) -> int:
    """`deepcorpus dedup METHOD`, and `math decontaminate` (`plain_as_web_doc`: plain JSONL/Parquet
    inputs become a web_doc dataset, not a documents dataset of their own columns)."""
    import apache_beam as beam
    from apache_beam.metrics import Metrics

    from pipelines import summary
    from pipelines.io import ReadDocuments
    from pipelines.stage import Stage

    start = time.time()
    if args.removed and os.path.abspath(args.removed) == os.path.abspath(args.output):
        raise UserError("--removed must differ from --output")
    from deepcorpus.core import outputs as safe

    for path in [args.output] + ([args.removed] if args.removed else []):  # before any work: refuse early
        safe.check_dataset_output(path, replace=getattr(args, "force", False))
    p_plan = plan(args.input, plain_as_web_doc)
    from pipelines import runner, worker_paths

    # Workers read the inputs and write the parts straight into the outputs: on a remote runner all
    # of them must be paths its workers can open (checked now, in one line, before any job runs).
    options = runner.pipeline_options(beam_args)
    worker_paths.require(options, [("--input", f) for s in p_plan.sources
                                   for f in (s.dataset.files if s.dataset else s.files)]
                         + [("--output", args.output), ("--removed", args.removed)])
    dedup, settings = transform(args, options)
    what = f"{args.command} {args.method}"
    stage = Stage(what, beam_args, command=args.command_line)
    rows = stage.pipeline | "Read" >> ReadDocuments(p_plan.sources)
    if p_plan.stringify_ids:
        rows = rows | "StringIds" >> beam.Map(_string_id)
    if p_plan.as_web_doc:
        from pipelines.math.documents import as_web_doc

        rows = rows | "AsWebDoc" >> beam.Map(as_web_doc)
    inputs = [p for s in p_plan.sources for p in ([s.dataset.path] if s.dataset else s.files)]
    options = {"method": args.method, "settings": settings}
    force = getattr(args, "force", False)
    # Every row that goes in comes out kept or removed, counted at both ends of the transform and
    # checked after the run (cheap, always on): a loss anywhere in between fails the command.
    rows = rows | "CountIn" >> beam.Map(_counted, Metrics.counter("dedup", "in"))
    outputs = rows | f"Dedup{args.method.title()}" >> dedup
    kept = outputs.kept | "CountKept" >> beam.Map(_counted, Metrics.counter("dedup", "kept"))
    removed = outputs.removed | "CountRemoved" >> beam.Map(_counted, Metrics.counter("dedup", "removed"))
    flag_only = args.method == "decontaminate" and args.mode == "flag"  # kept keeps every row
    with stage:
        _ = kept | "WriteKept" >> stage.write(args.output, p_plan.schema_name, p_plan.schema, inputs=inputs,
                                                      options=options, replace=force)
        if args.removed:
            _ = removed | "WriteRemoved" >> stage.write(args.removed, DOCUMENTS, removed_schema(p_plan.schema),
                                                                inputs=inputs, options=options, replace=force)
        counters = stage.run()
        ledger = summary.balance(counters, "dedup", ("kept",) if flag_only else ("kept", "removed"),
                                 dropped_prefix=None).check()
        convergence = components_line(counters.get("minhash", {}), getattr(args, "cc_rounds", None))
        if convergence and "NOT" in convergence:
            log.warning("%s; those clusters came out split (fewer removals, never a wrong one): raise "
                        "--cc-rounds to finish them", convergence)
        record = {"method": args.method, "settings": settings, "counters": counters}
        manifest = stage.commit(args.output, extra={"dedup": record})
        committed = {"kept": manifest["row_count"]}
        lines = [f"kept: {manifest['row_count']:,} rows -> {args.output}"]
        if args.removed:
            removed_manifest = stage.commit(args.removed, extra={"dedup": record, "removed_from": args.output})
            if not flag_only:
                committed["removed"] = removed_manifest["row_count"]
            lines.append(f"removed: {removed_manifest['row_count']:,} rows -> {args.removed}")
        summary.check_committed(ledger, committed)
    print(summary.format_table(counters, title=what))
    print(ledger.line())
    if args.method == "minhash":
        print(convergence)
    print("\n".join(lines))
    log.info("%s done in %.1fs", what, time.time() - start)
    return 0
