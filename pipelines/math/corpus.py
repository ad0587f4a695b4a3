"""Stage 3 of `math run`: the last iteration's collected pages, decontaminated against the
benchmark files -> `corpus/` (web_doc) and `decontamination_removed.jsonl`."""

from __future__ import annotations

import apache_beam as beam

from deepcorpus.core import storage
from deepcorpus.core.contracts import WEB_DOC
from pipelines.io import ReadDocuments, WriteJsonl
from pipelines.math.config import MathRunConfig
from pipelines.math.iteration import Iteration, web_docs
from pipelines.stage import Stage


def build_corpus(cfg: MathRunConfig, last: Iteration, beam_args: list[str], command: list[str]) -> dict:
    path = storage.join(cfg.output, "corpus")
    stage = Stage("corpus (decontaminate)", beam_args, command=command)
    docs = stage.pipeline | "ReadCollected" >> ReadDocuments([web_docs(last.collected)])
    if cfg.benchmarks:
        from dedup.beam import Decontaminate

        out = docs | "Decontaminate" >> Decontaminate(cfg.benchmarks, n=10)
        docs = out.kept
        _ = (
            out.removed
            | "RemovedRecord" >> beam.Map(lambda r: {"id": r["id"], "url": r["url"], "benchmark_item": r["duplicate_of"],
                                                     "reason": r["dedup_reason"]})
            | "WriteRemoved" >> WriteJsonl(storage.join(cfg.output, "decontamination_removed.jsonl"))
        )
    _ = docs | "WriteCorpus" >> stage.write(path, WEB_DOC)
    with stage:
        counters = stage.run()
        stage.commit(path, inputs=cfg.benchmarks,
                     extra={"iteration": last.k, "benchmarks": cfg.benchmarks, "counters": counters})
    return counters
