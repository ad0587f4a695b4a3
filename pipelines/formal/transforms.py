"""The formal pipeline's Beam steps: prove batches of candidates with a Lean pool per worker.

`ProveBatchFn` starts its Lean backend (a REPL pool, or a client of a Lean server) once per worker in
`setup`, or with `LeanConfig.shared` acquires the machine's one backend (formal/shared_pool.py), so
REPL processes and their loaded headers live as long as the worker; each element is a
batch of candidates, verified concurrently by the pool. `UnverifiedFn` is the path without Lean.
Counters use the stages the user sees: filter, prove, decompose, lean.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import apache_beam as beam
from apache_beam.metrics import Metrics

from formal.generators import Candidate
from formal.prover import ProveConfig, prove_batch, unverified_rows

log = logging.getLogger(__name__)

CACHE = "cache"  # ProveBatchFn's second output: new cache entries as JSON lines


def _count(counters) -> None:
    for (stage, name), value in counters.items():
        Metrics.counter(stage, name).inc(value)


class ProveBatchFn(beam.DoFn):
    """A list of candidate dicts in, one formal_proof row per candidate out."""

    def __init__(self, lean_config, prove_config: ProveConfig, cache_path: str | None = None, joined: bool = False):
        self.lean_config = lean_config
        self.prove_config = prove_config
        self.cache_path = cache_path
        self.joined = joined  # elements are (candidate, cache entries) from JoinCache
        self.verifier = None

    def setup(self):
        from formal.backends import detect

        if self.lean_config.shared:
            from formal.shared_pool import SharedLean

            self.verifier = SharedLean(self.lean_config).acquire()  # one pool per machine
        else:
            self.verifier = detect(self.lean_config)
        # Rows name the toolchain that checked them, as the backend reports it.
        self.prove_config = replace(self.prove_config, toolchain=self.verifier.toolchain)
        if self.cache_path:
            from formal.cache import CachedVerifier, VerificationCache

            self.verifier = CachedVerifier(self.verifier, VerificationCache(self.cache_path))

    def process(self, batch):
        if not self.joined:
            yield from self._prove([Candidate.from_dict(c) for c in batch], self.verifier)
            return
        # (candidate, its statement's cache entries) from the join: the batch's own cache in front
        # of the backend; what Lean newly answered goes out to be added to the dataset.
        from formal.cache import CachedVerifier, JoinedCache, statement_key

        cache = JoinedCache(e for _, entries in batch for e in entries)
        cands = [Candidate.from_dict(c) for c, _ in batch]
        yield from self._prove(cands, CachedVerifier(self.verifier, cache))
        Metrics.counter("lean", "cache_hits").inc(cache.hits)
        Metrics.counter("lean", "cache_misses").inc(cache.misses)
        skeys = {c["id"]: statement_key(c) for c, _ in batch}
        for key, result in cache.new:
            Metrics.counter("lean", "cache_added").inc()
            yield beam.pvalue.TaggedOutput(CACHE, json.dumps({"skey": skeys[result.id], "key": key,
                                                              "result": result.to_json()}, ensure_ascii=False))

    def _prove(self, cands, verifier):
        rows, counters = prove_batch(verifier, cands, self.prove_config)
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


class JoinCache(beam.PTransform):
    """Candidates -> (candidate, the cache entries of its statement), joined by the statement's key
    with the cache dataset (JSON lines `{"skey", "key", "result"}` in CACHE_DIR/*.jsonl). No side
    input: a group holds one statement's entries, a few per request its proving made before.

    Each round reads and shuffles the whole dataset (the definite answers of every earlier run of
    this directory, a few per statement and proof tried); entries of statements not in the round are
    dropped after the join. Two batches proving the same statement in one run may both add an
    entry for it: duplicates are harmless (the batch cache keeps one) and not yet compacted."""

    def __init__(self, cache_dir: str):
        super().__init__()
        self.cache_dir = cache_dir

    def expand(self, cands):
        from apache_beam.io import fileio

        from deepcorpus.core import storage
        from formal.cache import statement_key

        entries = (
            cands.pipeline
            | "MatchCache" >> fileio.MatchFiles(storage.join(self.cache_dir, "*.jsonl"),
                                                empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
            | "CachePaths" >> beam.Map(lambda m: m.path)
            | "ReadCache" >> beam.io.ReadAllFromText()
            | "ParseCache" >> beam.Map(json.loads)
            | "KeyCache" >> beam.Map(lambda e: (e["skey"], e))
        )
        keyed = cands | "KeyStatements" >> beam.Map(lambda c: (statement_key(c), c))
        return (
            {"cands": keyed, "cache": entries}
            | "Join" >> beam.CoGroupByKey()
            | "Pair" >> beam.FlatMap(_pair)
        )


def _pair(joined):
    _, group = joined
    entries = list(group["cache"])
    for c in group["cands"]:
        yield c, entries


class ProveCandidates(beam.PTransform):
    """Candidates (dicts) -> rows; batched for the pool when a Lean backend is configured.

    With `cache_dir` the verification cache is a dataset there, joined against (JoinCache) and
    added to (one new JSONL file set per run), so a rerun on Dataflow asks Lean nothing it answered
    before; `cache_path` is the local SQLite cache instead."""

    def __init__(self, lean_config=None, prove_config: ProveConfig | None = None, cache_path: str | None = None,
                 batch_size: int = 16, cache_dir: str | None = None):
        super().__init__()
        self.lean_config = lean_config
        self.prove_config = prove_config or ProveConfig()
        self.cache_path = cache_path
        self.batch_size = batch_size
        self.cache_dir = cache_dir

    def expand(self, cands):
        if self.lean_config is None:
            return cands | "Unverified" >> beam.ParDo(UnverifiedFn())
        joined = self.cache_dir is not None
        if joined:
            cands = cands | "JoinCache" >> JoinCache(self.cache_dir)
        out = (
            cands
            | "Spread" >> beam.Reshuffle()
            | "Batch" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "Prove" >> beam.ParDo(ProveBatchFn(self.lean_config, self.prove_config, self.cache_path, joined))
            .with_outputs(CACHE, main="rows")
        )
        if joined:
            import uuid

            from deepcorpus.core import storage

            # A file set of its own per run: nothing written before is overwritten.
            _ = out[CACHE] | "WriteCache" >> beam.io.WriteToText(
                storage.join(self.cache_dir, f"part-{uuid.uuid4().hex[:12]}"), file_name_suffix=".jsonl",
                skip_if_empty=True)
        return out.rows
