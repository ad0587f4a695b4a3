"""Filter, prove and decompose a batch of candidate statements with any Lean backend.

For a batch (all requests of one step go to the backend together, so a pool works on them at once):
1. **Filter**: the statement must elaborate with a `sorry` proof.
2. **Prove**, in waves: wave k sends every open statement's k-th attempt (the generator's proofs,
   then the tactic portfolio), up to `attempts`; a statement leaves the waves at its first proof.
   With the first wave go a short attempt at `False` from the hypotheses (inconsistent hypotheses:
   rejected) and an attempt at the negation (proved: the statement is false, dropped), as in
   DeepSeek-Prover V1.
3. **Decompose** what is still open and has a sketch (Prover-V2): check the sketch, turn each `sorry`
   goal into a lemma, prove the lemmas with the portfolio, put the proofs in place, verify the whole.

Every candidate comes back as one row of the formal_proof contract (plus `family`, `tactic` and
`reason`, which the pipeline uses and the contract leaves out). Plain Python: no Beam here.
"""

from __future__ import annotations

from collections import Counter
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


class _Open:
    """A candidate's progress through the steps."""

    def __init__(self, cand: Candidate, thm: Theorem, attempts: list[tuple[str, str | None]]):
        self.cand = cand
        self.thm = thm
        self.attempts = attempts  # (proof, portfolio tactic or None)
        self.tried = 0
        self.elapsed_ms = 0.0
        self.last: VerifyResult | None = None
        self.statuses: list[str] = []
        self.done: dict | None = None


def attempt_list(cand: Candidate, thm: Theorem, cfg: ProveConfig) -> list[tuple[str, str | None]]:
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
    """Rows for every candidate, and counters keyed (stage, name)."""
    counters: Counter = Counter()
    tc = cfg.toolchain
    rows: list[dict] = []
    states: list[_Open] = []
    for c in cands:
        counters["filter", "in"] += 1
        try:
            thm = parse_statement(c.statement)
        except StatementError as e:
            counters["filter", "dropped_unparsable"] += 1
            rows.append(row(c, REJECTED, "", toolchain=tc, reason=f"statement not understood ({e})"))
            continue
        states.append(_Open(c, thm, attempt_list(c, thm, cfg)))

    def send(pairs: list[tuple[_Open, str]]) -> list[VerifyResult]:
        reqs = [VerifyRequest(code, header=s.cand.header, timeout_s=cfg.timeout_s, id=s.cand.id) for s, code in pairs]
        results = verifier.verify(reqs) if reqs else []
        for (s, _), r in zip(pairs, results):
            s.elapsed_ms += r.elapsed_ms
            counters["lean", r.status] += 1
            if r.cached:
                counters["lean", "cached"] += 1
        return results

    # 1. Filter: the statement elaborates (a `sorry` proof is fine here).
    results = send([(s, s.thm.with_proof("by sorry")) for s in states])
    survivors = []
    for s, r in zip(states, results):
        if r.status in (TIMEOUT, CRASHED):
            counters["filter", f"dropped_{r.status}"] += 1
            s.done = row(s.cand, r.status, "", toolchain=tc, elapsed_ms=s.elapsed_ms, reason=f"statement check {r.status}: {r.detail}")
        elif r.errors:
            counters["filter", "dropped_does_not_elaborate"] += 1
            s.done = row(s.cand, REJECTED, "", toolchain=tc, messages=r.errors[:5], elapsed_ms=s.elapsed_ms,
                         reason="statement does not elaborate")
        else:
            counters["filter", "out"] += 1
            survivors.append(s)

    # 2. Prove in waves; the first wave also checks the hypotheses and tries the negation.
    checks: list[tuple[_Open, str, str]] = []
    for s in survivors:
        hyp = hypotheses_false(s.thm) if cfg.hypothesis_check else None
        if hyp is not None:
            checks.append((s, "hypotheses", hyp.with_proof(f"by {tactics.contradiction_tactic(s.cand.header)}")))
        if cfg.negation:
            neg_tactic = tactics.first_of(tactics.portfolio(s.cand.header, None, cfg.native_decide))
            checks.append((s, "negation", negation(s.thm).with_proof(f"by {neg_tactic}")))
    open_ = list(survivors)
    wave = 0
    while open_:
        batch = [(s, s.thm.with_proof(s.attempts[s.tried][0])) for s in open_ if s.tried < len(s.attempts)]
        extra = checks if wave == 0 else []
        results = send(batch + [(s, code) for s, _, code in extra])
        proof_results, check_results = results[: len(batch)], results[len(batch):]
        for (s, kind, _), r in zip(extra, check_results):
            if r.verified and s.done is None:
                counters["prove" if kind == "negation" else "filter",
                         "dropped_negation_proved" if kind == "negation" else "dropped_inconsistent_hypotheses"] += 1
                reason = "its negation is proved" if kind == "negation" else "the hypotheses prove False"
                s.done = row(s.cand, REJECTED, "", toolchain=tc, elapsed_ms=s.elapsed_ms, attempts=s.tried + 1, reason=reason)
        for (s, _), r in zip(batch, proof_results):
            proof, tactic = s.attempts[s.tried]
            s.tried += 1
            s.last = r
            s.statuses.append(r.status)
            if r.verified and s.done is None:
                counters["prove", "verified"] += 1
                counters["prove", "by_generator" if tactic is None else "by_portfolio"] += 1
                s.done = row(s.cand, VERIFIED, proof, toolchain=tc, messages=[m for m in r.messages if m.severity != "info"][:5],
                             attempts=s.tried, elapsed_ms=s.elapsed_ms, tactic=tactic)
        open_ = [s for s in open_ if s.done is None and s.tried < len(s.attempts)]
        wave += 1

    # 3. Decompose what is left and has a sketch.
    left = [s for s in survivors if s.done is None]
    if cfg.decompose:
        _decompose(left, cfg, send, counters)
    for s in left:
        if s.done is None:
            status = _failure_status(s.statuses)
            counters["prove", f"failed_{status}"] += 1
            msgs = s.last.errors[:5] if s.last else []
            s.done = row(s.cand, status, s.attempts[0][0] if s.attempts else "", toolchain=tc, messages=msgs,
                         attempts=s.tried, elapsed_ms=s.elapsed_ms, reason=f"no proof in {s.tried} attempts")
    rows += [s.done for s in states]
    return rows, counters


