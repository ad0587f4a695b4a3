"""Stage 3 of `math run`: the last iteration's collected pages, decontaminated against the
benchmark files -> `corpus/` (web_doc) and `decontamination_removed.jsonl`; rows in = kept +
removed is checked from the counters and the committed rows (exit 1 on a mismatch)."""

from __future__ import annotations

import logging

import apache_beam as beam

from deepcorpus.core import datasets, fingerprint, storage
from deepcorpus.core.contracts import WEB_DOC
from pipelines.io import ReadDocuments
from pipelines.math import ledger
from pipelines.math.config import MathRunConfig
from pipelines.math.iteration import Iteration, web_docs
from pipelines.stage import Stage

log = logging.getLogger(__name__)


def build_corpus(cfg: MathRunConfig, last: Iteration, beam_args: list[str],
                 command: list[str]) -> tuple[dict, list[str]]:
    """Decontaminate the last iteration's collected pages: (counters, conservation lines); reused
    while they, the benchmark files and the code are those it was made from."""
    path = storage.join(cfg.output, "corpus")
    inputs = [last.collected, *cfg.benchmarks]
    options = {"iteration": last.k, "benchmarks": cfg.benchmarks, "ngram": 10}
    manifest, changed = datasets.reusable(path, fingerprint.make(inputs, options, base=cfg.output))
    if manifest is not None:
        log.info("reusing %s (%d documents; same collected pages, benchmarks and code)", path, manifest["row_count"])
        return manifest.get("counters", {}), manifest.get("conservation", [])
    if changed:
        log.info("recomputing %s: %s", path, "; ".join(changed[:5]))
    collected = datasets.read_manifest(last.collected)["row_count"]
    stage = Stage("corpus (decontaminate)", beam_args, command=command)
    docs = stage.pipeline | "ReadCollected" >> ReadDocuments([web_docs(last.collected)],
                                                             progress=stage.progress("rows"))
    with stage:
        if cfg.benchmarks:
            from dedup.beam import Decontaminate

            benchmarks = [cfg.for_workers(f) for b in cfg.benchmarks for f in storage.expand(b)]
            out = docs | "Decontaminate" >> Decontaminate(benchmarks, n=10)
            docs = out.kept
            _ = (
                out.removed
                | "RemovedRecord" >> beam.Map(lambda r: {"id": r["id"], "url": r["url"],
                                                         "benchmark_item": r["duplicate_of"],
                                                         "reason": r["dedup_reason"]})
                | "WriteRemoved" >> stage.write_jsonl(storage.join(cfg.output, "decontamination_removed.jsonl"))
            )
        _ = docs | "WriteCorpus" >> stage.write(path, WEB_DOC, inputs=inputs, options=options, replace=True,
                                                base=cfg.output)
        counters = stage.run()
        balances = ledger.corpus(counters, collected)
        kept = counters.get("decontaminate", {}).get("kept", collected) if cfg.benchmarks else collected
        ledger.committed(path, kept, stage.written_rows(path))
        lines = ledger.lines(balances)
        stage.commit(path, extra={"iteration": last.k, "benchmarks": cfg.benchmarks, "counters": counters,
                                  "conservation": lines})
    return counters, lines
