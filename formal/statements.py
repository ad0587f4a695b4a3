"""Lean 4 theorem statements as text: parse the signature, state the negation, test the hypotheses.

    thm = parse_statement("theorem t (n : ℕ) (h₀ : n > 3) : 2 * n > 6")
    thm.binders     -> ["(n : ℕ)", "(h₀ : n > 3)"]
    negation(thm)   -> theorem t_neg : ¬ (∀ (n : ℕ) (h₀ : n > 3), 2 * n > 6)
    hypotheses_false(thm) -> theorem t_hyp (n : ℕ) (h₀ : n > 3) : False

DeepSeek-Prover V1 proves a statement and its negation in parallel and drops the statement when the
negation is proved; it rejects statements whose hypotheses prove `False` (they say nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

KEYWORDS = ("theorem", "lemma", "example")
_OPEN = {"(": ")", "[": "]", "{": "}", "⦃": "⦄"}
# A binder is a hypothesis (not a variable) when its type is a proposition built with these.
_PROP_MARKS = ("=", "≠", "<", ">", "≤", "≥", "∣", "∧", "∨", "¬", "→", "↔", "∀", "∃", "True", "False", "%")


class StatementError(ValueError):
    """The text is not a `theorem NAME BINDERS : TYPE` this module understands."""


@dataclass(frozen=True)
class Theorem:
    keyword: str
    name: str
    binders: tuple[str, ...]
    conclusion: str

    @property
    def signature(self) -> str:
        parts = [self.keyword] + ([self.name] if self.name else []) + list(self.binders)
        return f"{' '.join(parts)} : {self.conclusion}"

    def with_proof(self, proof: str) -> str:
        """Full Lean code: the signature, `:=` and the proof (`by ...` or a term)."""
        return f"{self.signature} := {proof.strip()}"

    def hypotheses(self) -> list[str]:
        return [b for b in self.binders if is_hypothesis(b)]

    def renamed(self, name: str) -> Theorem:
        return replace(self, name=name)


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _balanced(text: str, i: int) -> int:
    """Index just past the bracket group opening at text[i]."""
    stack = [_OPEN[text[i]]]
    j = i + 1
    while j < len(text) and stack:
        c = text[j]
        if c in _OPEN:
            stack.append(_OPEN[c])
        elif c == stack[-1]:
            stack.pop()
        elif c in ")]}⦄":
            raise StatementError(f"unbalanced {c!r} at {j}")
        j += 1
    if stack:
        raise StatementError("unclosed bracket in binders")
    return j


def _top_level_assign(text: str, start: int) -> int:
    """Index of the first `:=` outside brackets at or after start, or -1."""
    depth = 0
    i = start
    while i < len(text) - 1:
        c = text[i]
        if c in "([{⦃":
            depth += 1
        elif c in ")]}⦄":
            depth -= 1
        elif depth == 0 and text.startswith(":=", i):
            return i
        i += 1
    return -1


def _strip_leading_comments(text: str) -> str:
    text = text.strip()
    while True:
        if text.startswith("/-"):
            end = text.find("-/")
            if end < 0:
                return text
            text = text[end + 2 :].lstrip()
        elif text.startswith("--"):
            nl = text.find("\n")
            text = text[nl + 1 :].lstrip() if nl >= 0 else ""
        elif text.startswith("@["):
            text = text[_balanced(text, 1) :].lstrip()
        else:
            return text


def parse_statement(text: str) -> Theorem:
    """Parse `theorem NAME BINDERS : TYPE [:= ...]`; anything after `:=` is ignored."""
    text = _strip_leading_comments(text)
    m = re.match(r"(theorem|lemma|example)\b", text)
    if not m:
        raise StatementError("does not start with theorem, lemma or example")
    keyword = m.group(1)
    i = _skip_ws(text, m.end())
    name = ""
    if keyword != "example":
        n = re.match(r"[^\s(\[{⦃:]+", text[i:])
        if not n:
            raise StatementError("theorem has no name")
        name = n.group(0)
        i = _skip_ws(text, i + n.end())
    binders = []
    while i < len(text) and text[i] in _OPEN:
        j = _balanced(text, i)
        binders.append(" ".join(text[i:j].split()))
        i = _skip_ws(text, j)
    if not text.startswith(":", i) or text.startswith(":=", i):
        raise StatementError("expected ':' and the statement's type after the binders")
    end = _top_level_assign(text, i + 1)
    conclusion = " ".join((text[i + 1 : end] if end >= 0 else text[i + 1 :]).split())
    if not conclusion:
        raise StatementError("empty statement type")
    return Theorem(keyword, name, tuple(binders), conclusion)


def split_proof(code: str) -> tuple[str, str]:
    """(signature, proof) of full theorem code, split at the first top-level `:=`."""
    body = _strip_leading_comments(code)
    m = re.match(r"(theorem|lemma|example)\b", body)
    end = _top_level_assign(body, m.end() if m else 0)
    if end < 0:
        raise StatementError("no ':=' in the code")
    return body[:end].rstrip(), body[end + 2 :].strip()


def is_hypothesis(binder: str) -> bool:
    inner = binder[1:-1]
    if ":" not in inner:
        return False
    names, _, typ = inner.partition(":")
    return any(mark in typ for mark in _PROP_MARKS)


def negation(thm: Theorem) -> Theorem:
    """`¬ (∀ BINDERS, TYPE)`: proving it shows the statement is false."""
    body = f"∀ {' '.join(thm.binders)}, {thm.conclusion}" if thm.binders else thm.conclusion
    return Theorem("theorem", f"{thm.name or 'stmt'}_neg", (), f"¬ ({body})")


def hypotheses_false(thm: Theorem) -> Theorem | None:
    """`BINDERS ⊢ False`, or None when the statement has no hypotheses to be inconsistent."""
    if not thm.hypotheses():
        return None
    return Theorem("theorem", f"{thm.name or 'stmt'}_hyp", thm.binders, "False")


def with_informal(informal: str, code: str) -> str:
    """Training text: the problem as a doc comment above the Lean code (DeepSeek-Prover's format)."""
    informal = (informal or "").strip().replace("-/", "- /")
    return f"/-- {informal} -/\n{code}" if informal else code
