"""Local runs use two malloc arenas per process, fixed mmap and trim thresholds and Arrow on the system
allocator, unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = ("import os; import pyarrow as pa; from pipelines import allocators; allocators.steady(); "
         "print(os.environ['MALLOC_ARENA_MAX'], os.environ['MALLOC_MMAP_THRESHOLD_'], "
         "os.environ['MALLOC_TRIM_THRESHOLD_'], pa.default_memory_pool().backend_name)")
GLIBC = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def _probe(**env) -> str:
    base = {k: v for k, v in os.environ.items() if k not in (*GLIBC, "ARROW_DEFAULT_MEMORY_POOL")}
    return subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                          check=True, timeout=120).stdout.split()


def test_defaults_reach_this_process_and_what_it_starts():
    assert _probe() == ["2", str(1 << 20), str(32 << 20), "system"]  # pyarrow imported first: its pool is switched too


def test_what_the_user_set_is_kept():
    import pyarrow as pa

    other = next((b for b in ("mimalloc", "jemalloc") if b in pa.supported_memory_backends()), None)
    if other is None:
        pytest.skip("this pyarrow has only the system allocator")
    assert _probe(MALLOC_ARENA_MAX="4", MALLOC_MMAP_THRESHOLD_="65536", ARROW_DEFAULT_MEMORY_POOL=other) == [
        "4", "65536", str(32 << 20), other]
