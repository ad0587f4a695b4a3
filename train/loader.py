"""The token-shard loader: a deterministic, resumable stream of training batches.

The data order is a pure function of (seed, position), computed from Parquet metadata alone:

1. Each source's rows are cut into chunks (`chunk_rows` rows of one row group). Per epoch the
   chunks are permuted, grouped into windows of about `shuffle_buffer` rows, and the rows of each
   window are permuted again: a shuffle buffer whose contents never depend on history.
2. Sources are interleaved by weight with a largest-deficit rule, so every prefix of the stream
   holds each source in proportion (no sampling noise).
3. Global batch `b` is stream rows [b*B, (b+1)*B). Micro-step `a` on rank `r` of `W` takes rows
   [(a*W + r)*m, ... + m): ranks never overlap, and a run on one process with `W` times the
   accumulation sees exactly the same rows per optimizer step as a run on `W` ranks.

The loader's whole state is the stream position and per-source counts, so saving and restoring it
is exact. Worker threads read the chunks a batch needs (whole row groups, tokens column only,
sliced) into a shared cache; each micro-batch is assembled by one worker, in order.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from deepcorpus.core import datasets, storage
from deepcorpus.core.contracts import TOKEN_SHARD
from deepcorpus.core.errors import DatasetError, UserError
from model import IGNORE_INDEX, segment_ids_from_starts

log = logging.getLogger(__name__)


# --- sources -------------------------------------------------------------------------------------


@dataclass
class ShardSource:
    """One token-shard dataset: its manifest facts and its chunks (file, row group, start, rows)."""

    name: str
    path: str
    weight: float
    info: dict
    files: list[str]
    metadata: list[pq.FileMetaData]
    chunks: np.ndarray  # (n_chunks, 4) int64: file index, row group, first row, rows
    num_rows: int

    @property
    def seq_len(self) -> int:
        return int(self.info["seq_len"])


def _read_footer(path: str) -> pq.FileMetaData:
    try:
        if storage.is_remote(path):
            fs, p = storage.filesystem(path)
            with fs.open_input_file(p) as f:
                return pq.ParquetFile(f).metadata
        return pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as e:
        raise DatasetError(f"{path}: corrupt token shard ({str(e).splitlines()[0]})") from None


def open_source(path: str, *, name: str | None = None, weight: float | None = None,
                chunk_rows: int = 1024) -> ShardSource:
    """Open a committed token-shard dataset and check every part's footer and schema."""
    src = datasets.resolve_input(path, expect=TOKEN_SHARD)
    if src.dataset is None:
        raise UserError(f"{path}: not a token-shard dataset (run `deepcorpus tokenize run` first)")
    ds = src.dataset
    info = datasets.token_shard_info(ds)
    info["bos_id"] = ds.manifest.get("bos_id")
    info["add_bos"] = ds.manifest.get("add_bos")
    info["tokenizer"] = ds.manifest.get("tokenizer") or ds.manifest.get("tokenizer_path")
    files = sorted(f for f in ds.files if storage.basename(f).startswith("part-"))
    if not files:
        raise DatasetError(f"{ds.path}: token-shard dataset has no part files")
    with ThreadPoolExecutor(max_workers=min(16, len(files))) as pool:
        metas = list(pool.map(_read_footer, files))
    width = int(info["seq_len"]) + 1
    chunks = []
    total = 0
    for fi, (f, meta) in enumerate(zip(files, metas)):
        schema = meta.schema.to_arrow_schema()
        if "tokens" not in schema.names:
            raise DatasetError(f"{f}: token shard has no 'tokens' column")
        ttype = schema.field("tokens").type
        if not pa.types.is_fixed_size_list(ttype) or ttype.list_size != width:
            raise DatasetError(f"{f}: 'tokens' is {ttype}, but the manifest's seq_len {width - 1} needs "
                               f"fixed-size lists of {width}")
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            for start in range(0, n, chunk_rows):
                chunks.append((fi, rg, start, min(chunk_rows, n - start)))
            total += n
    if total != ds.row_count:
        raise DatasetError(f"{ds.path}: manifest says {ds.row_count} rows but the parts hold {total}")
    if total == 0:
        raise DatasetError(f"{ds.path}: token-shard dataset is empty")
    return ShardSource(
        name=name or storage.basename(path.rstrip("/")) or path,
        path=ds.path,
        weight=float(total if weight is None else weight),
        info=info,
        files=files,
        metadata=metas,
        chunks=np.asarray(chunks, dtype=np.int64).reshape(-1, 4),
        num_rows=total,
    )


