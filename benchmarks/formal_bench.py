"""Formal: the Lean pool's own cost per request, and proofs per second with header reuse.

Always (no Lean needed), against the STAND-IN REPL of tests/formal (same JSON protocol, no Lean):
- `pool`: requests through ReplPool (one process, the header loaded once, reused via its env);
- `direct`: the same requests on one ReplProcess without the pool (pipe + JSON only): the pool's
  overhead is the difference;
- `process per request` (the baseline): formal/lean_file.py's one process per request (the stand-in
  acting as `lean --json FILE`), as Prover-V1.5's verifier runs Lean.
When `repl` and `lean` are on PATH, the same comparison on real core-Lean proofs of the template
generator: proofs/s per core with header reuse versus one `lean` process per proof.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from benchmarks.common import report
from formal.header import CORE_HEADER
from formal.lean_file import LeanFileVerifier
from formal.pool import PoolConfig, ReplPool
from formal.repl_process import ProcessConfig, ReplProcess
from formal.results import VerifyRequest

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = [sys.executable, os.path.join(os.path.dirname(HERE), "tests", "formal", "standin_repl.py")]


def _requests(n: int) -> list[VerifyRequest]:
    return [VerifyRequest(f"theorem t{i} : {i} + 0 = {i} := by simp", header=CORE_HEADER, id=str(i)) for i in range(n)]


def _require_answers(results) -> None:
    """A timing only counts if every request got an answer from Lean (verified or a Lean error)."""
    bad = [r for r in results if r.status not in ("verified", "error")]
    if bad:
        raise RuntimeError(f"{len(bad)} requests {bad[0].status}: {bad[0].detail}")


def _pool_seconds(command, reqs, workers: int) -> float:
    config = PoolConfig(ProcessConfig(command, memory_limit_mb=None), workers=workers, max_uses=10**9)
    with ReplPool(config) as pool:
        pool.verify(reqs[:workers])  # start the processes and load the header first
        start = time.perf_counter()
        results = pool.verify(reqs)
        seconds = time.perf_counter() - start
    _require_answers(results)
    return seconds


def _direct_seconds(command, reqs) -> float:
    proc = ReplProcess(ProcessConfig(command, memory_limit_mb=None))
    env = proc.command(CORE_HEADER, timeout_s=600).env
    start = time.perf_counter()
    for r in reqs:
        proc.command(r.code, env=env, timeout_s=600)
    seconds = time.perf_counter() - start
    proc.close()
    return seconds


def _process_per_request_seconds(command, reqs, workers: int = 1) -> float:
    """The baseline: formal/lean_file.py, one `lean --json FILE` process per request."""
    verifier = LeanFileVerifier(command, parallel=workers, memory_mb=None)
    start = time.perf_counter()
    results = verifier.verify(reqs)
    seconds = time.perf_counter() - start
    _require_answers(results)
    return seconds


def main(out_dir: str = "benchmarks/out") -> dict:
    n_pool, n_spawn = 400, 40
    reqs = _requests(n_pool)
    t_pool = _pool_seconds(STANDIN, reqs, workers=1)
    t_direct = _direct_seconds(STANDIN, reqs)
    t_spawn = _process_per_request_seconds([*STANDIN], reqs[:n_spawn])
    rows = [
        {"system": system, "requests": n, "ms_per_request": 1000 * s / n, "requests_per_s": n / s}
        for system, n, s in (("pool, header reused (stand-in)", n_pool, t_pool),
                             ("one ReplProcess, no pool (stand-in)", n_pool, t_direct),
                             ("process per request (stand-in)", n_spawn, t_spawn))
    ]
    notes = {
        "pool_overhead_ms_per_request": round(1000 * (t_pool - t_direct) / n_pool, 3),
        "speedup_pool_vs_process_per_request": round((t_spawn / n_spawn) / (t_pool / n_pool), 1),
        "stand_in": "tests/formal/standin_repl.py speaks the REPL protocol but is not Lean",
    }
    if shutil.which("repl") and shutil.which("lean"):
        from formal.templates import generate

        codes = [f"{t.statement} := {t.proofs[0]}" for t in generate(60) if t.family != "inconsistent"]
        lean_reqs = [VerifyRequest(c, header=CORE_HEADER, timeout_s=600) for c in codes]
        cores = os.cpu_count() or 1
        t_reuse = _pool_seconds(["repl"], lean_reqs, workers=cores)
        t_cold = _process_per_request_seconds([shutil.which("lean")], lean_reqs[:20], workers=cores)
        rows.append({"system": f"Lean REPL pool, header reused ({cores} procs)", "requests": len(codes),
                     "ms_per_request": 1000 * t_reuse / len(codes), "requests_per_s": len(codes) / t_reuse,
                     "proofs_per_s_per_core": len(codes) / t_reuse / cores})
        rows.append({"system": f"one `lean` process per proof ({cores} at once)", "requests": 20,
                     "ms_per_request": 1000 * t_cold / 20, "requests_per_s": 20 / t_cold,
                     "proofs_per_s_per_core": 20 / t_cold / cores})
    else:
        notes["lean"] = "no `repl`/`lean` on PATH: the real-Lean comparison was skipped"
    return report("formal", rows, notes, out_dir)


if __name__ == "__main__":
    from benchmarks.common import out_dir_from_argv

    main(out_dir_from_argv(__doc__))
