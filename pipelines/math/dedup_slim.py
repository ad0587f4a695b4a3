"""URL, exact and near-duplicate removal over the extracted pages, deciding on slim records.

The texts never meet a shuffle. Each part of `extracted/` is read once to make one slim record per
page - id, url, crawl date, content hash, its MinHash band keys (20 x 10 bytes) and the part it lives
in, ~400 bytes against ~10-50 KB of text - and every grouping runs on those:

    slim -> UrlDedup (dedup.beam; latest crawl kept) -> exact (content hash; earliest kept)
         -> near (band buckets -> star edges -> dedup.beam.ConnectedComponents; earliest kept)

The decisions (removed id, its part, the keeper, the reason) then go to `parts.ApplyByPart`, which
reads each part once more and writes the pages that stay. The same keepers as `UrlDedup` followed by
`MinHashDedup(WEB_MINHASH)` on full rows: exact duplicates have Jaccard similarity 1 and share every
band, so removing them first changes only their reason ("exact" instead of "near_duplicate"), and
keeps a hub of millions of identical pages out of the band buckets.
"""

from __future__ import annotations

import math

import apache_beam as beam
from apache_beam.metrics import Metrics

from dedup.beam import WEB_MINHASH, ConnectedComponents, UrlDedup, earliest_first, node_of
from dedup.minhash import MinHashConfig, MinHasher
from pipelines.parts import iter_part

SLIM_COLUMNS = ["id", "url", "crawl_date", "content_hash", "text"]
KEY_BYTES = 10  # a band key: band index (2 bytes) and hash (8 bytes)
KEYS_PER_SHARD = 1_000_000  # band keys one shard's bucket grouping holds (~100 MB)
SEP = "\x1f"  # between a page's id and where it lives, in the slim record's key


def slim_key(row_id: str, part: str, row: int) -> str:
    """The slim record's `id`: the page's id made unique by its place (part, row). Crawls may repeat a
    record id (a file listed twice, a hand-built WARC); a decision must name one row, not all that
    share the id. It sorts as the id does, so the keepers are the same."""
    return f"{row_id}{SEP}{part.rsplit('/', 1)[-1]}:{row}"


def page_id(key: str) -> str:
    return key.split(SEP, 1)[0]


def bucket_shards(rows: int, bands: int = WEB_MINHASH.bands) -> int:
    """Shards of the band-key space for `rows` documents: each holds ~KEYS_PER_SHARD keys."""
    return max(16, math.ceil(rows * bands / KEYS_PER_SHARD))


class SlimRecordsFn(beam.DoFn):
    """A part of `extracted/` -> one slim record per page, band keys computed 256 texts at a time."""

    def __init__(self, config: MinHashConfig = WEB_MINHASH, progress=None):
        self.config = config
        self.progress = progress
        self.seen = Metrics.counter("dedup", "in")

    def setup(self):
        self.hasher = MinHasher(self.config)

    def _records(self, part: str, rows: list[dict], first: int = 0):
        signatures = self.hasher.signatures([r["text"] or "" for r in rows])
        if self.progress is not None:
            self.progress.add(rows=len(rows))
        for i, (row, keys) in enumerate(zip(rows, self.hasher.band_keys_batch(signatures)), first):
            self.seen.inc()
            yield {"id": slim_key(str(row["id"]), part, i), "url": row["url"], "crawl_date": row["crawl_date"],
                   "hash": row["content_hash"], "bands": b"".join(keys), "part": part, "row": i}

    def process(self, part: str):
        batch: list[dict] = []
        first = 0
        for row in iter_part(part, SLIM_COLUMNS):
            batch.append(row)
            if len(batch) >= 256:
                yield from self._records(part, batch, first)
                first += len(batch)
                batch = []
        if batch:
            yield from self._records(part, batch, first)
        if self.progress is not None:
            from deepcorpus.core import storage

            self.progress.add(files=1, bytes=storage.size(part))
            self.progress.flush()


def removal(record: dict, keeper_key, reason: str) -> dict:
    """What is removed: the page's id, url, part and row there, its keeper's id and the reason."""
    return {"id": page_id(record["id"]), "url": record["url"], "part": record["part"], "row": record["row"],
            "duplicate_of": None if keeper_key is None else page_id(str(keeper_key)), "reason": reason}


