"""The template generator's statements, as text, and the rule-based autoformalizer's phrasings."""

import pytest

from formal.statements import parse_statement
from formal.templates import FAMILIES, formalize_problem, generate, translate_expr


def test_families_are_deterministic_and_parse():
    a, b = generate(30, seed=3), generate(30, seed=3)
    assert [t.statement for t in a] == [t.statement for t in b]
    assert [t.statement for t in generate(30, seed=4)] != [t.statement for t in a]
    for t in a:
        thm = parse_statement(t.statement)
        assert thm.name.startswith(t.family)
        assert t.informal and t.proofs
    assert {t.family for t in a} >= {f.__name__.lstrip("_") for f in FAMILIES} | {"inconsistent"}


def test_generated_text():
    first = generate(9, seed=0)
    assert first[0].statement == "theorem arith_0 : (61 * 65 + 21 : ℕ) = 3986"
    assert first[0].informal == "Compute 61 × 65 + 21 and show that the result is 3986."
    conj = next(t for t in first if t.family == "conj")
    assert conj.sketch.startswith(conj.statement + " := by\n  have h₂ : a + 1 ≤ b := by sorry\n")
    divides = next(t for t in first if t.family == "divides")
    k = int(divides.proofs[0].split(",")[0].lstrip("⟨"))
    d, n = [int(x) for x in divides.statement.replace("(", "").replace(" : ℕ)", "").split(" : ")[1].split(" ∣ ")]
    assert d * k == n  # the witness in ⟨k, rfl⟩ is right


@pytest.mark.parametrize("text, statement", [
    ("Show that 17 × 23 + 4 = 395.", "theorem p : (17 * 23 + 4 : ℕ) = 395"),
    ("Show that 12 - 20 = -8.", "theorem p : (12 - 20 : ℤ) = -8"),
    ("Show that 1001 is divisible by 13.", "theorem p : (13 : ℕ) ∣ 1001"),
    ("Show that the remainder when 100 is divided by 7 is 2.", "theorem p : 100 % 7 = 2"),
    ("Show that the sum of the integers from 1 to 10 is 55.", "theorem p : (List.range 11).foldl (· + ·) 0 = 55"),
    ("Let f(x) = 2x - 7. Show that f(-3) = -13.", "theorem p : (fun x : ℤ => 2 * x - 7) (-3) = -13"),
    ("Show that for every natural number n, 2n + 3 > n.", "theorem p (n : ℕ) : 2 * n + 3 > n"),
    ("Let n be a natural number such that n > 3. Show that 2n > 6.", "theorem p (n : ℕ) (h₀ : n > 3) : 2 * n > 6"),
    ("Show that for all integers x and y, if x < y and y < 5, then x + 1 < 5.",
     "theorem p (x y : ℤ) (h₀ : x < y) (h₁ : y < 5) : x + 1 < 5"),
    ("Show that for every natural number n, n^2 + n is even.", "theorem p (n : ℕ) : (n ^ 2 + n) % 2 = 0"),
])
def test_problem_phrasings(text, statement):
    assert formalize_problem(text, "p").statement == statement


@pytest.mark.parametrize("text", [
    "Prove that there are infinitely many prime numbers.",
    "Show that for every real number x, x^2 ≥ 0.",
    "Show that sin(x) = 0.",
])
def test_other_problems_are_left_alone(text):
    assert formalize_problem(text, "p") is None


def test_translate_expr_refuses_unknown_words():
    assert translate_expr("2n + 1 is at least n", {"n"}) == "2 * n + 1 ≥ n"
    assert translate_expr("log(n) > 0", {"n"}) is None