def _decompose(left: list[_Open], cfg: ProveConfig, send, counters: Counter) -> None:
    with_sketch = [s for s in left if s.cand.sketch]
    if not with_sketch:
        return
    counters["decompose", "in"] += len(with_sketch)
    results = send([(s, s.cand.sketch) for s in with_sketch])
    plans = []
    for s, r in zip(with_sketch, results):
        if r.errors or not r.sorries:
            counters["decompose", "dropped_bad_sketch"] += 1
            continue
        try:
            subs = decompose.subgoals(s.thm.name or "stmt", s.cand.sketch, r.sorries)
        except ValueError:
            counters["decompose", "dropped_bad_goal"] += 1
            continue
        plans.append((s, r, subs))
    # Every (lemma variant, tactic) of every subgoal in one batch.
    pairs, keys = [], []
    for s, _, subs in plans:
        tacs = tactics.portfolio(s.cand.header, cfg.ranking, cfg.native_decide)[: max(1, cfg.attempts)]
        for sub in subs:
            counters["decompose", "subgoals"] += 1
            for v in sub.variants:
                for t in tacs:
                    pairs.append((s, v.with_proof(tactics.as_proof(t))))
                    keys.append((id(s), sub.index, t))
    results = send(pairs)
    found: dict[tuple[int, int], str] = {}
    for (s, _), key, r in zip(pairs, keys, results):
        s.tried += 1
        if r.verified and key[:2] not in found:
            found[key[:2]] = tactics.as_proof(key[2])
    composed = []
    for s, r, subs in plans:
        proofs = [found.get((id(s), sub.index)) for sub in subs]
        if any(p is None for p in proofs):
            counters["decompose", "unproved_subgoal"] += 1
            continue
        counters["decompose", "subgoals_proved"] += len(proofs)
        try:
            composed.append((s, decompose.compose(s.cand.sketch, r.sorries, proofs)))
        except ValueError:
            counters["decompose", "dropped_compose"] += 1
    results = send(composed)
    for (s, code), r in zip(composed, results):
        s.tried += 1
        if r.verified:
            counters["decompose", "verified"] += 1
            counters["prove", "verified"] += 1
            _, proof = split_proof(code)
            s.done = row(s.cand, VERIFIED, proof, toolchain=cfg.toolchain, attempts=s.tried, elapsed_ms=s.elapsed_ms,
                         tactic=None, reason="")
            s.done["reason"] = "decomposed"
        else:
            counters["decompose", "failed_recheck"] += 1
