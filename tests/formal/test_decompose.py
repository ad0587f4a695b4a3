"""Subgoal decomposition: goals as Lean prints them become lemmas; proofs go back where the sorries were."""

import os

from formal.decompose import compose, lemma_from_goal, parse_goal, subgoals
from formal.repl_protocol import parse_commands, parse_response, parse_transcript

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "repl")


def recorded_sketch():
    with open(os.path.join(FIXTURES, "sketch_sorries.in"), encoding="utf-8") as f:
        sketch = parse_commands(f.read())[0]["cmd"]
    with open(os.path.join(FIXTURES, "sketch_sorries.expected.out"), encoding="utf-8") as f:
        response = parse_response(parse_transcript(f.read())[0])
    return sketch, response


def test_parse_goal():
    hyps, target = parse_goal("a b : Nat\nh₀ : a < b\n⊢ a + 1 ≤ b")
    assert hyps == [(["a", "b"], "Nat"), (["h₀"], "a < b")] and target == "a + 1 ≤ b"


def test_inaccessible_names_and_case_tags_are_cleaned():
    lemma = lemma_from_goal("t_sub1", "case succ\nn✝ : Nat\n⊢ n✝ + 1 = 0")
    assert lemma.signature == "theorem t_sub1 (n_i : Nat) : n_i + 1 = 0"


def test_each_sorry_becomes_a_lemma_with_and_without_earlier_haves():
    sketch, response = recorded_sketch()
    subs = subgoals("conj_demo", sketch, response.sorries)
    assert [s.variants[0].signature for s in subs] == [
        "theorem conj_demo_sub1 (a b : Nat) (h₀ : a < b) (h₁ : b ≤ 10) : a + 1 ≤ b",
        "theorem conj_demo_sub2 (a b : Nat) (h₀ : a < b) (h₁ : b ≤ 10) (h₂ : a + 1 ≤ b) : a < 10",
    ]
    assert len(subs[0].variants) == 1  # nothing earlier to drop
    assert subs[1].variants[1].signature == "theorem conj_demo_sub2 (a b : Nat) (h₀ : a < b) (h₁ : b ≤ 10) : a < 10"


def test_compose_puts_proofs_where_the_sorries_were():
    sketch, response = recorded_sketch()
    composed = compose(sketch, response.sorries, ["by omega", "by\n  simp at h₂\n  omega"])
    assert composed.splitlines() == [
        sketch.splitlines()[0],
        "  have h₂ : a + 1 ≤ b := by omega",
        "  have h₃ : a < 10 := by",
        "    simp at h₂",
        "    omega",
        "  exact ⟨h₂, h₃⟩",
    ]
    assert "sorry" not in composed
