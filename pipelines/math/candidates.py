"""Stage 1 of `math run`, once per run directory, as two pipelines:

    extracted/   read + extract + language ID, streamed: the crawl's file list is spread over the
                 workers (a Reshuffle of paths, never of pages), each file read, extracted and
                 written where it is read; read_errors.jsonl lists files that did not end cleanly
    candidates/  URL, exact and near-dedup decided on slim records (`dedup_slim`), applied part by
                 part (`parts.ApplyByPart`); candidates_removed-*.jsonl lists what was removed and why

Each is reused while what it was made from is unchanged: the crawl inputs (sizes and modification
times; listings by their own identity), the extraction options and the code for `extracted/`; its
commit and the dedup settings for `candidates/`.
"""

from __future__ import annotations

import dataclasses
import logging

import apache_beam as beam
from apache_beam.metrics import Metrics

from deepcorpus.core import datasets, fingerprint, storage
from deepcorpus.core.contracts import WEB_DOC
from deepcorpus.core.errors import UserError
from pipelines import summary
from pipelines.io import WriteDataset, WriteJsonl
from pipelines.math import ledger
from pipelines.math import transforms as T
from pipelines.math.config import MathRunConfig
from pipelines.math.dedup_slim import SlimDedup, SlimRecordsFn, bucket_shards
from pipelines.math.inputs import ExpandInputs, Spec
from pipelines.parts import ApplyByPart, ListParts
from pipelines.stage import Stage

log = logging.getLogger(__name__)


def extract_graph(p: beam.Pipeline, cfg: MathRunConfig, specs: list[Spec], target: datasets.Target,
                  progress=None) -> None:
    """Read, extract and identify the language of every page of the crawl -> dataset `target`."""
    files = p | "CrawlInputs" >> beam.Create(specs) | "ExpandInputs" >> beam.ParDo(ExpandInputs(cfg.crawl_base,
                                                                                             progress))
    read = (
        files
        | "ByPath" >> beam.Map(lambda path: (path, None))
        | "SpreadFiles" >> beam.GroupByKey()  # parallel over files, each once; the pages are never shuffled
        | "OncePerPath" >> beam.ParDo(_OncePerPath())
        | "Read" >> beam.ParDo(T.ReadCrawlFn(progress)).with_outputs("errors", main="pages")
    )
    _ = read.errors | "WriteReadErrors" >> WriteJsonl(storage.join(cfg.output, "read_errors.jsonl"))
    _ = (
        read.pages
        | "Batch" >> beam.BatchElements(min_batch_size=8, max_batch_size=64)
        | "Extract" >> beam.ParDo(T.ExtractFn(cfg.min_chars, cfg.caps))
        | "LanguageId" >> beam.ParDo(T.LanguageIdFn(cfg.languages))
        | "WriteExtracted" >> WriteDataset(target)
    )


class _OncePerPath(beam.DoFn):
    """A crawl file listed more than once (overlapping globs, a repeated listing line) is read once."""

    def __init__(self):
        self.duplicates = Metrics.counter("read", "duplicate_files")

    def process(self, element):
        path, listed = element
        extra = sum(1 for _ in listed) - 1
        if extra:
            self.duplicates.inc(extra)
        yield path


class _CountFormulas(beam.DoFn):
    """Candidates with and without formulas: the training step's sampling rate comes from these."""

    def __init__(self):
        self.with_math = Metrics.counter("candidates", "with_formulas")
        self.without = Metrics.counter("candidates", "without_formulas")

    def process(self, row):
        (self.with_math if (row.get("extraction") or {}).get("n_formulas") else self.without).inc()
        yield row


def dedup_graph(p: beam.Pipeline, cfg: MathRunConfig, extracted: str, rows: int, target: datasets.Target,
                removed_path: str, progress=None) -> None:
    """URL, exact and near-dedup of dataset `extracted` -> dataset `target` and the removal listing."""
    slim = (
        p
        | "Extracted" >> beam.Create([extracted])
        | "ListParts" >> beam.ParDo(ListParts(progress))
        | "SpreadParts" >> beam.Reshuffle()
        | "SlimRecords" >> beam.ParDo(SlimRecordsFn(progress=progress))
    )
    _, removed = slim | "Dedup" >> SlimDedup(bucket_shards(rows))
    _ = (
        removed
        | "RemovedRecord" >> beam.Map(lambda r: {k: r[k] for k in ("id", "url", "duplicate_of", "reason")})
        | "WriteRemoved" >> WriteJsonl(removed_path, sharded=True)
    )
    _ = (
        removed
        | "RemovalByPart" >> beam.Map(lambda r: (r["part"], (r["row"], None)))
        | "DropRemoved" >> ApplyByPart(extracted, "drop", stage="candidates", progress=progress, by="row")
        | "CountFormulas" >> beam.ParDo(_CountFormulas())
        | "WriteCandidates" >> WriteDataset(target)
    )


