"""Filter, prove (with negation and hypothesis checks) and decompose, against the STAND-IN REPL.

The stand-in is not Lean: it reports an error wherever a regular expression of STANDIN_FAIL matches
the command, a `sorry` wherever there is one, and success otherwise. Each test says which commands
fail, so each path of the prover runs on purpose.
"""

import os
import sys

import pytest

from formal.backends import LeanConfig, ReplVerifier
from formal.generators import Candidate
from formal.prover import ProveConfig, attempt_list, prove_batch
from formal.statements import parse_statement

STANDIN = [sys.executable, os.path.join(os.path.dirname(__file__), "standin_repl.py")]
HEADER = "set_option maxHeartbeats 400000"


@pytest.fixture
def verifier_failing(monkeypatch):
    made = []

    def make(*patterns):
        monkeypatch.setenv("STANDIN_FAIL", "\n".join(patterns) or "NEVER MATCHES")
        v = ReplVerifier(STANDIN, LeanConfig(workers=2, memory_mb=None), toolchain="stand-in")
        made.append(v)
        return v

    yield make
    for v in made:
        v.close()


def cand(statement, proofs=(), sketch=None, family="test"):
    name = parse_statement(statement).name
    return Candidate(name, name, f"Problem {name}.", statement, HEADER, "template", 1, family=family,
                     proofs=list(proofs), sketch=sketch)


def by_name(rows):
    return {r["name"]: r for r in rows}


def test_generator_proof_first_then_portfolio(verifier_failing):
    v = verifier_failing(r":= by rfl", r":= by\n  rfl", r"⟩|¬|: False")
    rows, counters = prove_batch(v, [cand("theorem a : 2 + 2 = 4", ["by rfl"])], ProveConfig(attempts=4))
    (r,) = rows
    assert r["status"] == "verified" and r["verified"]
    assert r["proof"] == "by\n  decide" and r["attempts"] == 2  # by rfl (the generator's, = portfolio rfl), decide
    assert r["text"] == "/-- Problem a. -/\ntheorem a : 2 + 2 = 4 := by\n  decide"
    assert counters["prove", "by_portfolio"] == 1 and counters["lean", "verified"] == 1


def test_statement_that_does_not_elaborate_is_rejected(verifier_failing):
    v = verifier_failing(r"Real")
    rows, counters = prove_batch(v, [cand("theorem r (x : Real) : x = x", ["by rfl"])], ProveConfig())
    assert rows[0]["status"] == "rejected" and rows[0]["attempts"] == 0
    assert rows[0]["messages"][-1]["data"] == "rejected: statement does not elaborate"
    assert counters["filter", "dropped_does_not_elaborate"] == 1


def test_proved_negation_drops_the_statement(verifier_failing):
    v = verifier_failing(r"d : \(9 : ℕ\) ∣ 1000 := (?!by sorry)", r": False")  # the statement fails, its negation does not
    rows, counters = prove_batch(v, [cand("theorem d : (9 : ℕ) ∣ 1000", ["by decide"])], ProveConfig(attempts=3))
    assert rows[0]["status"] == "rejected" and "negation is proved" in rows[0]["messages"][-1]["data"]
    assert counters["prove", "dropped_negation_proved"] == 1


def test_inconsistent_hypotheses_are_rejected(verifier_failing):
    v = verifier_failing(r"¬")
    rows, counters = prove_batch(v, [cand("theorem i (n : ℕ) (h₀ : n < 4) (h₁ : n > 7) : n = 5")], ProveConfig())
    assert rows[0]["status"] == "rejected" and "hypotheses prove False" in rows[0]["messages"][-1]["data"]
    assert counters["filter", "dropped_inconsistent_hypotheses"] == 1


def test_unproved_statement_keeps_its_errors(verifier_failing):
    v = verifier_failing(r"theorem hard [^\n]*:= (?!by sorry)", r"¬")
    rows, _ = prove_batch(v, [cand("theorem hard (n : ℕ) : n * n ≥ n", ["by omega"])], ProveConfig(attempts=3))
    r = rows[0]
    assert r["status"] == "error" and not r["verified"] and r["attempts"] == 3
    assert r["messages"][0]["data"].startswith("stand-in: tactic failed")


def test_decomposition_proves_subgoals_and_rechecks_the_whole(verifier_failing):
    statement = "theorem c (a b : ℕ) (h₀ : a < b) (h₁ : b ≤ 9) : a + 1 ≤ b ∧ a < 9"
    sketch = f"{statement} := by\n  have h₂ : a + 1 ≤ b := by sorry\n  have h₃ : a < 9 := by sorry\n  exact ⟨h₂, h₃⟩"
    # Every direct proof of `c` fails; its lemmas and the composed sketch do not.
    v = verifier_failing(r"theorem c [^\n]*:= (?!by sorry)(?!by\n  have)", r"¬", r": False")
    rows, counters = prove_batch(v, [cand(statement, ["by omega"], sketch)], ProveConfig(attempts=3))
    r = rows[0]
    assert r["status"] == "verified", r["messages"]
    # The lemmas' first portfolio tactic (rfl) went where the sorries were.
    assert r["proof"] == "by\n  have h₂ : a + 1 ≤ b := by rfl\n  have h₃ : a < 9 := by rfl\n  exact ⟨h₂, h₃⟩"
    assert counters["decompose", "subgoals"] == 2 and counters["decompose", "verified"] == 1


def test_attempts_are_capped_and_deduplicated():
    c = cand("theorem a : 1 = 1", ["by rfl", "by  rfl", "by\n  decide"])
    attempts = attempt_list(c, ProveConfig(attempts=5))
    # `by\n  rfl` from the portfolio is the generator's `by rfl` again, so it is not tried twice.
    assert [p for p, _ in attempts] == ["by rfl", "by\n  decide", "by\n  omega", "by\n  simp", "by\n  simp_all"]
    assert [t for _, t in attempts] == [None, None, "omega", "simp", "simp_all"]


def test_proofs_that_trust_the_compiler_are_marked(verifier_failing):
    v = verifier_failing(r"¬", r": False", r":= by\n  (?!native_decide)")
    rows, _ = prove_batch(v, [cand("theorem a : 2 ^ 20 = 1048576")], ProveConfig(attempts=10, native_decide=True))
    (r,) = rows
    assert r["verified"] and r["proof"] == "by\n  native_decide"
    assert any("Lean.ofReduceBool" in m["data"] for m in r["messages"])
