"""Beam transforms for dedup and decontamination, composing the pure functions of `dedup/`.

Every transform takes a PCollection of dicts with at least `id` and `text` (URL dedup also reads
`url` and `crawl_date`) and returns `DedupOutputs(kept, removed)`: `kept` holds the input dicts
unchanged, `removed` the dropped ones plus `duplicate_of` (the id of the document kept in their
cluster, or of the benchmark item) and `dedup_reason` ("exact", "url", "near_duplicate",
"benchmark").

Which document of a cluster is kept is decided by `rank_key(row) -> tuple`: the smallest key
wins, so the choice never depends on worker order. Nothing is ever collected on one worker:
exact and URL dedup group by key, near-dedup groups by LSH band and then finds clusters with
the distributed connected components of `dedup.components`.

    outputs = docs | "NearDedup" >> MinHashDedup(WEB_MINHASH)
    outputs.kept | ...; outputs.removed | ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics
from apache_beam.pvalue import AsSingleton

from dedup.components import neighbour_step, normalized, settle_step, small_star
from dedup.minhash import MinHashConfig, MinHasher, jaccard_of_sets
from dedup.ngrams import BenchmarkIndex
from dedup.normalize import NormalizeConfig, normalized_hash
from dedup.urls import canonical_url

log = logging.getLogger(__name__)

RankKey = Callable[[dict], tuple]

# BigCode's near-dedup of The Stack: 5-grams, 256 permutations (25 bands x 10 rows), Jaccard 0.7.
CODE_MINHASH = MinHashConfig(ngram=5, mode="word", num_perm=256, bands=25, rows=10, threshold=0.7)
# Web text: 5-grams and Jaccard 0.8. 20 bands x 13 rows put the S-curve's midpoint near 0.8 and
# make it steep: a pair at 0.9 becomes a candidate with p = 0.997, a pair at 0.6 with p = 0.026.
WEB_MINHASH = MinHashConfig(ngram=5, mode="word", num_perm=260, bands=20, rows=13, threshold=0.8)

DEFAULT_CC_ROUNDS = 16


class DedupOutputs(NamedTuple):
    kept: beam.PCollection
    removed: beam.PCollection


def earliest_first(row: dict) -> tuple:
    """Default rank for exact and near dedup: the earliest crawl, then the smallest id."""
    return (row.get("crawl_date") or "\U0010ffff", str(row["id"]))


def _descending(s: str) -> str:
    # Reverses string order for one component of a rank key, keeping keys plain (encodable) data.
    return "".join(chr(0x10FFFF - ord(c)) for c in s) + "\U0010ffff"


def latest_first(row: dict) -> tuple:
    """Default rank for URL dedup: the latest crawl (rows without a date last), then the smallest id."""
    date = row.get("crawl_date")
    return (0, _descending(date), str(row["id"])) if date else (1, "", str(row["id"]))


def _removed(row: dict, keeper_id, reason: str) -> dict:
    out = dict(row)
    out["duplicate_of"] = None if keeper_id is None else str(keeper_id)
    out["dedup_reason"] = reason
    return out


class _KeepFirstPerKey(beam.DoFn):
    """Of the rows sharing a key, keep the one with the smallest rank; the others are removed."""

    def __init__(self, stage: str, reason: str, rank_key: RankKey):
        self.stage = stage
        self.reason = reason
        self.rank_key = rank_key
        self.kept = Metrics.counter(stage, "kept")
        self.dropped = Metrics.counter(stage, f"dropped_{reason}")

    def process(self, element):
        _, rows = element
        # Two passes over the grouped rows instead of a list: on Dataflow a hot key's values
        # are paged from shuffle and need not fit in memory.
        best, best_rank, best_at = None, None, -1
        for i, row in enumerate(rows):
            rank = self.rank_key(row)
            if best is None or rank < best_rank:
                best, best_rank, best_at = row, rank, i
        self.kept.inc()
        yield best
        for i, row in enumerate(rows):
            if i != best_at:  # by position: a second pass may hand out fresh copies of the rows
                self.dropped.inc()
                yield beam.pvalue.TaggedOutput("removed", _removed(row, best["id"], self.reason))


class ExactDedup(beam.PTransform):
    """Keep one document per hash of normalized text (see `dedup.normalize`)."""

    def __init__(self, normalize: NormalizeConfig = NormalizeConfig(), rank_key: RankKey | None = None,
                 stage: str = "exact"):
        super().__init__()
        self.normalize = normalize
        self.rank_key = rank_key or earliest_first
        self.stage = stage

    def expand(self, rows):
        normalize, stage = self.normalize, self.stage
        counter = Metrics.counter(stage, "in")

        def key(row):
            counter.inc()
            return normalized_hash(row["text"] or "", normalize), row

        results = (
            rows
            | "KeyByTextHash" >> beam.Map(key)
            | "GroupByHash" >> beam.GroupByKey()
            | "KeepFirst" >> beam.ParDo(_KeepFirstPerKey(stage, "exact", self.rank_key)).with_outputs(
                "removed", main="kept")
        )
        return DedupOutputs(results.kept, results.removed)


class _KeyByUrl(beam.DoFn):
    def __init__(self, stage: str):
        self.seen = Metrics.counter(stage, "in")
        self.no_url = Metrics.counter(stage, "kept_no_url")

    def process(self, row):
        self.seen.inc()
        url = row.get("url")
        if not url:
            self.no_url.inc()
            yield beam.pvalue.TaggedOutput("no_url", row)
            return
        yield canonical_url(url), row


class UrlDedup(beam.PTransform):
    """Keep one document per canonical URL (see `dedup.urls`); by default the latest crawl.

    Rows without a URL pass through as kept."""

    def __init__(self, prefer: str = "latest", rank_key: RankKey | None = None, stage: str = "url"):
        super().__init__()
        if prefer not in ("latest", "earliest"):
            raise ValueError(f"UrlDedup(prefer=...) must be 'latest' or 'earliest', not {prefer!r}")
        self.rank_key = rank_key or (latest_first if prefer == "latest" else earliest_first)
        self.stage = stage

    def expand(self, rows):
        keyed = rows | "KeyByUrl" >> beam.ParDo(_KeyByUrl(self.stage)).with_output_types(
            tuple[str, dict]).with_outputs("no_url", main="keyed")
        results = (
            keyed.keyed
            | "GroupByUrl" >> beam.GroupByKey()
            | "KeepFirst" >> beam.ParDo(_KeepFirstPerKey(self.stage, "url", self.rank_key)).with_outputs(
                "removed", main="kept")
        )
        kept = (results.kept, keyed.no_url) | "WithNoUrl" >> beam.Flatten()
        return DedupOutputs(kept, results.removed)


# --- near-dedup ----------------------------------------------------------------------------------


class _BandKeysFn(beam.DoFn):
    """MinHash band keys of a batch of documents, as (shard, [(band key, node), ...]) elements.

    Beam's per-element cost, not hashing, dominates when every (band key, node) pair is its own
    element (20 per document). Pairs are packed per shard of the band-key space instead, so the
    shuffle moves one element per shard per batch; each shard's buckets are formed after it."""

    def __init__(self, config: MinHashConfig, rank_key: RankKey, stage: str, shards: int):
        self.config = config
        self.rank_key = rank_key
        self.shards = shards
        self.seen = Metrics.counter(stage, "in")
        self.no_shingles = Metrics.counter(stage, "no_shingles")

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, batch):
        signatures = self.hasher.signatures([row["text"] or "" for row in batch])
        by_shard: dict[int, list] = {}
        shards = self.shards
        for row, keys in zip(batch, self.hasher.band_keys_batch(signatures)):
            self.seen.inc()
            if not keys:
                self.no_shingles.inc()
                continue
            node = node_of(row, self.rank_key)
            for key in keys:
                by_shard.setdefault(int.from_bytes(key[2:6], "big") % shards, []).append((key, node))
        yield from by_shard.items()