def open_sources(data: list[str], mixture_path: str | None, *, chunk_rows: int = 1024,
                 tokenizer_hash: str | None = None) -> list[ShardSource]:
    """The datasets to train on, checked to share one tokenizer and one sequence length.

    `--data` datasets are weighted by their size (each row once per epoch); a mixture YAML gives
    explicit weights.
    """
    if mixture_path:
        from deepcorpus.core.mixture import load_mixture

        mix = load_mixture(mixture_path)
        sources = [open_source(s.path, name=s.name, weight=s.weight, chunk_rows=chunk_rows)
                   for s in mix.sources if s.weight > 0]
    else:
        if not data:
            raise UserError("no training data: give --data DATASET (token shards) or --mixture FILE")
        sources = [open_source(p, chunk_rows=chunk_rows) for p in data]
    first = sources[0]
    expected = tokenizer_hash or first.info["tokenizer_hash"]
    for s in sources:
        if s.info["tokenizer_hash"] != expected:
            whose = "the run's tokenizer" if tokenizer_hash else f"{first.path}'s"
            raise DatasetError(f"{s.path}: tokenizer hash {s.info['tokenizer_hash'][:12]}... differs from "
                               f"{whose} {expected[:12]}...; these shards were made with another tokenizer")
        for key in ("seq_len", "vocab_size"):
            if s.info[key] != first.info[key]:
                raise DatasetError(f"{s.path}: {key} {s.info[key]} differs from {first.path}'s {first.info[key]}")
    return sources


# --- the data order ------------------------------------------------------------------------------


