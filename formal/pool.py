"""A pool of Lean REPL processes: header reuse, per-proof timeout, restarts, back-pressure.

Each worker thread owns one REPL process. The first request with a given header loads it with a
command without `env` (imports are only allowed there) and remembers the environment id it got; every
later proof with that header runs as `{"cmd": PROOF, "env": ID}`, so it costs only its own
elaboration, not `import Mathlib` again. A process is replaced after `max_uses` commands (long-lived
REPLs degrade, repl #77), after a timeout (the only way to stop Lean is to kill it) and after a crash.

    pool = ReplPool(PoolConfig(ProcessConfig(["repl"]), workers=4))
    results = pool.verify([VerifyRequest("theorem t : 2 + 2 = 4 := by decide")])
    pool.close()

`submit` blocks while `max_pending` requests wait, so a producer faster than Lean cannot queue
unbounded work in memory.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from formal.repl_process import ProcessConfig, ReplCrashed, ReplProcess, ReplTimeout
from formal.results import CRASHED, ERROR, TIMEOUT, LeanMessage, VerifyRequest, VerifyResult, judge

log = logging.getLogger(__name__)

_STOP = object()
# Lean's answers when the machine, not the proof, failed (Prover-V1.5 retries these): a fresh process
# gets another try, and if it fails the same way the request is CRASHED, not a wrong proof.
RESOURCE_ERRORS = ("failed to create thread", "bad_alloc", "Cannot allocate memory", "out of memory")


@dataclass
class PoolConfig:
    process: ProcessConfig = field(default_factory=ProcessConfig)
    workers: int = 1  # REPL processes
    max_uses: int = 200  # commands per process before a fresh one is started
    header_timeout_s: float = 600.0  # `import Mathlib` is slow on a cold page cache
    max_pending: int = 64  # requests waiting beyond those being worked on
    crash_retries: int = 1  # a crash is retried on a fresh process this many times


class ReplPool:
    def __init__(self, config: PoolConfig):
        if config.workers < 1:
            raise ValueError("a pool needs at least one worker")
        self.config = config
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, config.max_pending))
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "processes_started": 0, "header_loads": 0, "restarts_max_uses": 0,
                      "timeouts": 0, "crashes": 0}
        self._threads = [
            threading.Thread(target=self._work, name=f"lean-repl-{i}", daemon=True) for i in range(config.workers)
        ]
        self._closed = False
        for t in self._threads:
            t.start()

    # --- the caller's side ----------------------------------------------------------------------

    def submit(self, request: VerifyRequest) -> Future:
        if self._closed:
            raise RuntimeError("the pool is closed")
        fut: Future = Future()
        self._queue.put((request, fut))  # blocks while the queue is full: back-pressure
        return fut

    def verify(self, requests: list[VerifyRequest]) -> list[VerifyResult]:
        """Verify a batch concurrently on all workers; results in the order of `requests`."""
        futures = [self.submit(r) for r in requests]
        return [f.result() for f in futures]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._queue.put(_STOP)
        for t in self._threads:
            t.join(timeout=30)

    def __enter__(self) -> ReplPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.stats[name] += n

    # --- the worker's side ----------------------------------------------------------------------

    def _work(self) -> None:
        proc: ReplProcess | None = None
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                request, fut = item
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    result, proc = self._run(request, proc)
                except Exception as e:  # never leave a caller waiting on a lost future
                    log.exception("lean pool worker failed on %s", request.id)
                    result = VerifyResult(CRASHED, id=request.id, detail=f"pool error: {e}")
                    if proc is not None:
                        proc.close()
                    proc = None
                fut.set_result(result)
        finally:
            if proc is not None:
                proc.close()

    def _fresh(self, proc: ReplProcess | None) -> ReplProcess:
        if proc is not None:
            proc.close()
        self._count("processes_started")
        return ReplProcess(self.config.process)

    def _run(self, request: VerifyRequest, proc: ReplProcess | None) -> tuple[VerifyResult, ReplProcess | None]:
        self._count("requests")
        start = time.perf_counter()
        attempts = 0
        while True:
            attempts += 1
            try:
                if proc is None or not proc.alive:
                    proc = self._fresh(proc)
                elif proc.uses >= self.config.max_uses:
                    self._count("restarts_max_uses")
                    proc = self._fresh(proc)
                env, header_result = self._header_env(proc, request)
                if header_result is not None:
                    header_result.elapsed_ms = (time.perf_counter() - start) * 1000
                    return header_result, proc
                resp = proc.command(request.code, env=env, timeout_s=request.timeout_s)
                elapsed = (time.perf_counter() - start) * 1000
                if resp.error is not None:
                    # The REPL refused the request (e.g. "Unknown environment."): start clean next time.
                    proc.close()
                    return VerifyResult(ERROR, [LeanMessage("error", resp.error)], elapsed_ms=elapsed,
                                        id=request.id, detail=resp.error), None
                resource = next((m.data for m in resp.messages if m.severity == "error"
                                 and any(e in m.data for e in RESOURCE_ERRORS)), None)
                if resource is not None:
                    proc.close()
                    raise ReplCrashed(f"Lean ran out of resources: {resource.splitlines()[0]}")
                status = judge(resp.messages, resp.sorries)
                return VerifyResult(status, resp.messages, resp.sorries, elapsed, request.id), proc
            except ReplTimeout as e:
                self._count("timeouts")
                return VerifyResult(TIMEOUT, elapsed_ms=(time.perf_counter() - start) * 1000, id=request.id,
                                    detail=str(e)), None
            except ReplCrashed as e:
                self._count("crashes")
                proc = None
                if attempts > self.config.crash_retries:
                    return VerifyResult(CRASHED, elapsed_ms=(time.perf_counter() - start) * 1000, id=request.id,
                                        detail=str(e)), None
                log.info("lean REPL crashed (%s); retrying %s on a fresh process", e, request.id or "request")

    def _header_env(self, proc: ReplProcess, request: VerifyRequest) -> tuple[int | None, VerifyResult | None]:
        """The env id holding `request.header` in `proc`, loading it on first use."""
        header = request.header.strip()
        if header in proc.headers:
            return proc.headers[header], None
        self._count("header_loads")
        try:
            resp = proc.command(header, env=None, timeout_s=max(self.config.header_timeout_s, request.timeout_s))
        except ReplTimeout as e:
            raise ReplTimeout(f"header did not load: {e}") from None
        errors = [m for m in resp.messages if m.severity == "error"]
        if resp.error is not None or errors or resp.env is None:
            detail = resp.error or "; ".join(m.data for m in errors) or "no environment returned"
            return None, VerifyResult(ERROR, errors or [LeanMessage("error", f"header: {detail}")], id=request.id,
                                      detail=f"header failed: {detail}")
        proc.headers[header] = int(resp.env)
        return proc.headers[header], None
