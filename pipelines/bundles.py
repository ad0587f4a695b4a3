"""Bounded bundles for the local runner.

Beam's FnApiRunner hands each stage's whole input to a worker as one bundle (or as one bundle per
worker), so a worker's memory grows with the stage's input: the runner writes the bundle's input
into the data channel before the bundle starts, and the worker buffers what it has received. On
Dataflow a worker reads its bundles from the shuffle a piece at a time. `SplittingBundleManager`
does what Dataflow does for large stages: it cuts a stage's input into bundles of about
`target_bytes` encoded bytes (whole shuffle groups: a key's values never straddle two bundles) and
runs them `num_workers` at a time. Small inputs and stateful stages are run as Beam runs them.

A collection that has moved to disk (pipelines/spill.py) is read lazily: its pieces are
packed into bundles as the workers take them, at most two bundles per worker ahead, so the launcher
holds one partition and a few bundles of it, not the collection.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from apache_beam.metrics import monitoring_infos
from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.runners.portability.fn_api_runner import execution
from apache_beam.runners.portability.fn_api_runner.fn_runner import BundleManager, ParallelBundleManager

# About 8 MiB of encoded input per bundle: big enough that per-bundle costs (a control round trip,
# start/finish_bundle) vanish, small enough that a worker holds a few of them at most. The launcher
# holds up to two per worker ahead, and gRPC copies of them: at 32 MiB it swung between ~300 and
# ~600 MiB while it fed the dedup stage of 4 CC-size files (2026-12-03), at 8 MiB under ~380.
TARGET_BUNDLE_BYTES = 8 << 20
# A grouped input is cut when its encoded size (counted as it arrives, pipelines/spill.py) is over
# the target, or when it holds more values than this; into one piece per key, up to MAX_PIECES
# pieces (it can be encoded into pieces only once), which are then packed into bundles by size.
VALUES_PER_PIECE = 20_000
MAX_PIECES = 4096
# Stages this process did not run because their input was empty (for tests and logs).
skipped = collections.Counter()


def _is_empty(buffer) -> bool:
    """Whether a stage input certainly holds no element (a kind this does not know: no)."""
    if getattr(buffer, "spilled", False):
        return False
    if isinstance(buffer, execution.ListBuffer):
        return not buffer.cleared and not any(map(len, buffer._inputs))
    if isinstance(buffer, execution.GroupingBuffer):
        if buffer._grouped_output is not None:
            return not any(len(chunk) for part in buffer._grouped_output for chunk in part)
        return not buffer._table
    return False


def _pieces(buffer, target_bytes: int) -> Iterable[list[bytes]] | None:
    """`buffer` as pieces (each a list of encoded chunks), or None when it is small or of a kind
    this does not cut (then the stage runs as Beam runs it). A spilled buffer's pieces are a lazy
    iterator, read from disk as they are packed."""
    if getattr(buffer, "spilled", False):
        return buffer.pieces(target_bytes)
    if isinstance(buffer, execution.ListBuffer):
        chunks = list(buffer)
        if sum(map(len, chunks)) <= target_bytes:
            return None
        # One data-plane chunk (at most ~10 MB, as the worker flushed it) per piece: no re-encoding.
        return [[chunk] for chunk in chunks]
    if isinstance(buffer, execution.GroupingBuffer):
        values = sum(map(len, buffer._table.values()))
        if getattr(buffer, "encoded_bytes", 0) <= target_bytes and values <= VALUES_PER_PIECE:
            return None
        # As many pieces as keys, up to MAX_PIECES: a few large groups (a shard's band-hash packs)
        # become one piece each, many small ones are packed back together by size.
        return buffer.partition(min(MAX_PIECES, len(buffer._table)))
    return None


def pack(pieces: dict[str, Iterable[list[bytes]]], target_bytes: int) -> list[dict[str, list[bytes]]]:
    """Greedy packing of every input's pieces into bundles of about `target_bytes` each; every
    bundle names every input (an empty list where it has none of it), as the worker expects data
    for each of the stage's inputs."""
    return list(packed(pieces, target_bytes))


