"""Stage 1 of `math run`, once per run directory: read the crawl, extract, identify the language,
URL-dedup and near-dedup -> `candidates/` (web_doc), `candidates_removed.jsonl`, `read_errors.jsonl`."""

from __future__ import annotations

import logging

import apache_beam as beam

from deepcorpus.core import datasets, fingerprint, storage
from deepcorpus.core.contracts import WEB_DOC
from deepcorpus.core.errors import UserError
from pipelines.io import WriteDataset, WriteJsonl
from pipelines.math import transforms as T
from pipelines.math.config import MathRunConfig
from pipelines.stage import Stage

log = logging.getLogger(__name__)


def candidates_graph(p: beam.Pipeline, cfg: MathRunConfig, files: list[str], target: datasets.Target) -> None:
    """The candidates pipeline's steps, added to `p`, writing dataset `target` (tests build it under
    Dataflow options)."""
    from dedup.beam import WEB_MINHASH, MinHashDedup, UrlDedup

    read = p | "CrawlFiles" >> beam.Create(files) | "Read" >> beam.ParDo(T.ReadCrawlFn()).with_outputs(
        "errors", main="pages")
    _ = read.errors | "WriteReadErrors" >> WriteJsonl(storage.join(cfg.output, "read_errors.jsonl"))
    docs = (
        read.pages
        | "Spread" >> beam.Reshuffle()  # one file's pages fan out to every worker
        | "Batch" >> beam.BatchElements(min_batch_size=8, max_batch_size=64)
        | "Extract" >> beam.ParDo(T.ExtractFn(cfg.min_chars))
        | "LanguageId" >> beam.ParDo(T.LanguageIdFn(cfg.languages))
    )
    by_url = docs | "UrlDedup" >> UrlDedup()
    near = by_url.kept | "NearDedup" >> MinHashDedup(WEB_MINHASH)
    _ = near.kept | "WriteCandidates" >> WriteDataset(target)
    _ = (
        (by_url.removed, near.removed)
        | "Removed" >> beam.Flatten()
        | "RemovedRecord" >> beam.Map(lambda r: {"id": r["id"], "url": r["url"], "duplicate_of": r["duplicate_of"],
                                                 "reason": r["dedup_reason"]})
        | "WriteRemoved" >> WriteJsonl(storage.join(cfg.output, "candidates_removed.jsonl"))
    )


def candidates_options(cfg: MathRunConfig) -> dict:
    """The settings that decide the candidates (the resume fingerprint's options)."""
    import dataclasses

    from dedup.beam import WEB_MINHASH

    return {"min_chars": cfg.min_chars, "languages": list(cfg.languages), "minhash": dataclasses.asdict(WEB_MINHASH)}


def build_candidates(cfg: MathRunConfig, files: list[str], beam_args: list[str], command: list[str]) -> dict:
    """Read + extract + language ID + URL dedup + near-dedup, once per run directory: reused while
    the crawl files, the options and the code are those it was made from."""
    path = storage.join(cfg.output, "candidates")
    options = candidates_options(cfg)
    manifest, changed = datasets.reusable(path, fingerprint.make(files, options, base=cfg.output))
    if manifest is not None:
        log.info("reusing %s (%d pages; same crawl files, options and code)", path, manifest["row_count"])
        return manifest.get("counters", {})
    if changed:
        log.info("recomputing %s: %s", path, "; ".join(changed[:5]))
    with Stage("candidates (read, extract, langid, dedup)", beam_args, command=command) as stage:
        for name in ("read_errors.jsonl", "candidates_removed.jsonl"):
            stage.track_jsonl(storage.join(cfg.output, name))
        target = stage.output(path, WEB_DOC, inputs=files, options=options, replace=True, base=cfg.output)
        candidates_graph(stage.pipeline, cfg, files, target)
        counters = stage.run()
        check_something_was_read(counters, files, cfg.output)
        stage.commit(path, extra={"counters": counters})
    return counters


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