class _KeepEarliestFn(beam.DoFn):
    """Of the records sharing a content hash, keep the earliest crawl (then the smallest id)."""

    def __init__(self):
        self.seen = Metrics.counter("exact", "in")
        self.kept = Metrics.counter("exact", "kept")
        self.dropped = Metrics.counter("exact", "dropped_exact")

    def process(self, element):
        _, records = element
        best, best_rank, best_at = None, None, -1
        for i, record in enumerate(records):
            rank = earliest_first(record)
            if best is None or rank < best_rank:
                best, best_rank, best_at = record, rank, i
        for i, record in enumerate(records):
            self.seen.inc()
            if i == best_at:
                self.kept.inc()
                yield record
            else:
                self.dropped.inc()
                yield beam.pvalue.TaggedOutput("removed", removal(record, best["id"], "exact"))


class _BandItemsFn(beam.DoFn):
    """Slim records -> (shard, [(band key, node), ...]) packs, one per shard per bundle-batch."""

    def __init__(self, shards: int):
        self.shards = shards
        self.seen = Metrics.counter("near", "in")

    def process(self, batch):
        by_shard: dict[int, list] = {}
        for record in batch:
            self.seen.inc()
            node = node_of(record, earliest_first)
            bands = record["bands"]
            for i in range(0, len(bands), KEY_BYTES):
                key = bands[i:i + KEY_BYTES]
                by_shard.setdefault(int.from_bytes(key[2:6], "big") % self.shards, []).append((key, node))
        yield from by_shard.items()


class _StarEdgesFn(beam.DoFn):
    """One shard's buckets (documents sharing a band key): each links its documents to its smallest."""

    def __init__(self):
        self.edges = Metrics.counter("near", "candidate_edges")

    def process(self, element):
        _, packs = element
        buckets: dict[bytes, list] = {}
        for pack in packs:
            for key, node in pack:
                buckets.setdefault(key, []).append(node)
        edges = set()
        for nodes in buckets.values():
            if len(nodes) > 1:
                smallest = min(nodes)
                edges.update((node, smallest) for node in nodes if node != smallest)
        self.edges.inc(len(edges))
        yield from edges


class _NearSplitFn(beam.DoFn):
    """A record joined with its cluster's keeper: kept (no keeper) or removed."""

    def __init__(self):
        self.kept = Metrics.counter("near", "kept")
        self.dropped = Metrics.counter("near", "dropped_near_duplicate")

    def process(self, element):
        _, joined = element
        keepers = joined["keeper"]
        for record in joined["record"]:
            if keepers:
                self.dropped.inc()
                yield beam.pvalue.TaggedOutput("removed", removal(record, keepers[0], "near_duplicate"))
            else:
                self.kept.inc()
                yield record


class SlimDedup(beam.PTransform):
    """Slim records -> (kept slim records, removal records {id, url, part, duplicate_of, reason})."""

    def __init__(self, shards: int = 16, config: MinHashConfig = WEB_MINHASH, cc_rounds: int = 16):
        super().__init__()
        self.shards, self.config, self.cc_rounds = shards, config, cc_rounds

    def expand(self, slim):
        by_url = slim | "UrlDedup" >> UrlDedup()
        url_removed = by_url.removed | "UrlRemoval" >> beam.Map(
            lambda r: removal(r, r["duplicate_of"], "url"))
        exact = (
            by_url.kept
            | "ByHash" >> beam.Map(lambda r: (r["hash"], r))
            | "GroupHash" >> beam.GroupByKey()
            | "KeepEarliest" >> beam.ParDo(_KeepEarliestFn()).with_outputs("removed", main="kept")
        )
        edges = (
            exact.kept
            | "BatchRecords" >> beam.BatchElements(min_batch_size=256, max_batch_size=1024)
            | "BandItems" >> beam.ParDo(_BandItemsFn(self.shards))
            | "GroupShards" >> beam.GroupByKey()
            | "StarEdges" >> beam.ParDo(_StarEdgesFn())
        )
        keepers = (
            edges
            | "Components" >> ConnectedComponents(self.cc_rounds, "near")
            | "KeeperById" >> beam.Map(lambda kv: (kv[0][1], kv[1][1]))
        )
        near = (
            {"record": exact.kept | "RecordById" >> beam.Map(lambda r: (r["id"], r)), "keeper": keepers}
            | "JoinKeepers" >> beam.CoGroupByKey()
            | "NearSplit" >> beam.ParDo(_NearSplitFn()).with_outputs("removed", main="kept")
        )
        removed = (url_removed, exact.removed, near.removed) | "AllRemovals" >> beam.Flatten()
        return near.kept, removed
