"""Answers taken out of chains of thought and compared, on the real GSM8K and MATH files."""

import json
import os
import re

import pytest

from evaluation.answers import (
    extract_math_answer,
    extract_number,
    gsm8k_reference,
    last_boxed,
    math_equal,
    math_reference,
    normalize_latex,
    numbers_equal,
)


def _rows(shared_data, *path):
    with open(os.path.join(shared_data, "benchmarks", *path)) as f:
        return [json.loads(line) for line in f]


@pytest.fixture
def gsm8k(shared_data):
    return _rows(shared_data, "gsm8k", "test.jsonl")


@pytest.fixture
def math500(shared_data):
    return {r["unique_id"]: r for r in _rows(shared_data, "math", "math500_test.jsonl")}


def test_every_gsm8k_solution_yields_its_own_answer(gsm8k):
    # The reference solutions are chains of thought ending in '#### N': reading them as a model's
    # completion must give back N, for all 1,319 problems.
    assert len(gsm8k) == 1319
    for row in gsm8k:
        ref = gsm8k_reference(row["answer"])
        assert re.fullmatch(r"-?\d+(\.\d+)?", ref), row["answer"][-40:]
        assert numbers_equal(extract_number(row["answer"]), ref)


def test_gsm8k_thousands_separators_dollars_and_the_answer_is(gsm8k):
    with_commas = [r for r in gsm8k if re.search(r"#### \d{1,3}(,\d{3})+$", r["answer"])]
    assert len(with_commas) >= 10
    for row in with_commas:
        ref = gsm8k_reference(row["answer"])
        assert "," not in ref
        shown = row["answer"].rsplit("#### ", 1)[1]  # e.g. 1,450,000
        completion = f"Adding it all up gives {shown} cents first. So the answer is ${shown}.00."
        assert numbers_equal(extract_number(completion), ref)
        assert not numbers_equal(extract_number(f"The answer is {int(ref) + 1:,}."), ref)
    # "The answer is" wins over a later number; else the last number counts.
    assert extract_number("The answer is 18.\n\nQuestion: A farmer has 7 cows") == "18"
    assert extract_number("She pays 3 * 4 = 12 dollars and keeps 8") == "8"
    assert extract_number("no numbers at all") is None


def test_math_references_come_from_the_answer_or_the_last_box(math500):
    for row in math500.values():
        assert math_reference(row) == row["answer"]
        boxed = last_boxed(row["solution"])
        assert boxed is not None and math_equal(boxed, row["answer"])[0], row["unique_id"]
    nested = r"so $\boxed{\left( 3, \frac{\pi}{2} \right)}$ and not \boxed{1}" + " wait: " + r"\boxed{\frac{\sqrt{2}}{2}}"
    assert last_boxed(nested) == r"\frac{\sqrt{2}}{2}"
    assert last_boxed(r"x = \boxed 5$") == "5"
    assert extract_math_answer("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.") == "\\frac{3}{4}"


def test_equivalent_spellings_of_real_math_answers(math500):
    def answer_of(answer):  # the reference as it stands in the file (it must be there)
        return next(r["answer"] for r in math500.values() if r["answer"] == answer)

    cases = [
        # fractions
        (answer_of(r"\frac{1}{8}"), "0.125", "numeric"),
        (answer_of(r"\frac{1}{8}"), "1/8", "string"),
        (answer_of(r"\dfrac{17}{50}"), r"\frac{17}{50}", "string"),
        (answer_of(r"\dfrac{17}{50}"), "0.34", "numeric"),
        (answer_of(r"\frac{270}7\text{ degrees}"), r"\frac{270}{7}", "string"),
        (answer_of(r"\frac{\sqrt{21}}{5}"), r"\sqrt{21}/5", "sympy"),
        (answer_of(".35625"), "0.35625", "string"),
        # units and degrees
        (answer_of(r"864 \mbox{ inches}^2"), "864", "string"),
        (answer_of(r"5.4 \text{ cents}"), "5.4", "string"),
        (answer_of(r"90^\circ"), "90", "string"),
        (answer_of(r"\$18.90"), "18.9", "string"),
        # thousands separators
        (answer_of(r"\$32,\!348"), "32348", "string"),
        (answer_of("58,500"), "58500", "string"),
        # tuples, text, symbols
        (answer_of(r"(-\sqrt{3}, \sqrt{3})"), r"\left(-\sqrt{3},\sqrt{3}\right)", "string"),
        (answer_of(r"\text{Evelyn}"), "Evelyn", "string"),
        (answer_of(r"\text{(C)}"), "C", "string"),
        (answer_of("p - q"), "-q + p", "sympy"),
        (answer_of(r"288 \pi"), r"288\pi", "string"),
    ]
    for reference, prediction, how in cases:
        assert math_equal(prediction, reference) == (True, how), (prediction, reference)
        completion = f"Putting it together, the answer is $\\boxed{{{prediction}}}$."
        assert math_equal(extract_math_answer(completion), reference)[0], completion


def test_different_answers_stay_different(math500):
    numeric = [r["answer"] for r in math500.values() if re.fullmatch(r"-?\d+", r["answer"])]
    assert len(numeric) > 200
    for a in numeric:
        assert math_equal(a, a)[0]
        assert not math_equal(str(int(a) + 1), a)[0]
    assert not math_equal("(6,31,1)", "(6,31,-1)")[0]  # a tuple, not a number with a thousands separator
    assert normalize_latex("(6,31,-1)") == "(6,31,-1)"
    assert not math_equal(r"\frac{2}{3}", r"\frac{3}{2}")[0]
    assert not math_equal(None, "3")[0]
    # What sympy cannot parse stays a string comparison.
    assert math_equal(r"(2,12) \cup (12,102)", r"(2,12)\cup(12,102)") == (True, "string")
    assert math_equal(r"x \in (2, 3]", r"x \in (2, 4]") == (False, "string")
