"""Filter, prove and decompose a batch of candidate statements with any Lean backend.

Every statement of a batch runs its own chain of requests, all chains at once (the backend's pool
decides how many Lean processes work on them):
1. **Filter**: the statement must elaborate with a `sorry` proof.
2. **Prove**: the generator's proofs, then the tactic portfolio, up to `attempts`, stopping at the
   first proof. With the first attempt go a short attempt at `False` from the hypotheses
   (inconsistent hypotheses: rejected) and an attempt at the negation (proved: the statement is
   false, dropped), as in DeepSeek-Prover V1.
3. **Decompose** what is still open and has a sketch (Prover-V2): check the sketch, turn each `sorry`
   goal into a lemma, prove the lemmas with the portfolio, put the proofs in place, verify the whole.

Every candidate comes back as one row of the formal_proof contract (plus `family`, `tactic` and
`reason`, which the pipeline uses and the contract leaves out). Plain Python: no Beam here.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from formal import decompose, tactics
from formal.generators import Candidate
from formal.results import (
    CRASHED,
    ERROR,
    TIMEOUT,
    VERIFIED,
    LeanMessage,
    VerifyRequest,
    VerifyResult,
    trusts_compiler,
)
from formal.statements import (
    StatementError,
    Theorem,
    hypotheses_false,
    negation,
    parse_statement,
    split_proof,
    with_informal,
)

UNVERIFIED = "unverified"
REJECTED = "rejected"


@dataclass
class ProveConfig:
    attempts: int = 8  # proof attempts per statement (generator proofs first, then the portfolio)
    timeout_s: float = 60.0  # per Lean request
    negation: bool = True
    hypothesis_check: bool = True
    decompose: bool = True
    native_decide: bool = False
    toolchain: str = "unknown"
    ranking: dict | None = None  # tactic -> weight, learned in earlier rounds
    concurrency: int = 32  # statements in flight at once (each a chain of requests)


def attempt_list(cand: Candidate, cfg: ProveConfig) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    seen = set()
    for p in cand.proofs:
        key = " ".join(p.split())
        if key not in seen:
            seen.add(key)
            out.append((p, None))
    for t in tactics.portfolio(cand.header, cfg.ranking, cfg.native_decide):
        p = tactics.as_proof(t)
        key = " ".join(p.split())
        if key not in seen:
            seen.add(key)
            out.append((p, t))
    return out[: max(1, cfg.attempts)]


def row(cand: Candidate, status: str, proof: str, *, toolchain: str, messages=(), attempts: int = 0,
        elapsed_ms: float = 0.0, tactic: str | None = None, reason: str = "") -> dict:
    msgs = [m.to_row() if isinstance(m, LeanMessage) else m for m in messages]
    if proof and trusts_compiler(proof):  # users may want to exclude proofs that trust the compiler
        msgs.append({"severity": "info", "line": None, "column": None,
                     "data": "uses native_decide (axiom Lean.ofReduceBool)"})
    if cand.quality is not None:  # the contract has no column for it; keep it queryable here
        msgs.append({"severity": "info", "line": None, "column": None,
                     "data": f"formalization quality {cand.quality:.2f}"})
    if reason:
        msgs.append({"severity": "info", "line": None, "column": None, "data": f"{status}: {reason}"})
    code = f"{cand.statement} := {proof.strip()}" if proof else cand.statement
    return {
        "id": cand.id,
        "name": cand.name,
        "informal": cand.informal,
        "formal_statement": cand.statement,
        "proof": proof.strip(),
        "header": cand.header,
        "toolchain": toolchain,
        "verified": status == VERIFIED,
        "status": status,
        "messages": msgs,
        "attempts": attempts,
        "elapsed_ms": round(elapsed_ms, 3),
        "round": cand.round,
        "generator": cand.generator,
        "text": with_informal(cand.informal, code),
        "family": cand.family,
        "tactic": tactic,
        "reason": reason,
        "quality": cand.quality,
    }


def unverified_rows(cands: list[Candidate], toolchain: str = "none") -> list[dict]:
    """Rows for a run without a Lean runner: the statements and the generator's first proof, unchecked."""
    return [row(c, UNVERIFIED, c.proofs[0] if c.proofs else "by sorry", toolchain=toolchain,
                reason="no Lean runner, not checked") for c in cands]


def _failure_status(statuses: list[str]) -> str:
    if ERROR in statuses:
        return ERROR
    if TIMEOUT in statuses:
        return TIMEOUT
    return CRASHED if statuses else ERROR


def prove_batch(verifier, cands: list[Candidate], cfg: ProveConfig) -> tuple[list[dict], Counter]:
    """Rows for every candidate, and counters keyed (stage, name).

    Each statement runs its own chain of requests in a thread; the backend (a pool with
    back-pressure, or a server) decides how many run at once. A chain never waits for another
    statement's slow proof, so one timeout does not idle the other REPLs.
    """
    counters: Counter = Counter()
    lock = threading.Lock()

    def count(stage: str, name: str, n: int = 1) -> None:
        with lock:
            counters[stage, name] += n

    def one(cand: Candidate) -> dict:
        return _Chain(verifier, cand, cfg, count).run()

    if not cands:
        return [], counters
    with ThreadPoolExecutor(max_workers=min(cfg.concurrency, len(cands)), thread_name_prefix="prove") as ex:
        rows = list(ex.map(one, cands))
    return rows, counters


