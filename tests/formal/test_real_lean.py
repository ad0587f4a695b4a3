"""Against real Lean (core, no Mathlib). These run when `lean` or `repl` is on PATH or
DEEPCORPUS_LEAN_SERVER is set, and skip saying why otherwise: no Lean toolchain can be installed on
the project's CI machines. With `lean` alone they run on one process per proof (no sorry goals).
"""

import os
import shutil

import pytest

from formal.backends import LeanConfig, NoLeanRunner, detect
from formal.header import CORE_HEADER
from formal.results import ERROR, TIMEOUT, VERIFIED, VerifyRequest

pytestmark = pytest.mark.lean

HAVE_LEAN = bool(shutil.which("repl") or shutil.which("lean") or os.environ.get("DEEPCORPUS_LEAN_SERVER"))
REASON = "no Lean runner: `lean` and `repl` are not on PATH and DEEPCORPUS_LEAN_SERVER is not set"


@pytest.fixture(scope="module")
def lean():
    if not HAVE_LEAN:
        pytest.skip(REASON)
    try:
        verifier = detect(LeanConfig(workers=2, memory_mb=8192))
    except NoLeanRunner as e:
        pytest.skip(str(e))
    yield verifier
    verifier.close()


def check(lean, code, timeout_s=120):
    (r,) = lean.verify([VerifyRequest(code, header=CORE_HEADER, timeout_s=timeout_s)])
    return r


def test_the_toolchain_is_known(lean):
    assert lean.toolchain != "unknown" and lean.toolchain[0].isdigit()


def needs_goals(lean):
    if lean.name == "lean-file":
        pytest.skip("`lean --json` reports no sorry goals; this needs the REPL or a Lean server")


def test_statement_elaborates_with_sorry(lean):
    r = check(lean, "theorem t : 2 + 2 = 4 := by sorry")
    assert r.status == ERROR and not r.errors  # only the sorry warning
    needs_goals(lean)
    (s,) = r.sorries
    assert s.goal == "⊢ 2 + 2 = 4"


def test_a_proof_verifies(lean):
    assert check(lean, "theorem t (n : Nat) (h : n > 3) : 2 * n > 6 := by omega").status == VERIFIED
    assert check(lean, "theorem d : (7 : Nat) ∣ 91 := ⟨13, rfl⟩").status == VERIFIED


def test_a_wrong_proof_is_rejected(lean):
    r = check(lean, "theorem t : 2 + 2 = 5 := by decide")
    assert r.status == ERROR and r.errors


def test_sorry_goals_of_a_sketch(lean):
    needs_goals(lean)
    r = check(lean, "theorem c (a b : Nat) (h₀ : a < b) : a + 1 ≤ b ∧ a < b := by\n"
                    "  have h₁ : a + 1 ≤ b := by sorry\n  exact ⟨h₁, h₀⟩")
    (s,) = r.sorries
    assert s.goal.endswith("⊢ a + 1 ≤ b") and "h₀ : a < b" in s.goal
    assert (s.pos.line, s.pos.column) == (2, 28)


def test_a_long_proof_times_out(lean):
    r = check(lean, "def spin : Nat → Nat\n  | 0 => 0\n  | n + 1 => spin n\n\n"
                    "set_option maxRecDepth 100000 in\ntheorem slow : spin 100000000 = 0 := by decide", timeout_s=3)
    assert r.status in (TIMEOUT, ERROR)  # Lean may also give up on its own (max recursion)
    if r.status == TIMEOUT:
        assert r.elapsed_ms >= 3000
