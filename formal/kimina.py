"""A Kimina Lean Server over HTTP: a REPL pool a user runs on a big machine, for throughput.

The server takes a batch of snippets at `POST /api/check`
(`{"snippets": [{"id", "code"}], "timeout": s, "reuse": true}`) and answers
`{"results": [{"id", "time", "error", "response": <REPL response>}]}`; it splits the header off
each snippet itself and reuses a REPL that has loaded it. Older servers expose `POST /verify`
(`{"codes": [{"custom_id", "proof"}], "timeout": s}` -> `{"results": [{"custom_id", "error",
"response"}]}`); this client falls back to it when `/api/check` is not found.
An API key, if the server wants one, comes from the environment variable LEAN_SERVER_API_KEY.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from formal.header import normalize_header
from formal.repl_protocol import parse_response
from formal.results import (
    CRASHED,
    ERROR,
    TIMEOUT,
    LeanMessage,
    Position,
    SorryGoal,
    VerifyRequest,
    VerifyResult,
    judge,
)


def _snippet(req: VerifyRequest) -> tuple[str, int]:
    """(code, lines before the body that the server keeps in its body): the server splits off only
    the imports, so our header's options and `open`s shift the body's line numbers."""
    header = normalize_header(req.header)
    imports = [x for x in header.split("\n") if x.startswith("import ")]
    rest = [x for x in header.split("\n") if x and not x.startswith("import ")]
    parts = ["\n".join(imports) + "\n\n" if imports else "", "".join(x + "\n" for x in rest), req.code]
    return "".join(parts), len(rest)


def _shift(result: VerifyResult, lines: int) -> VerifyResult:
    """Positions relative to the body, as the local REPL pool reports them."""
    if not lines:
        return result

    def move(p: Position | None) -> Position | None:
        return Position(p.line - lines, p.column) if p is not None else None

    result.messages = [LeanMessage(m.severity, m.data, move(m.pos), move(m.end_pos)) for m in result.messages]
    result.sorries = [SorryGoal(s.goal, move(s.pos), move(s.end_pos), s.proof_state) for s in result.sorries]
    return result


class KiminaVerifier:
    name = "kimina-server"

    def __init__(self, url: str, batch_size: int = 8, http_timeout_s: float = 900.0, toolchain: str = "",
                 parallel: int = 1):
        self.url = url.rstrip("/")
        self.batch_size = batch_size
        self.parallel = max(1, parallel)  # HTTP requests in flight at once
        self.http_timeout_s = http_timeout_s
        self.toolchain = toolchain or f"server:{self.url}"
        self._legacy = False

    def _post(self, path: str, payload: dict) -> object:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get("LEAN_SERVER_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.url + path, data=json.dumps(payload).encode(), headers=headers,
                                     method="POST")
        with urllib.request.urlopen(req, timeout=self.http_timeout_s) as resp:
            return json.loads(resp.read().decode())

    def health(self) -> bool:
        """Whether a server answers at all (older servers have no /health: a 404 still answers)."""
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=10) as resp:
                return 200 <= resp.status < 300
        except urllib.error.HTTPError as e:
            return e.code == 404
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def verify(self, requests: list[VerifyRequest]) -> list[VerifyResult]:
        batches = [requests[i : i + self.batch_size] for i in range(0, len(requests), self.batch_size)]
        if self.parallel == 1 or len(batches) == 1:
            return [r for b in batches for r in self._batch(b)]
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(batches))) as ex:
            return [r for rs in ex.map(self._batch, batches) for r in rs]

    def _batch(self, requests: list[VerifyRequest]) -> list[VerifyResult]:
        ids = [r.id or f"r{i}" for i, r in enumerate(requests)]
        ids = [f"{x}#{i}" for i, x in enumerate(ids)]  # the server wants unique ids in a batch
        timeout = max(1, int(max(r.timeout_s for r in requests)))
        snippets = [_snippet(r) for r in requests]
        codes = [c for c, _ in snippets]
        start = time.perf_counter()
        try:
            if not self._legacy:
                try:
                    body = self._post("/api/check", {"snippets": [{"id": i, "code": c} for i, c in zip(ids, codes)],
                                                     "timeout": timeout, "reuse": True})
                except urllib.error.HTTPError as e:
                    if e.code != 404:
                        raise
                    self._legacy = True
            if self._legacy:
                body = self._post("/verify", {"codes": [{"custom_id": i, "proof": c} for i, c in zip(ids, codes)],
                                              "timeout": timeout})
        except (urllib.error.URLError, OSError, ValueError) as e:
            elapsed = (time.perf_counter() - start) * 1000
            return [VerifyResult(CRASHED, id=r.id, elapsed_ms=elapsed, detail=f"server {self.url}: {e}")
                    for r in requests]
        elapsed = (time.perf_counter() - start) * 1000
        results = body.get("results", []) if isinstance(body, dict) else body
        by_id = {str(x.get("id", x.get("custom_id"))): x for x in results or []}
        return [_shift(self._result(req, by_id.get(i), elapsed / len(requests)), offset)
                for req, i, (_, offset) in zip(requests, ids, snippets)]

    @staticmethod
    def _result(req: VerifyRequest, item: dict | None, elapsed_ms: float) -> VerifyResult:
        if item is None:
            return VerifyResult(CRASHED, id=req.id, elapsed_ms=elapsed_ms, detail="the server returned no result")
        if item.get("time") is not None:
            elapsed_ms = float(item["time"]) * 1000
        error = item.get("error")
        response = item.get("response")
        if error and not response:
            status = TIMEOUT if "timed out" in str(error).lower() or "timeout" in str(error).lower() else CRASHED
            return VerifyResult(status, id=req.id, elapsed_ms=elapsed_ms, detail=str(error))
        parsed = parse_response(response or {})
        if parsed.error is not None:
            return VerifyResult(ERROR, [LeanMessage("error", parsed.error)], id=req.id, elapsed_ms=elapsed_ms,
                                detail=parsed.error)
        return VerifyResult(judge(parsed.messages, parsed.sorries), parsed.messages, parsed.sorries, elapsed_ms, req.id)

    def close(self) -> None:
        pass
