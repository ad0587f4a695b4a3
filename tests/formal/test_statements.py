"""Theorem statements as text: parse, negate, test the hypotheses, split off the proof."""

import pytest

from formal.statements import (
    StatementError,
    hypotheses_false,
    negation,
    parse_statement,
    split_proof,
    with_informal,
)


def test_parse_binders_and_type():
    thm = parse_statement("theorem t (x y : ℤ) (h₀ : x < y) {n : ℕ} [inst : Inhabited ℕ] : x + 1 ≤ y := by omega")
    assert thm.keyword == "theorem" and thm.name == "t"
    assert thm.binders == ("(x y : ℤ)", "(h₀ : x < y)", "{n : ℕ}", "[inst : Inhabited ℕ]")
    assert thm.conclusion == "x + 1 ≤ y"
    assert thm.hypotheses() == ["(h₀ : x < y)"]
    assert thm.signature == "theorem t (x y : ℤ) (h₀ : x < y) {n : ℕ} [inst : Inhabited ℕ] : x + 1 ≤ y"


def test_parse_keeps_assignments_inside_brackets_and_skips_doc_comments():
    thm = parse_statement("/-- the problem -/\ntheorem f_val : (fun x : ℕ => x + 1) 2 = 3 := rfl")
    assert thm.conclusion == "(fun x : ℕ => x + 1) 2 = 3"
    assert parse_statement("example : 2 + 2 = 4").name == ""


@pytest.mark.parametrize("bad", ["def f := 1", "theorem : 1 = 1", "theorem t (x : ℕ : x = x", "theorem t (x : ℕ)"])
def test_parse_refuses_what_is_not_a_statement(bad):
    with pytest.raises(StatementError):
        parse_statement(bad)


def test_negation_quantifies_over_all_binders():
    thm = parse_statement("theorem t (n : ℕ) (h₀ : n > 3) : 2 * n > 6")
    assert negation(thm).with_proof("by decide") == "theorem t_neg : ¬ (∀ (n : ℕ) (h₀ : n > 3), 2 * n > 6) := by decide"
    closed = parse_statement("theorem d : (9 : ℕ) ∣ 1000")
    assert negation(closed).signature == "theorem d_neg : ¬ ((9 : ℕ) ∣ 1000)"


def test_hypotheses_false_only_with_hypotheses():
    thm = parse_statement("theorem t (n : ℕ) (h₀ : n < 4) (h₁ : n > 7) : n = 5")
    assert hypotheses_false(thm).signature == "theorem t_hyp (n : ℕ) (h₀ : n < 4) (h₁ : n > 7) : False"
    assert hypotheses_false(parse_statement("theorem u (n : ℕ) : n + 0 = n")) is None


def test_split_proof_and_training_text():
    sig, proof = split_proof("theorem t (a : ℕ) : a + 0 = a := by\n  simp")
    assert sig == "theorem t (a : ℕ) : a + 0 = a" and proof == "by\n  simp"
    assert with_informal("Show a + 0 = a.", "theorem t ...") == "/-- Show a + 0 = a. -/\ntheorem t ..."
