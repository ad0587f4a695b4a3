"""The tactic portfolio: closing tactics tried on every statement, chosen by what the header provides.

Core Lean has `rfl`, `decide`, `simp`, `omega`; `norm_num`, `linarith`, `nlinarith`, `positivity` and
`ring` come with Mathlib, `aesop` with Aesop (which Mathlib imports). `native_decide` is left out
unless asked for: it trusts the compiler (axiom `Lean.ofReduceBool`).
A ranking learned from earlier rounds (expert iteration) puts the tactics that worked first.
"""

from __future__ import annotations

from formal.header import header_imports, uses_mathlib

CORE = ("rfl", "decide", "omega", "simp", "simp_all", "constructor <;> omega", "intro h; omega")
MATHLIB = ("norm_num", "linarith", "nlinarith", "positivity", "ring", "simp_all; omega", "norm_num; omega")
AESOP = ("aesop",)
# A short attempt at `False` from the hypotheses (statement filtering).
CONTRADICTION_CORE = ("omega", "simp_all", "contradiction", "decide")
CONTRADICTION_MATHLIB = ("linarith", "norm_num at *")


def portfolio(header: str, ranking: dict[str, float] | None = None, native_decide: bool = False) -> list[str]:
    tactics = list(CORE)
    if uses_mathlib(header):
        tactics += MATHLIB
    if uses_mathlib(header) or "Aesop" in header_imports(header):
        tactics += AESOP
    if native_decide:
        tactics.append("native_decide")
    if ranking:
        order = {t: i for i, t in enumerate(tactics)}
        tactics.sort(key=lambda t: (-ranking.get(t, 0.0), order[t]))
    return tactics


def contradiction_tactic(header: str) -> str:
    """One `first | ...` combinator: a short, single attempt at proving False."""
    tactics = list(CONTRADICTION_CORE) + (list(CONTRADICTION_MATHLIB) if uses_mathlib(header) else [])
    return "first | " + " | ".join(f"({t})" for t in tactics)


def first_of(tactics: list[str]) -> str:
    return "first | " + " | ".join(f"({t})" for t in tactics)


def as_proof(tactic: str) -> str:
    return f"by\n  {tactic}"
