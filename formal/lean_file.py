"""One `lean` process per proof: the runner when Lean is installed but the REPL is not.

Each request becomes a file (header, blank line, code) checked by `lean --json FILE`, which prints
one JSON message per line. It pays the header's imports on every proof (as Prover-V1.5's verifier
does) and cannot report the goals of `sorry`s, so subgoal decomposition needs the REPL; it is also
the baseline the pool is measured against in benchmarks/formal_bench.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from formal.header import normalize_header
from formal.repl_process import _limit_memory
from formal.results import CRASHED, TIMEOUT, LeanMessage, Position, VerifyRequest, VerifyResult, judge


def parse_json_messages(stdout: str, line_offset: int = 0) -> list[LeanMessage]:
    """Messages from `lean --json` output, with lines made relative to the code after the header."""
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        msg = LeanMessage.from_json(obj)
        if line_offset:
            def move(p):
                return Position(p.line - line_offset, p.column) if p else None

            msg = LeanMessage(msg.severity, msg.data, move(msg.pos), move(msg.end_pos))
        out.append(msg)
    return out


class LeanFileVerifier:
    name = "lean-file"

    def __init__(self, command: list[str], parallel: int = 1, memory_mb: int | None = 8192, cwd: str | None = None,
                 toolchain: str = "unknown"):
        self.command = command  # e.g. ["lean"] or ["lake", "env", "lean"]
        self.parallel = max(1, parallel)
        self.memory_mb = memory_mb
        self.cwd = cwd
        self.toolchain = toolchain

    def verify(self, requests: list[VerifyRequest]) -> list[VerifyResult]:
        if self.parallel == 1 or len(requests) == 1:
            return [self._one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(requests))) as ex:
            return list(ex.map(self._one, requests))

    def _one(self, req: VerifyRequest) -> VerifyResult:
        header = normalize_header(req.header)
        prefix = header + "\n\n" if header else ""
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="deepcorpus-lean-") as d:
            path = os.path.join(d, "Proof.lean")
            with open(path, "w", encoding="utf-8") as f:
                f.write(prefix + req.code + "\n")
            limit = self.memory_mb * 1024 * 1024 if self.memory_mb else None
            proc = subprocess.Popen([*self.command, "--json", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    cwd=self.cwd, start_new_session=True, preexec_fn=_limit_memory(limit))
            try:
                stdout, stderr = proc.communicate(timeout=req.timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                return VerifyResult(TIMEOUT, elapsed_ms=(time.perf_counter() - start) * 1000, id=req.id,
                                    detail=f"no answer within {req.timeout_s:g}s")
        elapsed = (time.perf_counter() - start) * 1000
        messages = parse_json_messages(stdout.decode(errors="replace"), prefix.count("\n"))
        if proc.returncode < 0 or (proc.returncode != 0 and not messages):
            tail = stderr.decode(errors="replace").strip().splitlines()
            return VerifyResult(CRASHED, elapsed_ms=elapsed, id=req.id,
                                detail=f"lean exited with {proc.returncode}" + (f": {tail[-1]}" if tail else ""))
        return VerifyResult(judge(messages, []), messages, [], elapsed, req.id)

    def close(self) -> None:
        pass