def extract_options(cfg: MathRunConfig) -> dict:
    """The settings that decide `extracted/` (its resume fingerprint's options)."""
    return {"min_chars": cfg.min_chars, "languages": list(cfg.languages), "caps": dataclasses.asdict(cfg.caps),
            "crawl_base": cfg.crawl_base}


def candidates_options(cfg: MathRunConfig) -> dict:
    """The settings that decide `candidates/` given `extracted/`."""
    from dedup.beam import WEB_MINHASH

    return {"minhash": dataclasses.asdict(WEB_MINHASH), "url": "latest", "exact": "content_hash"}


def build_extracted(cfg: MathRunConfig, specs: list[Spec], named: list[str], beam_args: list[str],
                    command: list[str]) -> tuple[dict, list[str]]:
    """`extracted/`: (counters, conservation lines), from its manifest when it is reused."""
    path = storage.join(cfg.output, "extracted")
    options = extract_options(cfg)
    manifest, changed = datasets.reusable(path, fingerprint.make(named, options, base=cfg.output))
    if manifest is not None:
        log.info("reusing %s (%d pages; same crawl files, options and code)", path, manifest["row_count"])
        return manifest.get("counters", {}), manifest.get("conservation", [])
    if changed:
        log.info("recomputing %s: %s", path, "; ".join(changed[:5]))
    with Stage("candidates: read, extract, langid", beam_args, command=command) as stage:
        stage.track_jsonl(storage.join(cfg.output, "read_errors.jsonl"))
        target = stage.output(path, WEB_DOC, inputs=named, options=options, replace=True, base=cfg.output)
        extract_graph(stage.pipeline, cfg, specs, target, stage.progress("pages"))
        counters = stage.run()
        check_something_was_read(counters, named, cfg.output)
        lines = ledger.lines(ledger.extraction(counters))
        ledger.committed(path, counters.get("langid", {}).get("out", 0), stage.written_rows(path))
        stage.commit(path, extra={"counters": counters, "conservation": lines})
    return counters, lines


def build_candidates(cfg: MathRunConfig, specs: list[Spec], named: list[str], beam_args: list[str],
                     command: list[str]) -> tuple[dict, list[str]]:
    """extracted/ then candidates/, each reused while what it was made from is unchanged: (the
    counters of both, their conservation lines), from the manifests when reused."""
    counters, lines = build_extracted(cfg, specs, named, beam_args, command)
    extracted = storage.join(cfg.output, "extracted")
    path = storage.join(cfg.output, "candidates")
    options = candidates_options(cfg)
    manifest, changed = datasets.reusable(path, fingerprint.make([extracted], options, base=cfg.output))
    if manifest is not None:
        log.info("reusing %s (%d pages; same extracted pages, options and code)", path, manifest["row_count"])
        return manifest.get("counters", {}), manifest.get("conservation", [])
    if changed:
        log.info("recomputing %s: %s", path, "; ".join(changed[:5]))
    rows = datasets.open_dataset(extracted, WEB_DOC).row_count
    removed_path = storage.join(cfg.output, "candidates_removed.jsonl")
    with Stage("candidates: dedup", beam_args, command=command) as stage:
        stage.track_jsonl(removed_path, sharded=True)
        target = stage.output(path, WEB_DOC, inputs=[extracted], options=options, replace=True, base=cfg.output)
        dedup_graph(stage.pipeline, cfg, extracted, rows, target, removed_path, stage.progress("rows"))
        dedup_counters = stage.run()
        lines = lines + ledger.lines(ledger.dedup(dedup_counters, rows))
        ledger.committed(path, dedup_counters.get("candidates", {}).get("rows_out", 0), stage.written_rows(path))
        counters = summary.merge(counters, dedup_counters)
        stage.commit(path, extra={"counters": counters, "conservation": lines})
    return counters, lines


def check_something_was_read(counters: dict, files: list[str], output: str) -> None:
    """A crawl of which not one record could be read is the input's fault, said as such (one bad
    file among many is only reported, in read_errors.jsonl): not "no negative examples" later."""
    if counters.get("read", {}).get("records", 0):
        return
    errors_path = storage.join(output, "read_errors.jsonl")
    errors = {r["file"]: r["error"] for r in datasets.iter_jsonl(errors_path)} if storage.exists(errors_path) else {}

    def why(f: str) -> str:
        if f in errors:
            return errors[f]
        if not (storage.is_remote(f) or storage.is_http(f)) and storage.size(f) == 0:
            return "empty file"
        return "no WARC/WET records in it"

    if len(files) == 1:
        raise UserError(f"{files[0]}: {why(files[0])}")
    raise UserError(f"none of the {len(files)} crawl files holds a readable record ({files[0]}: {why(files[0])}; "
                    f"see {errors_path})")