def node_of(row: dict, rank_key: RankKey) -> tuple:
    """A document's node in the candidate graph: its rank, then its id (so the smallest node of a
    cluster is the document to keep)."""
    return (tuple(rank_key(row)), str(row["id"]))


class _StarEdgesFn(beam.DoFn):
    """Within one shard: documents sharing a band key form a bucket, and each bucket links its
    documents to its smallest one: a star, not all pairs."""

    def __init__(self, stage: str):
        self.buckets = Metrics.counter(stage, "candidate_buckets")
        self.edges = Metrics.counter(stage, "candidate_edges")

    def process(self, element):
        _, packs = element
        buckets: dict[bytes, list] = {}
        for pack in packs:
            for key, node in pack:
                buckets.setdefault(key, []).append(node)
        edges = set()
        for nodes in buckets.values():
            if len(nodes) < 2:
                continue
            self.buckets.inc()
            smallest = min(nodes)
            edges.update((node, smallest) for node in nodes if node != smallest)
        self.edges.inc(len(edges))
        yield from edges


class _SettleFn(beam.DoFn):
    def process(self, element):
        labels, edges = settle_step(*element)
        for label in labels:
            yield beam.pvalue.TaggedOutput("settled", label)
        yield from edges


class _StarRound(beam.PTransform):
    """One round of `dedup.components`: large-star (settling finished stars on the way), then
    small-star, each after a GroupByKey. Returns (edges to go on, settled (node, label) pairs)."""

    def expand(self, edges):
        settle = (
            edges
            | "BothWays" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
            | "GroupNeighbours" >> beam.GroupByKey()
            | "LargeStar" >> beam.FlatMap(lambda kv: neighbour_step(kv[0], kv[1]))
            | "GroupAtSmaller" >> beam.GroupByKey()
            | "Settle" >> beam.ParDo(_SettleFn()).with_outputs("settled", main="edges")
        )
        edges = (
            settle.edges
            | "GroupAtLarger" >> beam.GroupByKey()
            | "SmallStar" >> beam.FlatMap(lambda kv: small_star(kv[0], kv[1]))
        )
        return edges, settle.settled


