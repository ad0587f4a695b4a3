"""The template generator's material: families of elementary statements, and a rule-based
autoformalizer for natural-language problems written in a few plain phrasings.

Everything here is provable (or refutable) in core Lean 4 without Mathlib: arithmetic identities over
ℕ and ℤ, divisibility, remainders, linear inequalities with hypotheses, finite sums, simple functions,
and conjunctions with a `have ... := by sorry` sketch (for subgoal decomposition). A few statements
are false or have inconsistent hypotheses on purpose, as a real autoformalizer's output would: the
negation check and the hypothesis check exist to catch them.

Phrasings `formalize_problem` understands (case-insensitive; `2n` means `2 * n`):
- "Show that 17 × 23 + 4 = 395."                      closed arithmetic (ℤ when there is a minus)
- "Show that 7 divides 91." / "Show that 91 is divisible by 7."
- "Show that the remainder when 100 is divided by 7 is 2."
- "Show that the sum of the integers from 1 to 10 is 55."
- "Let f(x) = 3x + 2. Show that f(5) = 17."           (ℤ when the text says integer or has a minus)
- "Show that for every natural number n, 2n + 3 > n."  (natural numbers or integers; if ... then ...)
- "Let n be a natural number such that n > 3. Show that 2n > 6."
Anything else is left alone (the pipeline counts it as `unparsed`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field


@dataclass
class Template:
    family: str
    informal: str
    statement: str  # `theorem NAME BINDERS : TYPE`
    proofs: list[str] = field(default_factory=list)  # known proofs, best first (text after `:=`)
    sketch: str | None = None  # full code with `have ... := by sorry` steps


# --- families of generated statements --------------------------------------------------------------


def _arith(rng: random.Random, i: int) -> Template:
    a, b, c = rng.randint(12, 99), rng.randint(12, 99), rng.randint(1, 500)
    v = a * b + c
    return Template("arith", f"Compute {a} × {b} + {c} and show that the result is {v}.",
                    f"theorem arith_{i} : ({a} * {b} + {c} : ℕ) = {v}", ["by decide", "by rfl"])


def _int_arith(rng: random.Random, i: int) -> Template:
    a, b, c = rng.randint(2, 40), rng.randint(41, 90), rng.randint(2, 9)
    v = (a - b) * c
    return Template("int_arith", f"Show that ({a} − {b}) · {c} = {v} in the integers.",
                    f"theorem int_arith_{i} : ((({a} : ℤ) - {b}) * {c}) = {v}", ["by decide", "by rfl"])


def _divides(rng: random.Random, i: int) -> Template:
    d, k = rng.randint(3, 19), rng.randint(3, 40)
    n = d * k
    if i % 9 == 4:  # a false statement: its negation is provable
        return Template("divides", f"Show that {d} divides {n + 1}.",
                        f"theorem divides_{i} : ({d} : ℕ) ∣ {n + 1}", ["by decide"])
    return Template("divides", f"Show that {d} divides {n}.", f"theorem divides_{i} : ({d} : ℕ) ∣ {n}",
                    [f"⟨{k}, rfl⟩", "by decide"])


def _mod(rng: random.Random, i: int) -> Template:
    a, b = rng.randint(100, 999), rng.randint(3, 17)
    return Template("mod", f"Find the remainder when {a} is divided by {b}; show that it is {a % b}.",
                    f"theorem mod_{i} : {a} % {b} = {a % b}", ["by decide", "by rfl"])


def _linear(rng: random.Random, i: int) -> Template:
    a, b, c = rng.randint(1, 20), rng.randint(1, 30), rng.randint(2, 9)
    return Template("linear", f"Let n be a natural number greater than {a}. Show that {c}n + {b} > {c * a + b}.",
                    f"theorem linear_{i} (n : ℕ) (h₀ : n > {a}) : {c} * n + {b} > {c * a + b}", ["by omega"])


def _int_ineq(rng: random.Random, i: int) -> Template:
    a, c = rng.randint(-20, 20), rng.randint(-30, 30)
    return Template("int_ineq", f"Let x be an integer with x ≤ {a}. Show that {c} − x ≥ {c - a}.",
                    f"theorem int_ineq_{i} (x : ℤ) (h₀ : x ≤ {a}) : {c} - x ≥ {c - a}", ["by omega"])


def _sum(rng: random.Random, i: int) -> Template:
    n = rng.randint(5, 30)
    s = n * (n + 1) // 2
    return Template("sum", f"Show that 1 + 2 + ⋯ + {n} = {s}.",
                    f"theorem sum_{i} : (List.range {n + 1}).foldl (· + ·) 0 = {s}", ["by decide", "by rfl"])


def _function(rng: random.Random, i: int) -> Template:
    a, b, x = rng.randint(2, 9), rng.randint(-9, 9), rng.randint(-9, 9)
    v = a * x + b
    body = f"{a} * x + {b}" if b >= 0 else f"{a} * x - {-b}"
    return Template("function", f"Let f(x) = {body.replace(' * ', '')}. Show that f({x}) = {v}.",
                    f"theorem function_{i} : (fun x : ℤ => {body}) ({x}) = {v}", ["by decide", "by rfl"])


def _conj(rng: random.Random, i: int) -> Template:
    k = rng.randint(5, 50)
    sig = f"theorem conj_{i} (a b : ℕ) (h₀ : a < b) (h₁ : b ≤ {k}) : a + 1 ≤ b ∧ a < {k}"
    sketch = (f"{sig} := by\n  have h₂ : a + 1 ≤ b := by sorry\n  have h₃ : a < {k} := by sorry\n"
              f"  exact ⟨h₂, h₃⟩")
    return Template("conj", f"Let a < b ≤ {k} be natural numbers. Show that a + 1 ≤ b and a < {k}.",
                    sig, ["by omega", "by constructor <;> omega"], sketch)


def _inconsistent(rng: random.Random, i: int) -> Template:
    a = rng.randint(5, 40)
    return Template("inconsistent", f"Let n be a natural number with n > {a} and n < {a - 2}. Show that n = {a}.",
                    f"theorem inconsistent_{i} (n : ℕ) (h₀ : n > {a}) (h₁ : n < {a - 2}) : n = {a}", ["by omega"])


FAMILIES = (_arith, _divides, _linear, _sum, _function, _mod, _int_ineq, _conj, _int_arith)


def generate(count: int, seed: int = 0, start: int = 0) -> list[Template]:
    """`count` statements cycling through the families; every 15th has inconsistent hypotheses."""
    rng = random.Random(seed)
    out = []
    for i in range(start, start + count):
        family = _inconsistent if i % 15 == 14 else FAMILIES[i % len(FAMILIES)]
        out.append(family(rng, i))
    return out


# --- a rule-based autoformalizer for plain phrasings ---------------------------------------------------

_WORDS = [
    (r"\s+is greater than or equal to\s+", " ≥ "), (r"\s+is at least\s+", " ≥ "),
    (r"\s+is greater than\s+", " > "), (r"\s+is less than or equal to\s+", " ≤ "),
    (r"\s+is at most\s+", " ≤ "), (r"\s+is less than\s+", " < "), (r"\s+is not equal to\s+", " ≠ "),
    (r"\s+is equal to\s+", " = "), (r"\s+equals\s+", " = "), (r"\s+divides\s+", " ∣ "),
]
_SYMBOLS = {"×": "*", "·": "*", "⋅": "*", "−": "-", "–": "-", ">=": "≥", "<=": "≤", "!=": "≠", "≠": "≠"}
_SUB = "₀₁₂₃₄₅₆₇₈₉"
_RELATIONS = ("≥", "≤", "≠", "=", "<", ">", "∣")


def translate_expr(text: str, variables: set[str]) -> str | None:
    """Plain math text to a Lean term, or None when it holds anything not understood."""
    t = text.strip().rstrip(".")
    parity = re.fullmatch(r"(.+?)\s+is (even|odd)", t, flags=re.I)
    if parity:  # the whole left side, not its last term, is even
        t = f"({parity.group(1)}) % 2 = {0 if parity.group(2).lower() == 'even' else 1}"
    for pat, rep in _WORDS:
        t = re.sub(pat, rep, t, flags=re.I)
    for a, b in _SYMBOLS.items():
        t = t.replace(a, b)
    t = re.sub(r"(\d)\s*([a-z(])", r"\1 * \2", t)  # 2n -> 2 * n, 3(x+1) -> 3 * (x+1)
    t = re.sub(r"([a-z)])\s*\(", r"\1 * (", t)
    for word in re.findall(r"[A-Za-z_]+", t):
        if word not in variables:
            return None
    if not re.fullmatch(r"[\w\s+\-*/%^()≥≤≠=<>∣]+", t):
        return None
    t = re.sub(r"\s*([+\-*/%^≥≤≠=<>∣])\s*", r" \1 ", t)
    t = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", t))
    t = re.sub(r"(^|[(=<>≤≥≠∣]\s)- (\d)", r"\1-\2", " ".join(t.split()))  # unary minus stays attached
    return t


def _relation(expr: str | None) -> bool:
    return expr is not None and any(r in expr for r in _RELATIONS)


def _type(kind: str, text: str) -> str:
    return "ℤ" if kind.startswith("integer") or "-" in text else "ℕ"


def formalize_problem(text: str, name: str) -> Template | None:
    """A Template for a problem in one of the phrasings above, or None."""
    s = " ".join(text.strip().split())
    low = s.lower()
    verb = r"(?:show|prove|verify) that "

    m = re.fullmatch(verb + r"(\d+) divides (\d+)\.?", low) or re.fullmatch(verb + r"(\d+) is divisible by (\d+)\.?", low)
    if m:
        d, n = (m.group(1), m.group(2)) if "divides" in low else (m.group(2), m.group(1))
        k = int(n) // int(d) if int(d) else 0
        proofs = [f"⟨{k}, rfl⟩", "by decide"] if int(d) and int(n) % int(d) == 0 else ["by decide"]
        return Template("divides", s, f"theorem {name} : ({d} : ℕ) ∣ {n}", proofs)

    m = re.fullmatch(verb + r"the remainder when (\d+) is divided by (\d+) is (\d+)\.?", low)
    if m:
        return Template("mod", s, f"theorem {name} : {m.group(1)} % {m.group(2)} = {m.group(3)}", ["by decide"])

    m = re.fullmatch(verb + r"the sum of the (?:integers|natural numbers|numbers) from 1 to (\d+) is (\d+)\.?", low)
    if m:
        n, total = int(m.group(1)), m.group(2)
        return Template("sum", s, f"theorem {name} : (List.range {n + 1}).foldl (· + ·) 0 = {total}",
                        ["by decide", "by rfl"])

    m = re.fullmatch(r"let f\(x\) = ([^.]+?)\.? " + verb + r"f\((-?\d+)\) = (-?\d+)\.?", low)
    if m:
        body = translate_expr(m.group(1), {"x"})
        if body is None:
            return None
        typ = _type("integer" if "integer" in low else "", m.group(1) + m.group(2) + m.group(3))
        arg = f"({m.group(2)})" if m.group(2).startswith("-") else m.group(2)
        return Template("function", s, f"theorem {name} : (fun x : {typ} => {body}) {arg} = {m.group(3)}",
                        ["by decide", "by rfl"])

    quantified = (
        re.fullmatch(verb + r"for (?:every|all|any|each) (natural numbers?|integers?) ([a-z](?:(?:, | and )[a-z](?=,| and))*),? "
                     r"(?:if (.+?),? then )?(.+?)\.?", low)
        or re.fullmatch(r"let ([a-z](?:(?:, | and )[a-z](?= and|,| be))*) be (?:an? )?(natural numbers?|integers?)"
                        r"(?: such that (.+?))?\. " + verb + r"(?:if (.+?),? then )?(.+?)\.?", low)
    )
    if quantified:
        g = quantified.groups()
        if low.startswith("let"):
            names, kind, hyp_a, hyp_b, concl = g
            hyps_text = " and ".join(h for h in (hyp_a, hyp_b) if h)
        else:
            kind, names, hyps_text, concl = g
        variables = re.split(r", | and ", names)
        typ = "ℤ" if kind.startswith("integer") else "ℕ"
        hyps = [translate_expr(h, set(variables)) for h in re.split(r" and ", hyps_text)] if hyps_text else []
        goal = translate_expr(concl, set(variables))
        if not _relation(goal) or not all(_relation(h) for h in hyps):
            return None
        binders = [f"({' '.join(variables)} : {typ})"] + [f"(h{_SUB[i]} : {h})" for i, h in enumerate(hyps)]
        return Template("quantified", s, f"theorem {name} {' '.join(binders)} : {goal}", ["by omega"])

    m = re.fullmatch(verb + r"(.+?) (?:=|equals|is equal to) (-?\d+)\.?", low)
    if m:
        lhs = translate_expr(m.group(1), set())
        if lhs is None or _relation(lhs):
            return None
        typ = _type("", lhs + m.group(2))
        return Template("arith", s, f"theorem {name} : ({lhs} : {typ}) = {m.group(2)}", ["by decide", "by rfl"])
    return None
