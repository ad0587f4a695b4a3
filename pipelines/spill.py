"""The local runner's shuffled and materialized collections, which move to disk as they grow.

Beam's FnApiRunner holds every grouped collection (the input of each GroupByKey, Reshuffle and
CoGroupByKey) and every collection it materializes between stages (a Flatten's inputs, side inputs)
in the launcher's memory (the grouped ones as decoded Python values) until the stage that reads
it has run: a local `math run` grew by 10-20 KB per page this way, ~60 GB for 100 Common Crawl files. On
Dataflow the shuffle service holds them. `SpillingGroupingBuffer` is the FnApiRunner's GroupingBuffer
until its input passes `SPILL_BYTES`; then its values move to `FANOUT` files on local disk, by a hash
of the key, and are read back one file at a time, grouped in memory, and handed to the bundle manager
as encoded pieces (`pieces`), so that the launcher holds one partition at a time. A partition over
`PARTITION_BYTES` is split again, by another hash, before it is read: what is held is bounded by
`PARTITION_BYTES` or by the largest single key's values, whichever is larger, not by the collection.
A materialized collection (`SpillingListBuffer`) is a list of encoded data-plane chunks; past
`SPILL_BYTES` they go to one file and are read back one chunk at a time.

The files live under `DEEPCORPUS_SPILL_DIR` (default: the system temporary directory, `TMPDIR`) and
are removed when the runner drops the collection, or at exit.
"""

from __future__ import annotations

import atexit
import collections
import itertools
import logging
import os
import shutil
import struct
import tempfile
import threading
import weakref
from collections.abc import Iterator

from apache_beam.coders import coders
from apache_beam.runners.portability.fn_api_runner import execution
from apache_beam.runners.portability.fn_api_runner.translations import split_buffer_id
from apache_beam.transforms import trigger
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.utils import windowed_value

# A grouped collection's encoded input held in memory before it moves to disk. Most of a pipeline's
# shuffles (counts, statistics, the few thousand rows of a sample) stay under it and never touch disk.
# Held decoded (Beam's table of Python values) it takes several times this, as a partition read back does.
SPILL_BYTES = 32 << 20
# Files per spilled collection, and per re-split of a partition that is still too large to read.
FANOUT = 64
PARTITION_BYTES = 16 << 20
# Past this depth a partition is read whatever its size: it is one key's values (or a few keys').
MAX_LEVEL = 4
# Each record on disk: key length, value length, key bytes, value bytes.
_HEADER = struct.Struct("<II")
_WRITE_BUFFER = 1 << 16


def spill_root() -> str:
    return os.environ.get("DEEPCORPUS_SPILL_DIR") or tempfile.gettempdir()