class _LabelFn(beam.DoFn):
    """A node's label: the smallest of its parents; more than one parent means not converged."""

    def __init__(self, stage: str):
        self.unconverged = Metrics.counter(stage, "cc_unconverged_nodes")

    def process(self, element):
        node, parents = element
        parents = set(parents)
        if len(parents) > 1:
            self.unconverged.inc()
        yield node, min(parents)


class ConnectedComponents(beam.PTransform):
    """Edges (u, v) -> (node, smallest node of its component) for every non-smallest node.

    Runs `rounds` alternating large-star/small-star rounds (Beam graphs cannot loop); finished
    stars leave after the round that completes them, so later rounds only carry what is still
    contracting. Random graphs finish in about 6 rounds, a chain of 20,000 nodes in ascending
    order in 16 (shuffled: 12). If a
    component has not converged, its nodes still get labels inside the component, only the
    component may come out split into several clusters (fewer documents removed, never a wrong
    one): the counter `cc_unconverged_nodes` says how many nodes were affected.
    """

    def __init__(self, rounds: int = DEFAULT_CC_ROUNDS, stage: str = "minhash"):
        super().__init__()
        self.rounds = rounds
        self.stage = stage

    def expand(self, edges):
        current = edges | "Normalize" >> beam.FlatMap(lambda e: [normalized(*e)] if e[0] != e[1] else [])
        settled = []
        for i in range(self.rounds):
            current, done = current | f"Round{i + 1}" >> _StarRound()
            settled.append(done)
        rest = (
            current
            | "GroupParents" >> beam.GroupByKey()
            | "Label" >> beam.ParDo(_LabelFn(self.stage))
        )
        return (*settled, rest) | "AllLabels" >> beam.Flatten()


class _FirstHalfFn(beam.DoFn):
    """Verification, first join: attach the larger endpoint's shingles to each edge."""

    def __init__(self, config: MinHashConfig):
        self.config = config

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, element):
        big, joined = element
        if not joined["text"] or not joined["edge"]:
            return
        shingles = np.unique(self.hasher.shingles(joined["text"][0]))
        for small in joined["edge"]:
            yield small, (big, shingles)


class _VerifyFn(beam.DoFn):
    """Verification, second join: keep an edge only if the true Jaccard reaches the threshold."""

    def __init__(self, config: MinHashConfig, stage: str):
        self.config = config
        self.verified = Metrics.counter(stage, "verified_edges")
        self.false_positive = Metrics.counter(stage, "dropped_false_positive_edges")

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, element):
        small, joined = element
        if not joined["text"]:
            return
        shingles = np.unique(self.hasher.shingles(joined["text"][0]))
        for big, big_shingles in joined["half"]:
            if jaccard_of_sets(big_shingles, shingles) >= self.config.threshold:
                self.verified.inc()
                yield big, small
            else:
                self.false_positive.inc()


class _VerifyEdges(beam.PTransform):
    """Drop candidate edges whose documents' true Jaccard similarity is below the threshold."""

    def __init__(self, texts, config: MinHashConfig, stage: str):
        super().__init__()
        self.texts = texts  # PCollection of (node, text)
        self.config = config
        self.stage = stage

    def expand(self, edges):
        half = (
            {"text": self.texts, "edge": edges}
            | "JoinLarger" >> beam.CoGroupByKey()
            | "LargerShingles" >> beam.ParDo(_FirstHalfFn(self.config))
        )
        return (
            {"text": self.texts, "half": half}
            | "JoinSmaller" >> beam.CoGroupByKey()
            | "TrueJaccard" >> beam.ParDo(_VerifyFn(self.config, self.stage))
        )


class _SplitFn(beam.DoFn):
    """Rows joined with their cluster's keeper (if any): kept, or removed with `duplicate_of`."""

    def __init__(self, stage: str):
        self.kept = Metrics.counter(stage, "kept")
        self.dropped = Metrics.counter(stage, "dropped_near_duplicate")

    def process(self, element):
        _, joined = element
        keepers = joined["keeper"]
        for row in joined["row"]:
            if keepers:
                self.dropped.inc()
                yield beam.pvalue.TaggedOutput("removed", _removed(row, keepers[0], "near_duplicate"))
            else:
                self.kept.inc()
                yield row