def packed(pieces: dict[str, Iterable[list[bytes]]], target_bytes: int) -> Iterator[dict[str, list[bytes]]]:
    """`pack`, one bundle at a time, taking the pieces as it goes."""
    current: dict[str, list[bytes]] = {name: [] for name in pieces}
    size, emitted = 0, False
    for name, parts in pieces.items():
        for part in parts:
            part_size = sum(map(len, part))
            if size and size + part_size > target_bytes:
                yield current
                emitted = True
                current, size = {n: [] for n in pieces}, 0
            current[name].extend(part)
            size += part_size
    if size or not emitted:
        yield current


def run_bounded(execute, bundles: Iterator, workers: int) -> list:
    """`execute` on each bundle, `workers` at a time, results in order. At most `2 * workers + 1`
    bundles are taken and not finished: `2 * workers` submitted, and the one drawn next, which
    waits for room before it is submitted."""
    results: dict[int, object] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bundle") as pool:
        running: dict = {}
        for index, bundle in enumerate(bundles):
            while len(running) >= 2 * workers:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    results[running.pop(future)] = future.result()
            running[pool.submit(execute, bundle)] = index
            del bundle
        for future in running:
            results[running[future]] = future.result()
    return [results[i] for i in range(len(results))]


def _merge(results: list[beam_fn_api_pb2.InstructionResponse]) -> beam_fn_api_pb2.InstructionResponse:
    """One response for the stage: metrics consolidated, residuals kept, the first error."""
    return beam_fn_api_pb2.InstructionResponse(
        process_bundle=beam_fn_api_pb2.ProcessBundleResponse(
            monitoring_infos=monitoring_infos.consolidate(
                itertools.chain.from_iterable(r.process_bundle.monitoring_infos for r in results)),
            residual_roots=list(itertools.chain.from_iterable(r.process_bundle.residual_roots for r in results))),
        error=next((r.error for r in results if r.error), ""))


class SplittingBundleManager(ParallelBundleManager):
    """ParallelBundleManager whose bundles are bounded in bytes rather than one per worker."""

    target_bytes = TARGET_BUNDLE_BYTES

    def process_bundle(self, inputs, expected_outputs, fired_timers, expected_output_timers, dry_run=False):
        if not fired_timers and inputs and all(map(_is_empty, inputs.values())):
            # Dataflow starts no bundle for a stage with no input; the FnApiRunner runs one per
            # worker anyway, a control round trip and a bundle each. An unrolled loop (the rounds
            # of ConnectedComponents, most of them empty once it converged) paid for each: a 1x
            # `math run` skips 164 such stages, ~2-3 of its ~40 CPU s.
            skipped["stages"] += 1
            return beam_fn_api_pb2.InstructionResponse(process_bundle=beam_fn_api_pb2.ProcessBundleResponse()), []
        cuts = {} if fired_timers else {name: _pieces(buffer, self.target_bytes) for name, buffer in inputs.items()}
        if all(cut is None for cut in cuts.values()):
            if self._num_workers == 1:
                return BundleManager.process_bundle(self, inputs, expected_outputs, fired_timers,
                                                    expected_output_timers, dry_run)
            return super().process_bundle(inputs, expected_outputs, fired_timers, expected_output_timers, dry_run)
        pieces = {name: cut if cut is not None else [list(inputs[name])] for name, cut in cuts.items()}

        def execute(bundle):
            manager = BundleManager(self.bundle_context_manager, self._progress_frequency,
                                    cache_token_generator=self._cache_token_generator)
            return manager.process_bundle(bundle, expected_outputs, {}, expected_output_timers, dry_run)

        done = run_bounded(execute, packed(pieces, self.target_bytes), self._num_workers)
        return _merge([result for result, _ in done]), [s for _, splits in done for s in splits]