class _Partitions:
    """(key, value) records in FANOUT files, chosen by a hash of the key salted with the level."""

    def __init__(self, directory: str, level: int):
        self.level = level
        os.makedirs(directory, exist_ok=True)
        self.paths = [os.path.join(directory, f"{i:03d}") for i in range(FANOUT)]
        self.sizes = [0] * FANOUT
        self._finer: dict[int, _Partitions] = {}
        self._files = [open(path, "wb", buffering=_WRITE_BUFFER) for path in self.paths]

    def add(self, key: bytes, value: bytes) -> None:
        i = hash((self.level, key)) % FANOUT
        record = _HEADER.pack(len(key), len(value)) + key + value
        self._files[i].write(record)
        self.sizes[i] += len(record)

    def close(self) -> None:
        for f in self._files:
            f.close()
        self._files = []

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value), in no order (to merge one spilled collection into another)."""
        self.close()
        for i, path in enumerate(self.paths):
            if i in self._finer:
                yield from self._finer[i].records()
            else:
                yield from _records(path)

    def groups(self) -> Iterator[tuple[bytes, list[bytes]]]:
        """Every key with all its values, one partition in memory at a time."""
        for i, (path, size) in enumerate(zip(self.paths, self.sizes)):
            if i not in self._finer and size > PARTITION_BYTES and self.level < MAX_LEVEL:
                finer = _Partitions(path + ".d", self.level + 1)
                for key, value in _records(path):
                    finer.add(key, value)
                finer.close()
                os.remove(path)
                self._finer[i] = finer  # a second reader (two consuming stages) reads it split
            if i in self._finer:
                yield from self._finer[i].groups()
                continue
            table: dict[bytes, list[bytes]] = collections.defaultdict(list)
            for key, value in _records(path):
                table[key].append(value)
            yield from table.items()
            del table


def _records(path: str) -> Iterator[tuple[bytes, bytes]]:
    with open(path, "rb") as f:
        data = f.read()
    view, offset, end = memoryview(data), 0, len(data)
    while offset < end:
        key_len, value_len = _HEADER.unpack_from(view, offset)
        offset += _HEADER.size
        key = bytes(view[offset:offset + key_len])
        offset += key_len
        yield key, bytes(view[offset:offset + value_len])
        offset += value_len


_live_dirs: set[str] = set()
# What this process has moved to disk: collections and encoded bytes (reported by tests and logs).
spilled = collections.Counter()


def _remove(path: str) -> None:
    _live_dirs.discard(path)
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


@atexit.register
def _remove_all() -> None:
    for directory in list(_live_dirs):
        _remove(directory)


class SpillingGroupingBuffer(execution.GroupingBuffer):
    """GroupingBuffer that moves its values to disk once its encoded input passes SPILL_BYTES."""

    def __init__(self, pre_grouped_coder, post_grouped_coder, windowing):
        super().__init__(pre_grouped_coder, post_grouped_coder, windowing)
        self.encoded_bytes = 0  # what the bundle manager cuts by (pipelines/bundles.py)
        self._partitions: _Partitions | None = None
        self._lock = threading.Lock()  # bundles of one stage append from several threads
        # On disk: the value alone in the global window; the value with its window, timestamp and
        # pane otherwise (a Reshuffle's trigger), grouped back by the same trigger driver as Beam's.
        kv_coder = pre_grouped_coder.wrapped_value_coder
        value_coder = kv_coder.coders()[1] if hasattr(kv_coder, "coders") else None
        self._value_coder_impl = None
        if value_coder is not None and windowing.is_default():
            self._value_coder_impl = value_coder.get_impl()
        elif value_coder is not None:
            self._value_coder_impl = coders.WindowedValueCoder(value_coder, pre_grouped_coder.window_coder).get_impl()

    @property
    def spilled(self) -> bool:
        return self._partitions is not None

    def append(self, elements_data: bytes) -> None:
        with self._lock:
            self.encoded_bytes += len(elements_data)
            if self._partitions is None:
                super().append(elements_data)
                if self.encoded_bytes > SPILL_BYTES and self._can_spill():
                    self._move_to_disk()
                return
            stream = execution.create_InputStream(elements_data)
            coder_impl = self._pre_grouped_coder.get_impl()
            key_impl, value_impl = self._key_coder.get_impl(), self._value_coder_impl
            trivial = self._windowing.is_default()
            while stream.size() > 0:
                windowed = coder_impl.decode_from_stream(stream, True)
                key, value = windowed.value
                self._partitions.add(key_impl.encode(key), value_impl.encode(value if trivial else windowed.with_value(value)))
            spilled["bytes"] += len(elements_data)

    def _can_spill(self) -> bool:
        return self._value_coder_impl is not None

    def _move_to_disk(self) -> None:
        directory = tempfile.mkdtemp(prefix="deepcorpus-spill-", dir=spill_root())
        _live_dirs.add(directory)
        weakref.finalize(self, _remove, directory)
        self._partitions = _Partitions(directory, level=0)
        value_impl = self._value_coder_impl
        for key, values in self._table.items():
            for value in values:
                self._partitions.add(key, value_impl.encode(value))
        self._table.clear()
        spilled["collections"] += 1
        spilled["bytes"] += self.encoded_bytes
        logging.getLogger(__name__).info("a grouped collection passed %d MiB: moved to %s", SPILL_BYTES >> 20, directory)

    def extend(self, input_buffer) -> None:
        # The runner merges two inputs queued for one consumer this way; Beam's version reads the
        # other's in-memory table, which a spilled buffer has emptied.
        if isinstance(input_buffer, execution.ListBuffer):
            return  # as Beam does: a grouped input's list-buffer part (timers, residuals) is not data
        if not self.spilled and not getattr(input_buffer, "spilled", False):
            return super().extend(input_buffer)
        with self._lock:
            if not self.spilled:
                self._move_to_disk()
            if getattr(input_buffer, "spilled", False):
                for key, value in input_buffer._partitions.records():
                    self._partitions.add(key, value)
            else:
                for key, values in input_buffer._table.items():
                    for value in values:
                        self._partitions.add(key, self._value_coder_impl.encode(value))
            self.encoded_bytes += getattr(input_buffer, "encoded_bytes", 0)

    def pieces(self, target_bytes: int) -> Iterator[list[bytes]]:
        """The grouped collection as encoded pieces of about `target_bytes` (whole keys; a key
        larger than that is a piece of its own), read from disk one partition at a time."""
        with self._lock:
            if self._partitions._files:
                self._partitions.close()
        key_impl, value_impl = self._key_coder.get_impl(), self._value_coder_impl
        coder_impl = self._post_grouped_coder.get_impl()
        if self._windowing.is_default():
            def grouped(key, values):
                return [_in_global_window((key, values))]
        else:
            grouped = trigger.create_trigger_driver(self._windowing, True).process_entire_key
        stream = execution.create_OutputStream()
        for key, values in self._partitions.groups():
            for windowed in grouped(key_impl.decode(key), [value_impl.decode(v) for v in values]):
                coder_impl.encode_to_stream(windowed, stream, True)
            if stream.size() >= target_bytes:
                yield [stream.get()]
                stream = execution.create_OutputStream()
        if stream.size():
            yield [stream.get()]

    def partition(self, n: int) -> list[list[bytes]]:
        # Beam's own bundle managers (stateful stages) read a grouped input this way: correct, but
        # it holds the whole collection again. Ours read `pieces`.
        if self._partitions is None:
            return super().partition(n)
        if self._grouped_output is None:
            parts: list[list[bytes]] = [[] for _ in range(n)]
            for i, piece in enumerate(self.pieces(1 << 20)):
                parts[i % n].extend(piece)
            self._grouped_output = parts
        return self._grouped_output

    def __iter__(self) -> Iterator[bytes]:
        if self._partitions is None:
            return super().__iter__()
        return itertools.chain.from_iterable(self.pieces(1 << 20))


_in_global_window = GlobalWindows.windowed_value(
    None,
    timestamp=GlobalWindow().max_timestamp(),
    pane_info=windowed_value.PaneInfo(is_first=True, is_last=True, timing=windowed_value.PaneInfoTiming.ON_TIME,
                                      index=0, nonspeculative_index=0)).with_value


_CHUNK_HEADER = struct.Struct("<Q")


class _Chunks:
    """Data-plane chunks appended to one file and read back one at a time; shared by the copies
    of a buffer (one per consuming stage), removed when the last of them is dropped."""

    def __init__(self):
        fd, self.path = tempfile.mkstemp(prefix="deepcorpus-spill-", dir=spill_root())
        _live_dirs.add(self.path)
        weakref.finalize(self, _remove, self.path)
        self._file = os.fdopen(fd, "wb", buffering=_WRITE_BUFFER)
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self._file.write(_CHUNK_HEADER.pack(len(chunk)))
            self._file.write(chunk)

    def __iter__(self) -> Iterator[bytes]:
        with self._lock:
            self._file.flush()
        with open(self.path, "rb") as f:
            while header := f.read(_CHUNK_HEADER.size):
                yield f.read(_CHUNK_HEADER.unpack(header)[0])


class SpillingListBuffer(execution.ListBuffer):
    """ListBuffer (a collection the runner materializes between stages: a Flatten's inputs, a
    side input) whose encoded chunks move to one file on disk once they pass SPILL_BYTES."""

    def __init__(self, coder_impl):
        self._chunks: _Chunks | None = None
        self._held_bytes = 0
        self._lock = threading.Lock()
        super().__init__(coder_impl)

    # Beam's own methods (`partition` for its bundle managers, another buffer's `extend`) read the
    # chunks as `_inputs`: correct for a spilled buffer too, though they then hold it whole.
    @property
    def _inputs(self) -> list[bytes]:
        return self._memory if self._chunks is None else list(self._chunks)

    @_inputs.setter
    def _inputs(self, value: list[bytes]) -> None:
        self._memory, self._chunks, self._held_bytes = list(value), None, sum(map(len, value))

    @property
    def spilled(self) -> bool:
        return self._chunks is not None

    def append(self, element: bytes) -> None:
        if self.cleared:
            raise RuntimeError("Trying to append to a cleared ListBuffer.")
        if self._grouped_output:
            raise RuntimeError("ListBuffer append after read.")
        with self._lock:
            if self._chunks is not None:
                self._chunks.add(element)
                spilled["bytes"] += len(element)
                return
            self._memory.append(element)
            self._held_bytes += len(element)
            if self._held_bytes > SPILL_BYTES:
                self._chunks = _Chunks()
                for chunk in self._memory:
                    self._chunks.add(chunk)
                self._memory = []
                spilled["collections"] += 1
                spilled["bytes"] += self._held_bytes

    def extend(self, extra) -> None:
        for chunk in extra:
            self.append(chunk)

    def copy(self) -> SpillingListBuffer:
        new = SpillingListBuffer(self._coder_impl)
        if self._chunks is None:
            new._inputs = self._memory
        else:
            new._chunks = self._chunks
        return new

    def __iter__(self) -> Iterator[bytes]:
        if self.cleared:
            raise RuntimeError("Trying to iterate through a cleared ListBuffer.")
        return iter(self._memory) if self._chunks is None else iter(self._chunks)

    def pieces(self, target_bytes: int) -> Iterator[list[bytes]]:
        """One data-plane chunk (at most ~10 MB) per piece, read from disk as they are taken."""
        return ([chunk] for chunk in self)


def install() -> None:
    """Make the FnApiRunner build its grouped collections as SpillingGroupingBuffers (it looks the
    class up in its module when a stage first writes a grouped output) and the collections it
    materializes between stages as SpillingListBuffers."""
    execution.GroupingBuffer = SpillingGroupingBuffer
    get_buffer = execution.BundleContextManager.get_buffer
    if getattr(get_buffer, "spills", False):
        return

    def get_buffer_spilling(self, buffer_id, transform_id):
        kind, _ = split_buffer_id(buffer_id)
        if kind == "materialize" and buffer_id not in self.execution_context.pcoll_buffers:
            self.execution_context.pcoll_buffers[buffer_id] = SpillingListBuffer(
                self.get_input_coder_impl(transform_id))
        return get_buffer(self, buffer_id, transform_id)

    get_buffer_spilling.spills = True
    execution.BundleContextManager.get_buffer = get_buffer_spilling