class SourceOrder:
    """The endless, epoch-by-epoch shuffled row order of one source (pure function of the seed)."""

    def __init__(self, source: ShardSource, index: int, seed: int, shuffle_buffer: int):
        self.rows_per_chunk = source.chunks[:, 3]
        self.num_rows = source.num_rows
        self.index = index
        self.seed = seed
        self.buffer = shuffle_buffer
        self._epoch: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._window: tuple[tuple[int, int], np.ndarray, np.ndarray] | None = None

    def _epoch_layout(self, epoch: int):
        if self._epoch is None or self._epoch[0] != epoch:
            perm = np.random.default_rng([self.seed, self.index, epoch]).permutation(len(self.rows_per_chunk))
            rows = self.rows_per_chunk[perm]
            before = np.concatenate([[0], np.cumsum(rows)[:-1]])
            window_of_chunk = before // self.buffer
            # First chunk (in permuted order) and first row of each window.
            firsts = np.flatnonzero(np.diff(window_of_chunk, prepend=-1))
            self._epoch = (epoch, perm, firsts, before)
        return self._epoch

    def _window_rows(self, epoch: int, w: int):
        if self._window is None or self._window[0] != (epoch, w):
            _, perm, firsts, before = self._epoch_layout(epoch)
            lo = firsts[w]
            hi = firsts[w + 1] if w + 1 < len(firsts) else len(perm)
            sizes = self.rows_per_chunk[perm[lo:hi]]
            chunk_ids = np.repeat(perm[lo:hi], sizes)
            offsets = np.arange(len(chunk_ids)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            shuffle = np.random.default_rng([self.seed, self.index, epoch, w + 1]).permutation(len(chunk_ids))
            self._window = ((epoch, w), chunk_ids[shuffle], offsets[shuffle])
        return self._window

    def rows(self, position: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, row offsets within the chunk) of stream rows [position, position + count)."""
        chunk_out, off_out = [], []
        while count > 0:
            epoch, in_epoch = divmod(position, self.num_rows)
            _, _, firsts, before = self._epoch_layout(epoch)
            window_starts = before[firsts]
            w = int(np.searchsorted(window_starts, in_epoch, side="right") - 1)
            _, chunk_ids, offsets = self._window_rows(epoch, w)
            lo = in_epoch - window_starts[w]
            take = min(count, len(chunk_ids) - lo)
            chunk_out.append(chunk_ids[lo:lo + take])
            off_out.append(offsets[lo:lo + take])
            position += take
            count -= take
        if not chunk_out:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(chunk_out), np.concatenate(off_out)


def interleave(probabilities: np.ndarray, counts: np.ndarray, position: int, n: int) -> np.ndarray:
    """Source of each of the next `n` rows: the one furthest behind its share (ties: lowest index)."""
    if len(probabilities) == 1:
        return np.zeros(n, dtype=np.int64)
    counts = counts.astype(np.float64).copy()
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        s = int(np.argmax((position + i + 1) * probabilities - counts))
        out[i] = s
        counts[s] += 1
    return out


@dataclass
class LoaderState:
    """Where the stream stands: rows consumed overall and per source."""

    position: int = 0
    source_positions: list[int] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------


@dataclass
class Chunk:
    tokens: np.ndarray  # (rows, seq_len + 1) int32 or uint32, as stored
    doc_starts: list[np.ndarray] | None


def read_chunk(source: ShardSource, chunk_id: int, with_doc_starts: bool) -> Chunk:
    fi, rg, start, rows = (int(x) for x in source.chunks[chunk_id])
    path = source.files[fi]
    columns = ["tokens", "doc_starts"] if with_doc_starts else ["tokens"]
    try:
        if storage.is_remote(path):
            fs, p = storage.filesystem(path)
            with fs.open_input_file(p) as f:
                table = pq.ParquetFile(f, metadata=source.metadata[fi]).read_row_group(rg, columns=columns)
        else:
            table = pq.ParquetFile(path, metadata=source.metadata[fi]).read_row_group(rg, columns=columns)
    except (pa.ArrowException, OSError) as e:
        raise DatasetError(f"{path}: corrupt token shard (row group {rg}: {str(e).splitlines()[0]})") from None
    table = table.slice(start, rows)
    col = table.column("tokens").combine_chunks()
    if col.null_count:
        raise DatasetError(f"{path}: row group {rg} has null token rows")
    width = col.type.list_size
    # Kept at the shard's width (int32/uint32) in the cache; widened per batch in _assemble.
    tokens = col.flatten().to_numpy(zero_copy_only=False).reshape(rows, width)
    vocab = int(source.info["vocab_size"])
    lo, hi = (int(tokens.min()), int(tokens.max())) if tokens.size else (0, 0)
    if lo < 0 or hi >= vocab:
        bad = hi if hi >= vocab else lo
        raise DatasetError(f"{path}: row group {rg} holds token id {bad}, outside the vocabulary of {vocab}")
    doc_starts = None
    if with_doc_starts:
        starts = table.column("doc_starts").combine_chunks()
        offsets = starts.offsets.to_numpy()
        offsets = offsets - offsets[0]  # a sliced list array keeps its parent's offsets
        values = starts.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
        doc_starts = [values[offsets[i]:offsets[i + 1]] for i in range(rows)]  # views, no copies
    return Chunk(tokens, doc_starts)


class ChunkCache:
    """Chunks by (source, chunk id), least recently used out; a chunk is read once even if two
    workers ask for it at the same time."""

    def __init__(self, load, capacity: int):
        self.load = load
        self.capacity = capacity
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple[int, int], Future] = OrderedDict()

    def get(self, key: tuple[int, int]) -> Chunk:
        owner = False
        with self.lock:
            fut = self.entries.get(key)
            if fut is None:
                fut = Future()
                self.entries[key] = fut
                owner = True
                while len(self.entries) > self.capacity:
                    old_key, old = next(iter(self.entries.items()))
                    if not old.done() or old_key == key:
                        break
                    self.entries.popitem(last=False)
            else:
                self.entries.move_to_end(key)
        if owner:
            try:
                fut.set_result(self.load(key))
            except BaseException as e:
                fut.set_exception(e)
                with self.lock:
                    self.entries.pop(key, None)
        return fut.result()


@dataclass
class MicroBatch:
    """One forward pass worth of rows for this rank, as tensors ready for the model."""

    inputs: object  # torch.LongTensor (m, T)
    targets: object  # torch.LongTensor (m, T), IGNORE_INDEX where there is nothing to predict
    segment_ids: object | None  # (m, T) document index within the row (doc_mask only); the model
    # keeps attention inside a document and restarts positions where it changes
    n_tokens: int  # targets that count

    def to(self, device):
        def move(t):
            return None if t is None else t.to(device, non_blocking=True)

        return MicroBatch(move(self.inputs), move(self.targets), move(self.segment_ids), self.n_tokens)


def make_micro_batch(rows: np.ndarray, doc_starts: list[np.ndarray] | None, pad_id: int,
                     eos_id: int) -> MicroBatch:
    """Rows of seq_len + 1 ids -> inputs (all but the last id) and targets (all but the first)."""
    import torch

    inputs = rows[:, :-1]
    targets = rows[:, 1:].copy()
    if pad_id != eos_id:
        # Only the tail of a part's last row is padding: mask the trailing run of pad ids.
        is_pad = targets == pad_id
        trailing = np.flip(np.cumprod(np.flip(is_pad, axis=1), axis=1), axis=1).astype(bool)
        targets[trailing] = IGNORE_INDEX
    n_tokens = int((targets != IGNORE_INDEX).sum())
    seg = segment_ids_from_starts(doc_starts, inputs.shape[1]) if doc_starts is not None else None
    return MicroBatch(torch.from_numpy(np.ascontiguousarray(inputs)), torch.from_numpy(targets), seg, n_tokens)


# --- the loader ----------------------------------------------------------------------------------


class TokenLoader:
    """Iterate optimizer steps; each item is this rank's list of micro-batches for one step.

        loader = TokenLoader(sources, global_batch=32, micro_batch=8, rank=0, world=1, seed=0)
        for micro_batches in loader:
            ...
            state = loader.state_dict()  # the position after the step just yielded
    """

    def __init__(self, sources: list[ShardSource], *, global_batch: int, micro_batch: int, rank: int = 0,
                 world: int = 1, seed: int = 0, shuffle_buffer: int = 8192, workers: int = 2,
                 doc_mask: bool = False, prefetch_steps: int = 2, verbose: bool = True):
        if global_batch % (micro_batch * world):
            raise UserError(f"batch_size {global_batch} is not a multiple of micro_batch_size {micro_batch} "
                            f"x {world} ranks")
        self.sources = sources
        self.global_batch = global_batch
        self.micro_batch = micro_batch
        self.accum = global_batch // (micro_batch * world)
        self.rank, self.world = rank, world
        self.seed = seed
        self.doc_mask = doc_mask
        self.verbose = verbose
        self.workers = workers
        self.prefetch_steps = max(1, prefetch_steps)
        self.orders = [SourceOrder(s, i, seed, shuffle_buffer) for i, s in enumerate(sources)]
        weights = np.asarray([s.weight for s in sources], dtype=np.float64)
        self.probabilities = weights / weights.sum()
        self.state = LoaderState(0, [0] * len(sources))
        self._yielded = LoaderState(0, [0] * len(sources))
        self.pad_id = int(sources[0].info["pad_id"])
        self.eos_id = int(sources[0].info["eos_id"])
        chunks_per_window = sum(-(-shuffle_buffer // max(1, int(s.chunks[:, 3].max()))) + 2 for s in sources)
        self.cache = ChunkCache(self._load, capacity=2 * chunks_per_window + 4 * workers)
        self.epochs_seen = [0] * len(sources)

    @property
    def seq_len(self) -> int:
        return self.sources[0].seq_len

    def _load(self, key: tuple[int, int]) -> Chunk:
        s, c = key
        return read_chunk(self.sources[s], c, self.doc_mask)

    # -- position --

    def state_dict(self) -> dict:
        return {"position": self._yielded.position, "source_positions": list(self._yielded.source_positions),
                "sources": [s.name for s in self.sources], "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        if len(state.get("source_positions", [])) != len(self.sources):
            raise UserError(f"the checkpoint's loader read {len(state.get('source_positions', []))} sources, "
                            f"this run has {len(self.sources)}; resume with the same --data/--mixture")
        self.state = LoaderState(int(state["position"]), [int(x) for x in state["source_positions"]])
        self._yielded = LoaderState(self.state.position, list(self.state.source_positions))

    # -- planning (metadata only, identical on every rank) --

    def _plan_step(self) -> list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
        """This rank's rows for the next optimizer step, per micro-batch as (source, chunk, offset)."""
        b = self.global_batch
        counts = np.asarray(self.state.source_positions, dtype=np.int64)
        src = interleave(self.probabilities, counts, self.state.position, b)
        chunk = np.empty(b, dtype=np.int64)
        offset = np.empty(b, dtype=np.int64)
        for s, order in enumerate(self.orders):
            where = np.flatnonzero(src == s)
            if len(where):
                c, o = order.rows(int(counts[s]), len(where))
                chunk[where], offset[where] = c, o
                epoch = (int(counts[s]) + len(where) - 1) // order.num_rows
                if epoch > self.epochs_seen[s]:
                    self.epochs_seen[s] = epoch
                    if self.verbose:
                        log.info("data source %s: starting epoch %d", self.sources[s].name, epoch + 1)
                counts[s] += len(where)
        self.state = LoaderState(self.state.position + b, counts.tolist())
        m, w = self.micro_batch, self.world
        plan = []
        for a in range(self.accum):
            lo = (a * w + self.rank) * m
            plan.append((src[lo:lo + m], chunk[lo:lo + m], offset[lo:lo + m]))
        return plan

    def _assemble(self, refs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> MicroBatch:
        src, chunk, offset = refs
        rows = np.empty((len(src), self.seq_len + 1), dtype=np.int64)
        starts = [None] * len(src) if self.doc_mask else None
        for key in sorted(set(zip(src.tolist(), chunk.tolist()))):
            data = self.cache.get(key)
            where = np.flatnonzero((src == key[0]) & (chunk == key[1]))
            rows[where] = data.tokens[offset[where]]
            if starts is not None:
                for i in where:
                    starts[i] = data.doc_starts[offset[i]]
        return make_micro_batch(rows, starts, self.pad_id, self.eos_id)

    # -- iteration --

    def __iter__(self):
        self._yielded = LoaderState(self.state.position, list(self.state.source_positions))
        if self.workers == 0:
            while True:
                plan = self._plan_step()
                after = LoaderState(self.state.position, list(self.state.source_positions))
                batches = [self._assemble(r) for r in plan]
                self._yielded = after
                yield batches
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="loader")
        pending: deque = deque()
        try:
            while True:
                while len(pending) < self.prefetch_steps:
                    plan = self._plan_step()
                    after = LoaderState(self.state.position, list(self.state.source_positions))
                    pending.append(([pool.submit(self._assemble, r) for r in plan], after))
                futures, after = pending.popleft()
                batches = [f.result() for f in futures]
                self._yielded = after
                yield batches
        finally:
            for futures, _ in pending:
                for f in futures:
                    f.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


def describe(sources: list[ShardSource]) -> str:
    out = io.StringIO()
    total = sum(s.weight for s in sources)
    for s in sources:
        out.write(f"{s.name}: {s.num_rows:,} rows x {s.seq_len + 1} tokens, weight {s.weight / total:.3f}; ")
    return out.getvalue().rstrip("; ")


def build_data(cfg, parallel) -> TokenLoader:
    """This rank's loader over the config's `--data`/`--mixture`; with `cfg.tokenizer_hash` set, shards
    made with another tokenizer are refused."""
    sources = open_sources(cfg.data, cfg.mixture, chunk_rows=cfg.chunk_rows, tokenizer_hash=cfg.tokenizer_hash)
    micro = cfg.micro_batch_size or cfg.batch_size // parallel.world
    if micro < 1 or cfg.batch_size % (micro * parallel.world):
        raise UserError(f"batch_size {cfg.batch_size} must be a multiple of micro_batch_size x ranks "
                        f"({micro} x {parallel.world})")
    return TokenLoader(sources, global_batch=cfg.batch_size, micro_batch=micro, rank=parallel.rank,
                       world=parallel.world, seed=cfg.seed, shuffle_buffer=cfg.shuffle_buffer,
                       workers=cfg.loader_workers, doc_mask=cfg.doc_mask, verbose=parallel.is_main)
