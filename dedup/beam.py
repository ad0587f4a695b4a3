"""Beam transforms for dedup and decontamination, composing the pure functions of `dedup/`.

Every row transform takes a PCollection of dicts with at least `id` and `text` (URL dedup also reads
`url` and `crawl_date`) and returns `DedupOutputs(kept, removed)`: `kept` holds the input dicts
unchanged, `removed` the dropped ones plus `duplicate_of` (the id of the document kept in their
cluster, or of the benchmark item) and `dedup_reason` ("exact", "url", "near_duplicate",
"benchmark").

Which document of a cluster is kept is decided by `rank_key(row) -> tuple`: the smallest key
wins (ties: the smallest id), so the choice never depends on worker order. Nothing is ever
collected on one worker: exact and URL dedup find each key's keeper by a combine and meet the rows
in groups of (key, salt of the id), near-dedup removes exact copies first (one combine per text),
then clusters the distinct texts by LSH band hashes and hub-safe connected components.

    outputs = docs | "NearDedup" >> MinHashDedup(WEB_MINHASH)
    outputs.kept | ...; outputs.removed | ...

Near-dedup without texts (e.g. repositories, whose text is their files'): signatures are computed
per part, combined per key (the MinHash of a union of shingle sets is the elementwise minimum of
the parts' signatures), and deduplicated as (node, signature) with node = (rank tuple, id):

    sigs = files | TextSignatures(CODE_MINHASH) | UnionSignatures()        # (repo id, signature)
    nodes = sigs | beam.Map(lambda kv: ((rank_of(kv[0]), kv[0]), kv[1]))   # ((rank tuple, id), sig)
    pairs = nodes | NearDuplicates(CODE_MINHASH)                           # (removed id, keeper id)

Join `pairs` back to the rows by id; only ids, ranks, signatures and band hashes cross shuffles.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import zlib
from collections.abc import Callable
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics
from apache_beam.pvalue import AsSingleton

from dedup.components import normalized
from dedup.minhash import MAX_HASH, MinHashConfig, MinHasher, jaccard_of_sets
from dedup.ngrams import BenchmarkIndex
from dedup.normalize import NormalizeConfig, normalize_text, normalized_hash
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


class _KeepFirst(beam.PTransform):
    """(key, row) -> DedupOutputs: of the rows sharing a key, the one with the smallest node
    (rank, id) is kept and the others are removed with `reason`.

    Hub-safe, as near-dedup's exact stage: a combine per key finds the keeper (its accumulator is the
    smallest node, a count and the salts of the ids, at most 8 KiB), and the decision meets the rows
    grouped by (key, salt of the id), so a key shared by millions of rows (a cookie wall, a parked
    domain's URL) spreads over up to SALTS groups and no worker holds or walks all of them."""

    def __init__(self, stage: str, reason: str, rank_key: RankKey):
        super().__init__()
        self.stage = stage
        self.reason = reason
        self.rank_key = rank_key

    def expand(self, keyed):
        rank_key = self.rank_key

        def node_value(kv):
            key, row = kv
            doc_id = str(row["id"])
            return key, ((tuple(rank_key(row)), doc_id), None, _id_salt(doc_id))

        def decisions(kv):
            key, (node, _, count, salts) = kv
            if count > 1:
                for salt in _salts_list(salts):
                    yield (key, salt), (node[1],)

        decided = (
            keyed
            | "Nodes" >> beam.Map(node_value)
            | "KeeperPerKey" >> beam.CombinePerKey(_ExactFn())
            | "Decisions" >> beam.FlatMap(decisions)
        )
        salted = keyed | "BySalt" >> beam.Map(lambda kv: ((kv[0], _id_salt(str(kv[1]["id"]))), kv[1]))
        results = (
            (salted, decided)
            | "RowsAndKeepers" >> beam.Flatten()
            | "GroupByKeyAndSalt" >> beam.GroupByKey()
            | "Split" >> beam.ParDo(_SplitByKeeperFn(self.stage, self.reason)).with_outputs("removed", main="kept")
        )
        return DedupOutputs(results.kept, results.removed)


class _SplitByKeeperFn(beam.DoFn):
    """At (key, salt): the rows and their key's keeper id (absent when the key has one row)."""

    def __init__(self, stage: str, reason: str):
        self.reason = reason
        self.kept = Metrics.counter(stage, "kept")
        self.dropped = Metrics.counter(stage, f"dropped_{reason}")
        self.group = Metrics.distribution(stage, "group")

    def process(self, element):
        _, values = element
        keeper, size = None, 0
        for value in values:  # two passes, no list: a group's values may be paged from shuffle
            size += 1
            if isinstance(value, tuple):
                keeper = value[0]
        self.group.update(size)
        for row in values:
            if isinstance(row, tuple):
                continue
            if keeper is None or str(row["id"]) == keeper:
                self.kept.inc()
                yield row
            else:
                self.dropped.inc()
                yield beam.pvalue.TaggedOutput("removed", _removed(row, keeper, self.reason))


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

        return rows | "KeyByTextHash" >> beam.Map(key) | "KeepFirst" >> _KeepFirst(stage, "exact", self.rank_key)


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
        results = keyed.keyed | "KeepFirst" >> _KeepFirst(self.stage, "url", self.rank_key)
        kept = (results.kept, keyed.no_url) | "WithNoUrl" >> beam.Flatten()
        return DedupOutputs(kept, results.removed)


# --- near-dedup ----------------------------------------------------------------------------------
#
# Sizes, with N documents, D distinct texts, b bands, chunk = `chunk_docs`, P = `pairs_per_shard`,
# S = SALTS, and d the largest degree of a node in the graph of chunk roots:
# - the largest element is one input row (the final join); every other element is a node, a node
#   pair, a band-hash vector (8 b bytes) or a pack of at most chunk x b (band key, root) pairs;
# - the largest held state: one chunk (chunk documents' band hashes and a union-find over them),
#   one shard's pairs (~P, plus at most one pair per chunk for a band key shared by many chunks:
#   N / chunk), one join group (at most d / S + 1 values, or chunk members of one chunk root);
# - the largest accumulator: a salt set, at most S / 8 = 8 KiB; a verification top list, `verify_limit`
#   nodes.
# None of these depends on N except the shard's N / chunk hub pairs (small next to P below ~10^10
# documents) and d / S (one group per 65,536th of a hub's neighbours). `tests/dedup/test_scale.py`
# runs the same corpus at N and 8N and checks the recorded maxima (Beam distributions `chunk_docs`,
# `shard_pairs`, `join_group`, `root_members`, `final_group`).

SALTS = 1 << 16  # a hub key's values are spread over up to this many groups, by a hash of the value
_SMALL_SALTS = 16  # salt sets up to this size stay sets; larger ones become a bitmask of SALTS bits
DEFAULT_CHUNK_DOCS = 4096
DEFAULT_PAIRS_PER_SHARD = 1 << 20


def _id_salt(doc_id: str) -> int:
    return zlib.crc32(doc_id.encode("utf-8", "surrogatepass")) & (SALTS - 1)


def _node_salt(node) -> int:
    """A node's salt: from its id for document nodes (rank, id, ...), else from its repr."""
    if isinstance(node, tuple) and len(node) >= 2 and isinstance(node[1], str):
        return _id_salt(node[1])
    return zlib.crc32(repr(node).encode()) & (SALTS - 1)


def _salts_union(a, b):
    """Union of two salt sets (a frozenset while small, else an int bitmask of SALTS bits)."""
    if isinstance(a, frozenset) and isinstance(b, frozenset) and len(a) + len(b) <= _SMALL_SALTS:
        return a | b
    return _as_mask(a) | _as_mask(b)


def _as_mask(salts) -> int:
    if isinstance(salts, int):
        return salts
    mask = 0
    for s in salts:
        mask |= 1 << s
    return mask


def _salts_list(salts) -> list[int]:
    if not isinstance(salts, int):
        return sorted(salts)
    bits = np.unpackbits(np.frombuffer(salts.to_bytes(SALTS // 8, "little"), dtype=np.uint8), bitorder="little")
    return np.flatnonzero(bits).tolist()


def node_of(row: dict, rank_key: RankKey) -> tuple:
    """A document's node in the candidate graph: its rank, then its id (so the smallest node of a
    cluster is the document to keep)."""
    return (tuple(rank_key(row)), str(row["id"]))


def content_key(text: str, normalize: NormalizeConfig = NormalizeConfig()) -> bytes:
    """The exact-duplicate key of near-dedup: 16 bytes of BLAKE2b of the normalized text (the
    normalization of `dedup exact`: NFKC, case, whitespace)."""
    return hashlib.blake2b(normalize_text(text, normalize).encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _SignFn(beam.DoFn):
    """A batch of rows -> for each row (content key, (node, band hashes, salt)) for the exact stage,
    and the row keyed (content key, salt) for the final join (tagged "rows"); with `verify`, also
    (id, text) (tagged "texts"). Band hashes are computed once per distinct text of the batch."""

    def __init__(self, config: MinHashConfig, rank_key: RankKey, stage: str, verify: bool):
        self.config = config
        self.rank_key = rank_key
        self.verify = verify
        self.seen = Metrics.counter(stage, "in")
        self.no_shingles = Metrics.counter(stage, "no_shingles")

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, batch):
        texts = [row["text"] or "" for row in batch]
        keys = [content_key(t) for t in texts]
        first: dict[bytes, int] = {}
        unique = []
        for text, key in zip(texts, keys):
            if key not in first:
                first[key] = len(unique)
                unique.append(text)
        signatures = self.hasher.signatures(unique)
        bands = self.hasher.band_hashes(signatures)
        empty = (signatures == MAX_HASH).all(axis=1).tolist()
        for row, text, key in zip(batch, texts, keys):
            self.seen.inc()
            j = first[key]
            doc_id = str(row["id"])
            salt = _id_salt(doc_id)
            if empty[j]:
                self.no_shingles.inc()
            node = (tuple(self.rank_key(row)), doc_id, key)
            yield key, (node, None if empty[j] else bands[j].tobytes(), salt)
            yield beam.pvalue.TaggedOutput("rows", ((key, salt), row))
            if self.verify:
                yield beam.pvalue.TaggedOutput("texts", (doc_id, text))


class _ExactFn(beam.CombineFn):
    """Per content key: [smallest node, its band hashes, count, salts of every copy]; O(1) but
    for the salt set (<= 8 KiB)."""

    def create_accumulator(self):
        return None

    def add_input(self, acc, value):
        node, bands, salt = value
        if acc is None:
            return [node, bands, 1, frozenset((salt,))]
        if node < acc[0]:
            acc[0], acc[1] = node, bands
        acc[2] += 1
        acc[3] = _salts_union(acc[3], frozenset((salt,)))
        return acc

    def merge_accumulators(self, accs):
        out = None
        for acc in accs:
            if acc is None:
                continue
            if out is None:
                out = list(acc)
                continue
            if acc[0] < out[0]:
                out[0], out[1] = acc[0], acc[1]
            out[2] += acc[2]
            out[3] = _salts_union(out[3], acc[3])
        return out

    def extract_output(self, acc):
        return acc


class _LocalClustersFn(beam.DoFn):
    """Phase one of clustering, inside a chunk of (node, band hashes) with no shuffle: documents
    sharing a band hash are joined by a union-find; each local cluster's smallest node is its root.
    Yields the members of each local cluster with their root (tagged "members": (root, member)),
    and one (band hash, root) pair per distinct band hash of the chunk, packed per shard:
    (shard, (hashes, root indexes, roots)). Phase two links roots across chunks."""

    def __init__(self, stage: str, bucket_shards: int | None):
        self.bucket_shards = bucket_shards
        self.chunk_docs = Metrics.distribution(stage, "chunk_docs")
        self.local = Metrics.counter(stage, "local_cluster_members")

    def process(self, chunk, shards=None):
        shards = self.bucket_shards or shards or 1
        self.chunk_docs.update(len(chunk))
        nodes = [node for node, _ in chunk]
        n = len(nodes)
        hashes = np.frombuffer(b"".join(bands for _, bands in chunk), dtype=np.uint64).reshape(n, -1)
        width = hashes.shape[1]
        flat = hashes.ravel()
        order = np.argsort(flat, kind="stable")
        sorted_keys = flat[order]
        docs = (order // width).astype(np.int64)
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        parent = list(range(n))

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for i in same.tolist():
            a, b = find(int(docs[i])), find(int(docs[i + 1]))
            if a != b:
                parent[max(a, b)] = min(a, b)
        root_of = np.arange(n)
        groups: dict[int, list[int]] = {}
        for i in np.unique(np.concatenate((docs[same], docs[same + 1]))).tolist():
            groups.setdefault(find(i), []).append(i)
        for members in groups.values():
            best = min(members, key=nodes.__getitem__)
            root_of[members] = best
            for m in members:
                if m != best:
                    self.local.inc()
                    yield beam.pvalue.TaggedOutput("members", (nodes[best], nodes[m]))
        distinct = np.ones(len(sorted_keys), dtype=bool)
        distinct[1:] = sorted_keys[1:] != sorted_keys[:-1]
        keys = sorted_keys[distinct]
        roots = root_of[docs[distinct]]
        shard_of = (keys % np.uint64(shards)).astype(np.int64)
        by_shard = np.argsort(shard_of, kind="stable")
        bounds = np.flatnonzero(np.diff(shard_of[by_shard])) + 1
        for part in np.split(by_shard, bounds):
            if not len(part):
                continue
            part_roots, index = np.unique(roots[part], return_inverse=True)
            yield int(shard_of[part[0]]), (keys[part].tobytes(), index.astype(np.int32).tobytes(),
                                          [nodes[r] for r in part_roots.tolist()])


class _ShardLinksFn(beam.DoFn):
    """Phase two: within one shard of the band-hash space, the roots sharing a band hash (from
    different chunks) are linked to the smallest of them. Holds the shard's pairs (about
    `pairs_per_shard`) as arrays."""

    def __init__(self, stage: str):
        self.pairs = Metrics.distribution(stage, "shard_pairs")
        self.buckets = Metrics.counter(stage, "candidate_buckets")
        self.edges = Metrics.counter(stage, "candidate_edges")

    def process(self, element):
        _, packs = element
        keys, index, roots = [], [], []
        for key_bytes, index_bytes, pack_roots in packs:
            keys.append(np.frombuffer(key_bytes, dtype=np.uint64))
            index.append(np.frombuffer(index_bytes, dtype=np.int32).astype(np.int64) + len(roots))
            roots.extend(pack_roots)
        keys = np.concatenate(keys)
        index = np.concatenate(index)
        self.pairs.update(len(keys))
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        repeated = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        if not len(repeated):
            return
        edges = set()
        run_start = np.flatnonzero(np.diff(np.concatenate(([-2], repeated))) != 1)
        starts = repeated[run_start]
        ends = np.append(repeated[run_start[1:] - 1], repeated[-1]) + 2
        for lo, hi in zip(starts.tolist(), ends.tolist()):
            self.buckets.inc()
            members = [roots[i] for i in index[order[lo:hi]].tolist()]
            smallest = min(members)
            edges.update((m, smallest) for m in members if m != smallest)
        self.edges.inc(len(edges))
        yield from edges


# Connected components, hub-safe: every step is a combine (whose accumulator does not grow with
# a node's degree) or a streamed join whose groups are (node, salt of the neighbour), so a hub's
# neighbours spread over up to SALTS groups and its value reaches each group once.

_SMALLER, _LARGER = 0, 1
_EDGE, _VALUE = 0, 1


class _StatsFn(beam.CombineFn):
    """Per node: [smallest and largest smaller neighbour, edges to smaller and to larger
    neighbours (with multiplicity), salts of the larger neighbours]."""

    def create_accumulator(self):
        return [None, None, 0, 0, frozenset()]

    def add_input(self, acc, value):
        tag, x = value
        if tag == _SMALLER:
            if acc[0] is None or x < acc[0]:
                acc[0] = x
            if acc[1] is None or x > acc[1]:
                acc[1] = x
            acc[2] += 1
        else:
            acc[3] += 1
            acc[4] = _salts_union(acc[4], frozenset((x,)))
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for acc in accs:
            if acc[0] is not None and (out[0] is None or acc[0] < out[0]):
                out[0] = acc[0]
            if acc[1] is not None and (out[1] is None or acc[1] > out[1]):
                out[1] = acc[1]
            out[2] += acc[2]
            out[3] += acc[3]
            out[4] = _salts_union(out[4], acc[4])
        return out

    def extract_output(self, acc):
        return acc


def _settle_reports(element):
    """A node's stats -> what its centre must hear: a leaf (one smaller neighbour, with its edge
    multiplicity), or, for a node with larger neighbours, its own stats."""
    u, (low, high, n_smaller, n_larger, salts) = element
    if n_larger == 0 and n_smaller and low == high:
        yield low, (0, n_smaller)
    if n_larger:
        yield u, (1, (low, n_larger, salts))


class _SettleFn(beam.CombineFn):
    """Per node with larger neighbours: [edges from its leaves, its own stats]. A node with no
    smaller neighbour all of whose larger neighbours are its leaves is a finished star."""

    def create_accumulator(self):
        return [0, None]

    def add_input(self, acc, value):
        tag, x = value
        if tag == 0:
            acc[0] += x
        else:
            acc[1] = x
        return acc

    def merge_accumulators(self, accs):
        out = [0, None]
        for acc in accs:
            out[0] += acc[0]
            out[1] = acc[1] if acc[1] is not None else out[1]
        return out

    def extract_output(self, acc):
        return acc


def _large_star_values(element):
    """((x, salt), (VALUE, m(x), settled)) for every salt of x's larger neighbours."""
    x, (leaf_edges, stats) = element
    if stats is None:  # only leaves reported: x has no larger neighbour of its own (cannot happen)
        return
    low, n_larger, salts = stats
    m = x if low is None or x < low else low
    settled = low is None and leaf_edges == n_larger
    for s in _salts_list(salts):
        yield (x, s), (_VALUE, m, settled)


class _LargeStarFn(beam.DoFn):
    """At (x, salt): each larger neighbour b of x is linked to m(x), the smallest of x and its
    neighbours; if x's star is finished, (b, x) is a final label instead (tagged "settled")."""

    def __init__(self, stage: str):
        self.group = Metrics.distribution(stage, "join_group")

    def process(self, element):
        (x, _), values = element
        m, settled, size = None, False, 0
        for value in values:
            size += 1
            if value[0] == _VALUE:
                _, m, settled = value
        self.group.update(size)
        if m is None:
            return
        seen = set()
        for value in values:
            if value[0] != _EDGE or value[1] in seen:
                continue
            b = value[1]
            seen.add(b)
            if settled:
                yield beam.pvalue.TaggedOutput("settled", (b, x))
            else:
                yield b, m


class _MinSaltsFn(beam.CombineFn):
    """Per node: [its smallest smaller neighbour, the salts of all of them]."""

    def create_accumulator(self):
        return [None, frozenset()]

    def add_input(self, acc, value):
        w, salt = value
        if acc[0] is None or w < acc[0]:
            acc[0] = w
        acc[1] = _salts_union(acc[1], frozenset((salt,)))
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for acc in accs:
            if acc[0] is not None and (out[0] is None or acc[0] < out[0]):
                out[0] = acc[0]
            out[1] = _salts_union(out[1], acc[1])
        return out

    def extract_output(self, acc):
        return acc


def _small_star_values(element):
    b, (m, salts) = element
    for s in _salts_list(salts):
        yield (b, s), (_VALUE, m)


class _SmallStarFn(beam.DoFn):
    """At (b, salt): each smaller neighbour w of b is linked to m'(b), the smallest of them."""

    def __init__(self, stage: str):
        self.group = Metrics.distribution(stage, "join_group")

    def process(self, element):
        _, values = element
        m, size = None, 0
        for value in values:
            size += 1
            if value[0] == _VALUE:
                m = value[1]
        self.group.update(size)
        seen = set()
        for value in values:
            if value[0] == _EDGE and value[1] != m and value[1] not in seen:
                seen.add(value[1])
                yield value[1], m


class _ContractionRound(beam.PTransform):
    """One round of Kiveris et al.'s alternating algorithm (large-star, then small-star), with
    finished stars settled on the way. Edges are (larger, smaller), duplicates allowed (removed
    first). Returns (edges to go on, settled (node, label) pairs)."""

    def __init__(self, stage: str, index: int):
        super().__init__()
        self.stage = stage
        self.index = index

    def expand(self, edges):
        stage = self.stage
        counter = Metrics.counter(stage, f"cc_round{self.index:02d}_edges")
        # Each step yields an edge once per path that finds it (a root pair shares up to `bands`
        # band hashes across shards; a star step links b to m once per smaller neighbour of b with
        # that m), so copies would grow a join group with the degree. A combine per edge (lifted
        # before the shuffle) leaves one, and a (node, salt) group holds one value per neighbour.
        edges = edges | "OnePerEdge" >> beam.Distinct()

        def both_ways(edge):
            counter.inc()
            big, small = edge
            return [(big, (_SMALLER, small)), (small, (_LARGER, _node_salt(big)))]

        values = (
            edges
            | "BothWays" >> beam.FlatMap(both_ways)
            | "NodeStats" >> beam.CombinePerKey(_StatsFn())
            | "SettleReports" >> beam.FlatMap(_settle_reports)
            | "Settle" >> beam.CombinePerKey(_SettleFn())
            | "LargeStarValues" >> beam.FlatMap(_large_star_values)
        )
        keyed = edges | "AtSmaller" >> beam.Map(lambda e: ((e[1], _node_salt(e[0])), (_EDGE, e[0])))
        large = (
            (keyed, values)
            | "LargeStarInputs" >> beam.Flatten()
            | "GroupAtSmaller" >> beam.GroupByKey()
            | "LargeStar" >> beam.ParDo(_LargeStarFn(stage)).with_outputs("settled", main="edges")
        )
        large_edges = large.edges | "OneLargeEdge" >> beam.Distinct()
        smallest = (
            large_edges
            | "SmallerWithSalt" >> beam.Map(lambda e: (e[0], (e[1], _node_salt(e[1]))))
            | "SmallestSmaller" >> beam.CombinePerKey(_MinSaltsFn())
        )
        to_smallest = smallest | "ToSmallest" >> beam.Map(lambda kv: (kv[0], kv[1][0]))
        small_values = smallest | "SmallStarValues" >> beam.FlatMap(_small_star_values)
        at_larger = large_edges | "AtLarger" >> beam.Map(lambda e: ((e[0], _node_salt(e[1])), (_EDGE, e[1])))
        small = (
            (at_larger, small_values)
            | "SmallStarInputs" >> beam.Flatten()
            | "GroupAtLarger" >> beam.GroupByKey()
            | "SmallStar" >> beam.ParDo(_SmallStarFn(stage))
        )
        return (small, to_smallest) | "NextEdges" >> beam.Flatten(), large.settled


class _MinParentFn(beam.CombineFn):
    """After the last round: a node's smallest parent, and whether it had more than one."""

    def create_accumulator(self):
        return [None, False]

    def add_input(self, acc, parent):
        if acc[0] is None:
            acc[0] = parent
        elif parent != acc[0]:
            acc[1] = True
            acc[0] = min(acc[0], parent)
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for acc in accs:
            if acc[0] is None:
                continue
            if out[0] is not None and acc[0] != out[0]:
                out[1] = True
            out[0] = acc[0] if out[0] is None else min(out[0], acc[0])
            out[1] = out[1] or acc[1]
        return out

    def extract_output(self, acc):
        return acc


class _LeftoverLabelFn(beam.DoFn):
    def __init__(self, stage: str):
        self.unconverged = Metrics.counter(stage, "cc_unconverged_nodes")

    def process(self, element):
        node, (parent, _) = element
        self.unconverged.inc()
        yield node, parent


class ConnectedComponents(beam.PTransform):
    """Edges (u, v) -> (node, smallest node of its component) for every non-smallest node.

    Runs up to `rounds` rounds of alternating large-star/small-star (Kiveris et al. 2014; Beam
    graphs cannot loop, so the rounds are unrolled and a round with no edges left costs nothing).
    Finished stars leave after the round that completes them; the counters `ccNN_round_edges` say
    how many edges each round started with, so the last one shows where it converged. The
    alternating algorithm needs O(log n) rounds on the graphs measured (random graphs ~6, a chain
    of 20,000 nodes in ascending order 16, shuffled 12); it is proven to finish in O(log^2 n).
    If edges are left after the last round, each of their nodes is labelled with its smallest
    parent, which is in its component (so the component may come out as several clusters: fewer
    removals, never a wrong one), and `cc_unconverged_nodes` counts them: 0 means converged.

    No step holds a node's neighbours: each is a combine or a join grouped by (node, salt of the
    neighbour); see the sizes at the top of this section."""

    def __init__(self, rounds: int = DEFAULT_CC_ROUNDS, stage: str = "minhash"):
        super().__init__()
        self.rounds = rounds
        self.stage = stage

    def expand(self, edges):
        current = edges | "Normalize" >> beam.FlatMap(lambda e: [normalized(*e)] if e[0] != e[1] else [])
        settled = []
        for i in range(self.rounds):
            current, done = current | f"Round{i + 1}" >> _ContractionRound(self.stage, i + 1)
            settled.append(done)
        rest = (
            current
            | "LeftoverParents" >> beam.CombinePerKey(_MinParentFn())
            | "LeftoverLabels" >> beam.ParDo(_LeftoverLabelFn(self.stage))
        )
        return (*settled, rest) | "AllLabels" >> beam.Flatten()


class _ResolveFn(beam.DoFn):
    """At a chunk root: its members (from phase one) and its label (from the components, if any)
    -> (member, keeper) for every member, and (root, keeper) if the root is not the keeper."""

    def __init__(self, stage: str):
        self.members = Metrics.distribution(stage, "root_members")

    def process(self, element):
        root, values = element
        label, size = None, 0
        for tag, value in values:
            size += 1
            if tag == _VALUE:
                label = value
        self.members.update(size)
        keeper = label if label is not None else root
        if label is not None:
            yield root, label
        for tag, value in values:
            if tag == _EDGE:
                yield value, keeper


def _shard_count(items: int, bands: int, pairs_per_shard: int) -> int:
    return max(1, -(-items * bands // pairs_per_shard))


class _NearDuplicateNodes(beam.PTransform):
    """(node, band hashes as bytes) -> (node, keeper node) for every node that is not the smallest
    of its cluster: chunk-local union-find, shard-wise linking of chunk roots, connected components
    of the roots, and each chunk's members resolved through their root."""

    def __init__(self, stage: str, cc_rounds: int, chunk_docs: int, bucket_shards: int | None,
                 pairs_per_shard: int, bands: int):
        super().__init__()
        self.stage = stage
        self.cc_rounds = cc_rounds
        self.chunk_docs = chunk_docs
        self.bucket_shards = bucket_shards
        self.pairs_per_shard = pairs_per_shard
        self.bands = bands

    def expand(self, nodes):
        stage = self.stage
        fn = _LocalClustersFn(stage, self.bucket_shards)
        batched = nodes | "Chunks" >> beam.BatchElements(min_batch_size=self.chunk_docs,
                                                        max_batch_size=self.chunk_docs)
        if self.bucket_shards:
            local = batched | "LocalClusters" >> beam.ParDo(fn).with_outputs("members", main="packs")
        else:
            # Shards sized from the data: the count of distinct texts is a single number (a side
            # input of 8 bytes), read inside the pipeline; the launcher never looks at the data.
            bands, per_shard = self.bands, self.pairs_per_shard
            shards = (
                nodes
                | "CountItems" >> beam.combiners.Count.Globally()
                | "ShardCount" >> beam.Map(_shard_count, bands, per_shard)
            )
            local = batched | "LocalClusters" >> beam.ParDo(fn, AsSingleton(shards)).with_outputs(
                "members", main="packs")
        links = (
            local.packs
            | "GroupShards" >> beam.GroupByKey()
            | "LinkRoots" >> beam.ParDo(_ShardLinksFn(stage))
        )
        labels = links | "Components" >> ConnectedComponents(self.cc_rounds, stage)
        return (
            (local.members | "MemberValues" >> beam.Map(lambda rm: (rm[0], (_EDGE, rm[1]))),
             labels | "LabelValues" >> beam.Map(lambda nl: (nl[0], (_VALUE, nl[1]))))
            | "ResolveInputs" >> beam.Flatten()
            | "GroupAtRoot" >> beam.GroupByKey()
            | "Resolve" >> beam.ParDo(_ResolveFn(stage))
        )


class _BandHashesFn(beam.DoFn):
    """A batch of (node, signature) -> (node, band hashes as bytes); empty signatures (texts with
    no shingles) get none and leave."""

    def __init__(self, config: MinHashConfig):
        self.config = config

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, batch):
        signatures = np.stack([np.asarray(sig, dtype=np.uint64) for _, sig in batch])
        bands = self.hasher.band_hashes(signatures)
        empty = (signatures == MAX_HASH).all(axis=1).tolist()
        for (node, _), row, is_empty in zip(batch, bands, empty):
            if not is_empty:
                yield node, row.tobytes()


class NearDuplicates(beam.PTransform):
    """Near-duplicates among precomputed MinHash signatures, for callers that must not ship texts:
    (node, signature) -> (removed_id, keeper_id) for every item that is not the keeper of its
    cluster. `node = (rank tuple, id)`: the smallest node of a cluster is kept. The signature is a
    (config.num_perm,) uint64 array from `TextSignatures` or `UnionSignatures` with the same config.

        sigs = files | TextSignatures(CODE_MINHASH) | UnionSignatures()   # (repo, signature)
        nodes = sigs | beam.Map(lambda kv: ((rank_of(kv[0]), kv[0]), kv[1]))  # rank_of(id) -> tuple
        pairs = nodes | NearDuplicates(CODE_MINHASH)

    Only nodes, band hashes and node pairs cross a shuffle; see the sizes above `SALTS`."""

    def __init__(self, config: MinHashConfig = WEB_MINHASH, cc_rounds: int = DEFAULT_CC_ROUNDS,
                 chunk_docs: int = DEFAULT_CHUNK_DOCS, bucket_shards: int | None = None,
                 pairs_per_shard: int = DEFAULT_PAIRS_PER_SHARD, batch_size: int = 1024, stage: str = "minhash"):
        super().__init__()
        self.config = config
        self.cc_rounds = cc_rounds
        self.chunk_docs = chunk_docs
        self.bucket_shards = bucket_shards
        self.pairs_per_shard = pairs_per_shard
        self.batch_size = batch_size
        self.stage = stage

    def expand(self, signatures):
        return (
            signatures
            | "BatchSignatures" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "BandHashes" >> beam.ParDo(_BandHashesFn(self.config))
            | "NearDuplicates" >> _NearDuplicateNodes(self.stage, self.cc_rounds, self.chunk_docs, self.bucket_shards,
                                                      self.pairs_per_shard, self.config.bands)
            | "Ids" >> beam.Map(lambda nk: (nk[0][1], nk[1][1]))
        )


class _TextSignaturesFn(beam.DoFn):
    def __init__(self, config: MinHashConfig):
        self.config = config

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, batch):
        signatures = self.hasher.signatures([text or "" for _, text in batch])
        for (key, _), signature in zip(batch, signatures):
            yield key, signature


class TextSignatures(beam.PTransform):
    """(key, text) -> (key, MinHash signature): a (config.num_perm,) uint64 array, hashed
    `batch_size` texts at a time. A text with no shingles gets all MAX_HASH (which no band matches)."""

    def __init__(self, config: MinHashConfig = WEB_MINHASH, batch_size: int = 1024):
        super().__init__()
        self.config = config
        self.batch_size = batch_size

    def expand(self, texts):
        return (
            texts
            | "Batch" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "Signatures" >> beam.ParDo(_TextSignaturesFn(self.config))
        )


class _MinSignatureFn(beam.CombineFn):
    """Elementwise minimum of signatures: the MinHash of the union of their shingle sets (each
    permutation's minimum over a union is the smaller of the parts' minima). One array per key."""

    def create_accumulator(self):
        return None

    def add_input(self, acc, signature):
        signature = np.asarray(signature, dtype=np.uint64)
        return signature.copy() if acc is None else np.minimum(acc, signature, out=acc)

    def merge_accumulators(self, accs):
        out = None
        for acc in accs:
            if acc is not None:
                out = acc.copy() if out is None else np.minimum(out, acc, out=out)
        return out

    def extract_output(self, acc):
        return acc


class UnionSignatures(beam.PTransform):
    """(key, signature) -> (key, signature of the union of the key's parts), e.g. a repository's
    signature from its files' (so the repository's text never has to be assembled or shipped)."""

    def expand(self, signatures):
        return signatures | "MinPerKey" >> beam.CombinePerKey(_MinSignatureFn())


class _SmallestFn(beam.CombineFn):
    """The `limit` smallest values, sorted, and how many values there were: [list, count]."""

    def __init__(self, limit: int):
        self.limit = limit

    def create_accumulator(self):
        return [[], 0]

    def add_input(self, acc, value):
        acc[1] += 1
        if len(acc[0]) < self.limit or value < acc[0][-1]:
            bisect.insort(acc[0], value)
            del acc[0][self.limit :]
        return acc

    def merge_accumulators(self, accs):
        values, count = [], 0
        for smallest, n in accs:
            values.extend(smallest)
            count += n
        return [sorted(values)[: self.limit], count]

    def extract_output(self, acc):
        return acc


class _KeeperShinglesFn(beam.DoFn):
    """Verification, first join (at a keeper): send the keeper's shingles to each member chosen."""

    def __init__(self, config: MinHashConfig, stage: str):
        self.config = config
        self.skipped = Metrics.counter(stage, "verify_skipped_pairs")

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, element):
        keeper_id, joined = element
        if not joined["chosen"]:
            return
        members, count = joined["chosen"][0]
        self.skipped.inc(count - len(members))
        if not joined["text"]:
            return
        shingles = np.unique(self.hasher.shingles(joined["text"][0]))
        for member in members:
            yield member[1], (member, shingles)


class _VerifyFn(beam.DoFn):
    """Verification, second join (at a member): its true Jaccard with its keeper; below the
    threshold the member is not a duplicate of the keeper and stays (yields its content key)."""

    def __init__(self, config: MinHashConfig, stage: str):
        self.config = config
        self.verified = Metrics.counter(stage, "verified_pairs")
        self.rejected = Metrics.counter(stage, "verify_rejected_pairs")

    def setup(self):
        self.hasher = MinHasher(self.config)

    def process(self, element):
        _, joined = element
        if not joined["text"] or not joined["keeper"]:
            return
        shingles = np.unique(self.hasher.shingles(joined["text"][0]))
        for member, keeper_shingles in joined["keeper"]:
            if jaccard_of_sets(keeper_shingles, shingles) >= self.config.threshold:
                self.verified.inc()
            else:
                self.rejected.inc()
                yield member[2], "rejected"


class _DecideFn(beam.DoFn):
    """At a content key: its exact group (if it has copies), its keeper from near-dedup (if any),
    and a rejection by verification (if any) -> the decision (rep id, keeper id or None) for every
    salt its copies are in."""

    def process(self, element):
        key, joined = element
        near = joined["near"]
        keeper = None if (not near or joined.get("rejected")) else near[0][1]
        if joined["exact"]:
            rep, _, _, salts = joined["exact"][0]
            for s in _salts_list(salts):
                yield (key, s), (rep[1], keeper)
        elif near and keeper is not None:  # a text with no copies, removed as a near-duplicate
            rep = near[0][0]
            yield (key, _id_salt(rep[1])), (rep[1], keeper)


class _SplitFn(beam.DoFn):
    """At (content key, salt): the rows and the decision for their text -> kept, or removed with
    `duplicate_of` (always a kept document) and the reason: "exact" for the copies of a text, or
    "near_duplicate" for the text's own row (the smallest of its copies) in a near-duplicate cluster."""

    def __init__(self, stage: str):
        self.kept = Metrics.counter(stage, "kept")
        self.exact = Metrics.counter(stage, "dropped_exact")
        self.near = Metrics.counter(stage, "dropped_near_duplicate")
        self.group = Metrics.distribution(stage, "final_group")

    def process(self, element):
        _, values = element
        decision, size = None, 0
        for value in values:
            size += 1
            if isinstance(value, tuple):
                decision = value
        self.group.update(size)
        for row in values:
            if isinstance(row, tuple):
                continue
            if decision is None:
                self.kept.inc()
                yield row
                continue
            rep_id, keeper_id = decision
            if str(row["id"]) != rep_id:
                self.exact.inc()
                yield beam.pvalue.TaggedOutput("removed", _removed(row, keeper_id or rep_id, "exact"))
            elif keeper_id is not None:
                self.near.inc()
                yield beam.pvalue.TaggedOutput("removed", _removed(row, keeper_id, "near_duplicate"))
            else:
                self.kept.inc()
                yield row


class MinHashDedup(beam.PTransform):
    """Exact, then MinHash LSH near-dedup, in one transform: rows -> DedupOutputs(kept, removed).

    1. Each row's normalized-text key (`content_key`), node (rank, id) and band hashes are computed
       in one pass over batches of `batch_size` rows (each distinct text of a batch hashed once).
    2. Exact: one combine per content key keeps the smallest node; its copies are removed with
       reason "exact". Near-dedup sees each distinct text once.
    3. Near: `_NearDuplicateNodes` on the distinct texts' band hashes (chunk-local union-find,
       shard-wise linking, connected components); see the sizes above `SALTS`.
    4. `verify=True`: each cluster's members, the `verify_limit` smallest of each, are compared with
       the cluster's keeper by true Jaccard of shingle sets; a member below `config.threshold` stays.
       Members beyond the limit keep their candidate decision and are counted `verify_skipped_pairs`.
    5. The decision for each text joins its rows back, grouped by (content key, salt of the id).

    Only (node, band hashes), node pairs and decisions cross shuffles until the final join, where
    each row crosses once (with `verify`, the texts cross twice more). `bucket_shards` overrides the
    band-hash sharding, otherwise ~`pairs_per_shard` (band hash, root) pairs per shard from the
    count of distinct texts."""

    def __init__(self, config: MinHashConfig = WEB_MINHASH, rank_key: RankKey | None = None, verify: bool = False,
                 cc_rounds: int = DEFAULT_CC_ROUNDS, batch_size: int = 1024, bucket_shards: int | None = None,
                 stage: str = "minhash", chunk_docs: int = DEFAULT_CHUNK_DOCS,
                 pairs_per_shard: int = DEFAULT_PAIRS_PER_SHARD, verify_limit: int = 1000):
        super().__init__()
        self.config = config
        self.rank_key = rank_key or earliest_first
        self.verify = verify
        self.cc_rounds = cc_rounds
        self.batch_size = batch_size
        self.bucket_shards = bucket_shards
        self.stage = stage
        self.chunk_docs = chunk_docs
        self.pairs_per_shard = pairs_per_shard
        self.verify_limit = verify_limit

    def expand(self, rows):
        stage = self.stage
        tags = ("rows", "texts") if self.verify else ("rows",)
        signed = (
            rows
            | "Batch" >> beam.BatchElements(min_batch_size=self.batch_size, max_batch_size=self.batch_size)
            | "Sign" >> beam.ParDo(_SignFn(self.config, self.rank_key, stage, self.verify)).with_outputs(
                *tags, main="exact")
        )
        distinct = Metrics.counter(stage, "distinct_texts")

        def count_distinct(kv):
            distinct.inc()
            return kv

        exact = (
            signed.exact
            | "ExactPerText" >> beam.CombinePerKey(_ExactFn())
            | "CountDistinct" >> beam.Map(count_distinct)
        )
        near = (
            exact
            | "DistinctTexts" >> beam.FlatMap(lambda kv: [(kv[1][0], kv[1][1])] if kv[1][1] is not None else [])
            | "NearDuplicates" >> _NearDuplicateNodes(stage, self.cc_rounds, self.chunk_docs, self.bucket_shards,
                                                      self.pairs_per_shard, self.config.bands)
        )
        inputs = {
            "exact": exact | "WithCopies" >> beam.Filter(lambda kv: kv[1][2] > 1),
            "near": near | "NearByText" >> beam.Map(lambda nk: (nk[0][2], (nk[0], nk[1][1]))),
        }
        if self.verify:
            inputs["rejected"] = near | "Verify" >> _Verify(signed.texts, self.config, self.verify_limit, stage)
        decisions = inputs | "JoinDecisions" >> beam.CoGroupByKey() | "Decide" >> beam.ParDo(_DecideFn())
        results = (
            (signed.rows, decisions)
            | "RowsAndDecisions" >> beam.Flatten()
            | "GroupByText" >> beam.GroupByKey()
            | "Split" >> beam.ParDo(_SplitFn(stage)).with_outputs("removed", main="kept")
        )
        return DedupOutputs(results.kept, results.removed)


class _Verify(beam.PTransform):
    """(member node, keeper node) pairs -> (content key, "rejected") for members whose true Jaccard
    with their keeper is below the threshold; at most `limit` members per keeper are compared."""

    def __init__(self, texts, config: MinHashConfig, limit: int, stage: str):
        super().__init__()
        self.texts = texts  # PCollection of (id, text)
        self.config = config
        self.limit = limit
        self.stage = stage

    def expand(self, pairs):
        chosen = (
            pairs
            | "ByKeeper" >> beam.Map(lambda nk: (nk[1][1], nk[0]))
            | "FirstMembers" >> beam.CombinePerKey(_SmallestFn(self.limit))
        )
        halves = (
            {"text": self.texts, "chosen": chosen}
            | "JoinKeeperText" >> beam.CoGroupByKey()
            | "KeeperShingles" >> beam.ParDo(_KeeperShinglesFn(self.config, self.stage))
        )
        return (
            {"text": self.texts, "keeper": halves}
            | "JoinMemberText" >> beam.CoGroupByKey()
            | "TrueJaccard" >> beam.ParDo(_VerifyFn(self.config, self.stage))
        )


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
