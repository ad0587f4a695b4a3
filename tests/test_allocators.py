"""Local runs use two malloc arenas per process and Arrow on the system allocator, unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = ("import os; import pyarrow as pa; from pipelines import allocators; allocators.steady(); "
         "print(os.environ['MALLOC_ARENA_MAX'], pa.default_memory_pool().backend_name)")


def _probe(**env) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "ARROW_DEFAULT_MEMORY_POOL")}
    return subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                          check=True, timeout=120).stdout.split()


def test_defaults_reach_this_process_and_what_it_starts():
    assert _probe() == ["2", "system"]  # pyarrow imported first: its pool is switched too


def test_what_the_user_set_is_kept():
    import pyarrow as pa

    other = next((b for b in ("mimalloc", "jemalloc") if b in pa.supported_memory_backends()), None)
    if other is None:
        pytest.skip("this pyarrow has only the system allocator")
    assert _probe(MALLOC_ARENA_MAX="4", ARROW_DEFAULT_MEMORY_POOL=other) == ["4", other]
