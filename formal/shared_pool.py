"""One Lean backend per machine, shared by its Beam SDK processes.

Dataflow runs one SDK process per vCPU. A REPL pool started in each would start `--workers` REPLs per
vCPU, each allowed `--memory-mb` (8 GiB with Mathlib): 16 vCPUs x 4 workers x 8 GiB is far beyond
any VM. `SharedLean` keeps one pool per machine with Beam's `multi_process_shared.MultiProcessShared`
(as `pipelines/shared_model.py` does for the fastText model): the first process to ask starts a
server process that starts the pool; the others send it batches through a proxy. Its REPL count is
sized from the machine's memory: `min(--workers, usable memory // --memory-mb)`, at least one.

    lean = SharedLean(lean_config)          # picklable: travels in the DoFn
    verifier = lean.acquire()               # in setup(): .name, .toolchain, .verify(requests)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os

log = logging.getLogger(__name__)

# Kept back for the SDK processes themselves, the page cache and the OS (a Dataflow VM runs its
# harness and one SDK process per vCPU beside the REPLs).
RESERVED_MB = 2048


def machine_memory_mb() -> int:
    """This machine's memory as its processes may use it: the cgroup limit where one is set."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                raw = f.read().strip()
        except OSError:
            continue
        if raw.isdigit():
            total = min(total, int(raw) // 2**20)
    return total


def vm_pool_size(workers: int, memory_mb: int | None, total_mb: int | None = None) -> int:
    """REPLs for one machine: --workers at most, as many as fit in its memory at --memory-mb each."""
    workers = max(1, workers)
    if not memory_mb:
        return workers  # no cap per REPL: nothing to size from
    total = machine_memory_mb() if total_mb is None else total_mb
    return max(1, min(workers, (total - RESERVED_MB) // memory_mb))


class LeanServer:
    """What runs in the shared process: a started backend behind methods a proxy can call
    (a proxy reaches methods only, not attributes)."""

    def __init__(self, lean_config):
        from formal.backends import detect

        self.verifier = detect(lean_config)
        self.workers = lean_config.workers
        log.info("shared Lean backend %s (%s) in process %d, %d workers", self.verifier.name,
                 self.verifier.toolchain, os.getpid(), lean_config.workers)

    def describe(self) -> dict:
        stats = dict(getattr(getattr(self.verifier, "pool", None), "stats", {}) or {})
        return {"name": self.verifier.name, "toolchain": self.verifier.toolchain, "pid": os.getpid(),
                "workers": self.workers, "stats": stats}

    def verify(self, requests):
        return self.verifier.verify(requests)


# What a proxy raises when the machine's server is gone (the SDK process that started it ended).
GONE = (EOFError, ConnectionError, BrokenPipeError)


class SharedVerifier:
    """The proxy with the verifier interface (`name`, `toolchain`, `verify`, `close`). If the server
    went away with the process that started it, the next call starts (or finds) a new one."""

    def __init__(self, shared: SharedLean):
        self._shared = shared
        self._connect()
        info = self._proxy.describe()
        self.name = info["name"]
        self.toolchain = info["toolchain"]

    def _connect(self) -> None:
        from apache_beam.utils.multi_process_shared import MultiProcessShared

        self._handle = MultiProcessShared(functools.partial(_start, self._shared.sized_config()),
                                          tag=self._shared.tag(), always_proxy=True, spawn_process=True)
        self._proxy = self._handle.acquire()

    def _call(self, method: str, *args):
        try:
            return getattr(self._proxy, method)(*args)
        except GONE as e:
            log.warning("the machine's Lean server is gone (%s: %s); connecting to a new one", type(e).__name__, e)
            self._connect()
            return getattr(self._proxy, method)(*args)

    def describe(self) -> dict:
        return self._call("describe")

    def verify(self, requests):
        return self._call("verify", requests)

    def close(self) -> None:
        # The pool outlives this process's DoFn: the machine's other processes still use it, and it
        # goes when the process that started it does (Beam's server watches its parent).
        self._proxy = None


def _start(lean_config):
    return LeanServer(lean_config)


class SharedLean:
    """A picklable handle on the machine's Lean backend for LEAN_CONFIG."""

    def __init__(self, lean_config):
        self.lean_config = lean_config

    def tag(self) -> str:
        blob = json.dumps(dataclasses.asdict(self.lean_config), sort_keys=True, default=str)
        return "deepcorpus-lean-" + hashlib.sha256(f"{blob}\0{os.getuid()}".encode()).hexdigest()[:16]

    def sized_config(self):
        size = vm_pool_size(self.lean_config.workers, self.lean_config.memory_mb)
        if size < self.lean_config.workers:
            log.warning("%d Lean REPLs at %d MiB each do not fit in this machine's %d MiB: starting %d",
                        self.lean_config.workers, self.lean_config.memory_mb, machine_memory_mb(), size)
        return dataclasses.replace(self.lean_config, workers=size)

    def acquire(self) -> SharedVerifier:
        return SharedVerifier(self)
