"""The formal pipeline's Beam steps: prove batches of candidates with a Lean pool per worker.

`ProveBatchFn` starts its Lean backend (a REPL pool, or a client of a Lean server) once per worker in
`setup`, so REPL processes and their loaded headers live as long as the worker; each element is a
batch of candidates, verified concurrently by the pool. `UnverifiedFn` is the path without Lean.
Counters use the stages the user sees: filter, prove, decompose, lean.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import apache_beam as beam
from apache_beam.metrics import Metrics

from formal.generators import Candidate
from formal.prover import ProveConfig, prove_batch, unverified_rows

log = logging.getLogger(__name__)


def _count(counters) -> None:
    for (stage, name), value in counters.items():
        Metrics.counter(stage, name).inc(value)


class ProveBatchFn(beam.DoFn):
    """A list of candidate dicts in, one formal_proof row per candidate out."""

    def __init__(self, lean_config, prove_config: ProveConfig, cache_path: str | None = None):
        self.lean_config = lean_config
        self.prove_config = prove_config
        self.cache_path = cache_path
        self.verifier = None

    def setup(self):
        from formal.backends import detect

        self.verifier = detect(self.lean_config)
        # Rows name the toolchain that checked them, as the backend reports it.
        self.prove_config = replace(self.prove_config, toolchain=self.verifier.toolchain)
        if self.cache_path:
            from formal.cache import CachedVerifier, VerificationCache

            self.verifier = CachedVerifier(self.verifier, VerificationCache(self.cache_path))

    def process(self, batch):
        cands = [Candidate.from_dict(c) for c in batch]
        rows, counters = prove_batch(self.verifier, cands, self.prove_config)
        _count(counters)
        log.info("proved a batch of %d: %d verified", len(cands), sum(1 for r in rows if r["verified"]))
        yield from rows

    def teardown(self):
        if self.verifier is not None:
            self.verifier.close()
            self.verifier = None


class UnverifiedFn(beam.DoFn):
    """Without a Lean runner: the statements and the generator's proofs, marked unverified."""

    def __init__(self):
        self.out = Metrics.counter("prove", "unverified")

    def process(self, cand: dict):
        self.out.inc()
        yield from unverified_rows([Candidate.from_dict(cand)])


class ProveCandidates(beam.PTransform):
    """Candidates (dicts) -> rows; batched for the pool when a Lean backend is configured."""

    def __init__(self, lean_config=None, prove_config: ProveConfig | None = None, cache_path: str | None = None,
                 batch_size: int = 16):
        super().__init__()
        self.lean_config = lean_config
        self.prove_config = prove_config or ProveConfig()
        self.cache_path = cache_path
        self.batch_size = batch_size

    def expand(self, cands):
        if self.lean_config is None:
            return cands | "Unverified" >> beam.ParDo(UnverifiedFn())
        return (
            cands
            | "Spread" >> beam.Reshuffle()
            | "Batch" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "Prove" >> beam.ParDo(ProveBatchFn(self.lean_config, self.prove_config, self.cache_path))
        )
