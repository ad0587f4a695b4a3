"""miniF2F: a completion is a proof of the statement, checked by the Lean runner of `formal/`.

The code checked is the statement (ending in `:= by`) followed by the completion, under the row's
header (`import Mathlib` ...). `formal.backends.detect` finds the runner (a Kimina server, the REPL,
or `lean`) as `formal run` does; without one every attempt is "unverified" and no pass@k is given.
"""

from __future__ import annotations

import logging

from evaluation.benchmarks import Item, minif2f_header, minif2f_statement
from formal.backends import LeanConfig, NoLeanRunner, detect
from formal.results import VerifyRequest

log = logging.getLogger(__name__)
UNVERIFIED = "unverified"


def proof_request(item: Item, completion: str, timeout_s: float, request_id: str) -> VerifyRequest:
    code = minif2f_statement(item.row).rstrip() + "\n" + completion.rstrip() + "\n"
    return VerifyRequest(code=code, header=minif2f_header(item.row), timeout_s=timeout_s, id=request_id)


def verify_proofs(requests: list[VerifyRequest], config: LeanConfig) -> tuple[list[tuple[str, str]], str]:
    """([(status, detail)] per request, the runner or why there is none)."""
    try:
        verifier = detect(config)
    except NoLeanRunner as e:
        log.warning("miniF2F proofs not checked: %s", e)
        return [(UNVERIFIED, str(e))] * len(requests), f"unverified: {e}"
    try:
        results = verifier.verify(requests)
    finally:
        verifier.close()
    out = []
    for r in results:
        detail = r.detail or "; ".join(m.data for m in r.errors)[:500]
        out.append((r.status, detail))
    return out, f"{verifier.name} (Lean {verifier.toolchain})"