class _Chain:
    """One statement through filter, prove and decompose."""

    def __init__(self, verifier, cand: Candidate, cfg: ProveConfig, count):
        self.verifier = verifier
        self.cand = cand
        self.cfg = cfg
        self.count = count
        self.tried = 0
        self.elapsed_ms = 0.0
        self.statuses: list[str] = []
        self.last: VerifyResult | None = None

    def send(self, codes: list[str]) -> list[VerifyResult]:
        """Several requests at once (the backend runs them concurrently)."""
        reqs = [VerifyRequest(c, header=self.cand.header, timeout_s=self.cfg.timeout_s, id=self.cand.id) for c in codes]
        results = self.verifier.verify(reqs)
        for r in results:
            self.elapsed_ms += r.elapsed_ms
            self.count("lean", r.status)
            if r.cached:
                self.count("lean", "cached")
        return results

    def row(self, status: str, proof: str = "", **kw) -> dict:
        return row(self.cand, status, proof, toolchain=self.cfg.toolchain, attempts=self.tried,
                   elapsed_ms=self.elapsed_ms, **kw)

    def run(self) -> dict:
        c, cfg = self.cand, self.cfg
        self.count("filter", "in")
        try:
            thm = parse_statement(c.statement)
        except StatementError as e:
            self.count("filter", "dropped_unparsable")
            return self.row(REJECTED, reason=f"statement not understood ({e})")

        # 1. Filter: the statement elaborates (a `sorry` proof is fine here).
        (r,) = self.send([thm.with_proof("by sorry")])
        if r.status in (TIMEOUT, CRASHED):
            self.count("filter", f"dropped_{r.status}")
            return self.row(r.status, reason=f"statement check {r.status}: {r.detail}")
        if r.errors:
            self.count("filter", "dropped_does_not_elaborate")
            return self.row(REJECTED, messages=r.errors[:5], reason="statement does not elaborate")
        self.count("filter", "out")

        # 2. The first attempt goes together with the hypothesis check and the negation.
        attempts = attempt_list(c, cfg)
        checks = []
        hyp = hypotheses_false(thm) if cfg.hypothesis_check else None
        if hyp is not None:
            checks.append(("hypotheses", hyp.with_proof(f"by {tactics.contradiction_tactic(c.header)}")))
        if cfg.negation:
            neg_tactic = tactics.first_of(tactics.portfolio(c.header, None, cfg.native_decide))
            checks.append(("negation", negation(thm).with_proof(f"by {neg_tactic}")))
        first, *check_results = self.send([thm.with_proof(attempts[0][0])] + [code for _, code in checks])
        for (kind, _), cr in zip(checks, check_results):
            if cr.verified:
                self.tried += 1
                if kind == "negation":
                    self.count("prove", "dropped_negation_proved")
                    return self.row(REJECTED, reason="its negation is proved")
                self.count("filter", "dropped_inconsistent_hypotheses")
                return self.row(REJECTED, reason="the hypotheses prove False")
        result = first
        for i, (proof, tactic) in enumerate(attempts):
            if i > 0:
                (result,) = self.send([thm.with_proof(proof)])
            self.tried += 1
            self.last = result
            self.statuses.append(result.status)
            if result.verified:
                self.count("prove", "verified")
                self.count("prove", "by_generator" if tactic is None else "by_portfolio")
                return self.row(VERIFIED, proof, tactic=tactic,
                                messages=[m for m in result.messages if m.severity != "info"][:5])

        # 3. Decompose a sketch, if the generator wrote one.
        if cfg.decompose and c.sketch:
            done = self.decompose(thm)
            if done is not None:
                return done
        status = _failure_status(self.statuses)
        self.count("prove", f"failed_{status}")
        return self.row(status, attempts[0][0], messages=self.last.errors[:5] if self.last else [],
                        reason=f"no proof in {self.tried} attempts")

    def decompose(self, thm: Theorem) -> dict | None:
        c, cfg = self.cand, self.cfg
        self.count("decompose", "in")
        (r,) = self.send([c.sketch])
        if r.errors or not r.sorries:
            self.count("decompose", "dropped_bad_sketch")
            return None
        try:
            subs = decompose.subgoals(thm.name or "stmt", c.sketch, r.sorries)
        except ValueError:
            self.count("decompose", "dropped_bad_goal")
            return None
        self.count("decompose", "subgoals", len(subs))
        # Every (lemma variant, tactic) of every subgoal at once; the first that works per subgoal wins.
        tacs = tactics.portfolio(c.header, cfg.ranking, cfg.native_decide)[: max(1, cfg.attempts)]
        keys = [(sub.index, t) for sub in subs for v in sub.variants for t in tacs]
        codes = [v.with_proof(tactics.as_proof(t)) for sub in subs for v in sub.variants for t in tacs]
        found: dict[int, str] = {}
        for (index, t), lr in zip(keys, self.send(codes)):
            self.tried += 1
            if lr.verified and index not in found:
                found[index] = tactics.as_proof(t)
        if len(found) < len(subs):
            self.count("decompose", "unproved_subgoal")
            return None
        self.count("decompose", "subgoals_proved", len(subs))
        try:
            composed = decompose.compose(c.sketch, r.sorries, [found[s.index] for s in subs])
        except ValueError:
            self.count("decompose", "dropped_compose")
            return None
        (whole,) = self.send([composed])
        self.tried += 1
        if not whole.verified:
            self.count("decompose", "failed_recheck")
            return None
        self.count("decompose", "verified")
        self.count("prove", "verified")
        done = self.row(VERIFIED, split_proof(composed)[1])
        done["reason"] = "decomposed"
        return done