class MinHashDedup(beam.PTransform):
    """MinHash LSH near-dedup: band buckets -> star edges -> connected components -> keep the
    smallest-ranked document of each cluster. `verify=True` first drops candidate edges whose true
    Jaccard similarity is below `config.threshold` (two more joins over the texts).

    Signatures are computed `batch_size` documents at a time; band keys are grouped in
    `bucket_shards` shards, each holding about (documents x bands / bucket_shards) keys in one
    worker's memory: raise it for billions of documents (1024 shards hold 10^8 documents at
    ~2 M keys, ~150 MB, each)."""

    def __init__(self, config: MinHashConfig = WEB_MINHASH, rank_key: RankKey | None = None, verify: bool = False,
                 cc_rounds: int = DEFAULT_CC_ROUNDS, batch_size: int = 1024, bucket_shards: int = 1024,
                 stage: str = "minhash"):
        super().__init__()
        self.config = config
        self.rank_key = rank_key or earliest_first
        self.verify = verify
        self.cc_rounds = cc_rounds
        self.batch_size = batch_size
        self.bucket_shards = bucket_shards
        self.stage = stage

    def expand(self, rows):
        rank_key, stage = self.rank_key, self.stage
        edges = (
            rows
            | "Batch" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "BandKeys" >> beam.ParDo(_BandKeysFn(self.config, rank_key, stage, self.bucket_shards))
            | "GroupShards" >> beam.GroupByKey()
            | "StarEdges" >> beam.ParDo(_StarEdgesFn(stage))
        )
        if self.verify:
            texts = rows | "NodeText" >> beam.Map(lambda r: (node_of(r, rank_key), r["text"] or ""))
            edges = edges | "Verify" >> _VerifyEdges(texts, self.config, stage)
        keepers = (
            edges
            | "Components" >> ConnectedComponents(self.cc_rounds, stage)
            | "KeeperById" >> beam.Map(lambda kv: (kv[0][1], kv[1][1]))
        )
        results = (
            {"row": rows | "RowById" >> beam.Map(lambda r: (str(r["id"]), r)), "keeper": keepers}
            | "JoinKeepers" >> beam.CoGroupByKey()
            | "Split" >> beam.ParDo(_SplitFn(stage)).with_outputs("removed", main="kept")
        )
        return DedupOutputs(results.kept, results.removed)


# --- decontamination -----------------------------------------------------------------------------


class _DecontaminateFn(beam.DoFn):
    def __init__(self, mode: str, stage: str):
        self.mode = mode
        self.seen = Metrics.counter(stage, "in")
        self.kept = Metrics.counter(stage, "kept")
        self.matched = Metrics.counter(stage, "dropped_benchmark" if mode == "drop" else "flagged_benchmark")

    def process(self, row, index: BenchmarkIndex):
        self.seen.inc()
        item = index.find(row["text"] or "")
        if item is None:
            self.kept.inc()
            yield row
            return
        self.matched.inc()
        yield beam.pvalue.TaggedOutput("removed", _removed(row, item, "benchmark"))
        if self.mode == "flag":
            yield row


def _build_index(paths: tuple[str, ...], fields, n: int, max_items: int) -> BenchmarkIndex:
    index = BenchmarkIndex.from_files(paths, fields=fields, n=n, max_items=max_items)
    log.info("benchmark index: %d items, %d n-grams, %.1f MiB", len(index.items), index.num_ngrams,
             index.total_bytes / 2**20)
    return index


class Decontaminate(beam.PTransform):
    """Drop (mode="drop") or only report (mode="flag": kept keeps everything, removed lists the
    matches) documents sharing an n-gram with the benchmark files. The index is built once in the
    pipeline and reaches the workers as a side input."""

    def __init__(self, benchmark_paths: list[str], fields: tuple[str, ...] | None = None, n: int = 10,
                 mode: str = "drop", max_items: int = 10, stage: str = "decontaminate"):
        super().__init__()
        if mode not in ("drop", "flag"):
            raise ValueError(f"Decontaminate(mode=...) must be 'drop' or 'flag', not {mode!r}")
        if not benchmark_paths:
            raise ValueError("Decontaminate needs at least one benchmark file")
        self.paths = tuple(benchmark_paths)
        self.fields = tuple(fields) if fields else None
        self.n = n
        self.mode = mode
        self.max_items = max_items
        self.stage = stage

    def expand(self, rows):
        index = (
            rows.pipeline
            | "BenchmarkPaths" >> beam.Create([self.paths])
            | "BuildIndex" >> beam.Map(_build_index, self.fields, self.n, self.max_items)
        )
        results = rows | "Match" >> beam.ParDo(_DecontaminateFn(self.mode, self.stage), AsSingleton(index)).with_outputs(
            "removed", main="kept")
        return DedupOutputs(results.kept, results.removed)
