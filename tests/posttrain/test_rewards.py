"""Each reward on outputs whose verdict is known, and their weighted sums."""

import os
import sys

import pytest

from deepcorpus.core.errors import UserError
from posttrain.rewards import (
    Reward,
    RewardSettings,
    final_answer,
    format_reward,
    lean_code,
    math_reward,
    parse_reward,
)
from posttrain.tasks import task_from_record

STANDIN = f"{sys.executable} {os.path.join(os.path.dirname(os.path.dirname(__file__)), 'formal', 'standin_repl.py')}"


def task(**record):
    return task_from_record(record, "test: record 1")


def test_math_reads_the_answer_tag_then_what_eval_reads():
    assert final_answer(" <think>7+6</think> <answer>13</answer>") == "13"
    assert final_answer("<answer>so \\boxed{\\frac{3}{2}}</answer>") == "\\frac{3}{2}"
    assert final_answer("... so the answer is 42.") == "42"
    assert final_answer("we get \\boxed{x^2+1} in the end") == "x^2+1"
    assert math_reward(" <think>7+6</think> <answer>13</answer>", "13") == 1.0
    assert math_reward(" <think>7+6</think> <answer>14</answer>", "13") == 0.0
    assert math_reward("<answer>\\frac{1}{2}</answer>", "0.5") == 1.0  # exact fractions, as eval compares
    assert math_reward("<answer>13</answer>", None) == 0.0


def test_math_on_benchmark_rows_uses_their_references():
    gsm = task(question="How many?", answer="Two and three.\n#### 1,234")
    assert gsm.kind == "gsm8k" and gsm.answer == "1234" and gsm.prompt.startswith("Question: How many?")
    assert math_reward("Adding them gives 1234. The answer is 1234.", gsm.answer) == 1.0
    m = task(problem="Simplify.", solution="It is $\\boxed{\\frac{3}{2}}$.")
    assert m.kind == "math" and math_reward("so $\\boxed{\\dfrac32}$", m.answer) == 1.0
    own = task(prompt="7+6=", answer=13)
    assert own.kind == "prompt" and own.prompt == "7+6=" and own.answer == "13" and own.stops == []


@pytest.mark.parametrize("text, prompt, expect", [
    (" <think>7+6</think> <answer>13</answer>", "", 1.0),
    ("<think>\nadd\n</think>\n<answer>\n13\n</answer>\n", "", 1.0),
    ("7+6</think> <answer>13</answer>", "... Assistant: <think>", 1.0),  # the prompt opened the think block
    (" <think>7+6</think> 13", "", 0.0),  # no answer block
    (" <answer>13</answer>", "", 0.0),  # no thinking
    (" <think>a</think> <answer>13</answer> and more", "", 0.0),  # text after the answer
    (" <think>a</think><think>b</think> <answer>13</answer>", "", 0.0),
    (" <answer>13</answer> <think>a</think>", "", 0.0),  # the wrong order
])
def test_format_is_think_then_answer_and_nothing_else(text, prompt, expect):
    assert format_reward(text, prompt) == expect


def test_weighted_sums_parse_and_add_up():
    assert parse_reward("math+0.5*format") == [(1.0, "math"), (0.5, "format")]
    assert parse_reward(" 2*code ") == [(2.0, "code")]
    for bad in ("bogus", "math+math", "x*math", "-1*math", ""):
        with pytest.raises(UserError):
            parse_reward(bad)
    reward = Reward("math+0.5*format")
    outs = [" <think>7+6</think> <answer>13</answer>", " <think>7+6</think> <answer>12</answer>", "13"]
    scores = reward.score([task(prompt="7+6=", answer="13")] * 3, ["7+6="] * 3, outs)
    assert scores.total == [1.5, 0.5, 1.0]
    assert scores.parts == {"math": [1.0, 0.0, 1.0], "format": [1.0, 1.0, 0.0]}
    assert scores.accuracy() == [1.0, 0.0, 1.0]
    assert Reward("format").score([task(prompt="p")], ["p"], ["x"]).accuracy() is None


def test_a_task_the_reward_cannot_score_is_refused_by_name():
    with pytest.raises(UserError, match="test: record 1: the math reward needs a reference `answer`"):
        Reward("math").check(task(prompt="7+6="), "test: record 1")
    with pytest.raises(UserError, match="needs `tests`"):
        Reward("code").check(task(prompt="write f"), "test: record 1")
    with pytest.raises(UserError, match="needs `formal_statement`"):
        Reward("lean").check(task(prompt="prove it"), "test: record 1")
    with pytest.raises(UserError, match="needs `prompt`"):
        task(question_text="?")


def test_code_runs_the_program_with_its_tests_in_the_sandbox():
    reward = Reward("code", RewardSettings(code_timeout_s=5.0, workers=2))
    own = task(prompt="Write add.", tests="assert add(2, 3) == 5\nassert add(-1, 1) == 0")
    mbpp = task(text="Write a function to square a number.", test_list=["assert square(3) == 9"], test_setup_code="")
    humaneval = task(prompt="def inc(x):\n", test="def check(f):\n    assert f(1) == 2\n", entry_point="inc")
    assert mbpp.kind == "mbpp" and humaneval.kind == "humaneval"
    tasks = [own, own, own, mbpp, humaneval, humaneval]
    outs = ["Here:\n```python\ndef add(a, b):\n    return a + b\n```\n",
            "```python\ndef add(a, b):\n    return a - b\n```",
            "```python\ndef add(a, b):\n    while True:\n        pass\n```",
            "def square(x):\n    return x * x\n",
            "    return x + 1\n",
            "    return x\n"]
    scores = reward.score(tasks, [""] * len(tasks), outs)
    assert scores.parts["code"] == [1.0, 0.0, 0.0, 1.0, 1.0, 0.0]


def test_lean_statement_and_proof_are_put_together_as_eval_and_formal_do():
    row = task(formal_statement="theorem t : 1 + 1 = 2 := by", header="import Mathlib")
    assert lean_code(row, "\n  rfl\n```\nmore") == ("import Mathlib", "theorem t : 1 + 1 = 2 := by\n\n  rfl\n")
    assert lean_code(task(formal_statement="theorem t : 1 + 1 = 2"), "by rfl") == ("", "theorem t : 1 + 1 = 2 := by rfl\n")
    # formal run's sft.jsonl prompt: the statement in a lean4 block, ending in ":= "
    prompt = "Complete the following Lean 4 code:\n\n```lean4\nimport Mathlib\n\n/-- one -/\ntheorem t : 1 = 1 := "
    header, code = lean_code(task(prompt=prompt), "by rfl\n```")
    assert header == "import Mathlib" and code.startswith("/-- one -/\ntheorem t : 1 = 1 := by rfl")


def test_lean_reward_through_the_repl_standin():
    """THE LEAN REPL STAND-IN (tests/formal/standin_repl.py), not Lean: it speaks the REPL's protocol and
    reports `sorry` and the FAIL pattern as the real one reports a sorry and an error. What is tested is the
    reward's path through formal/'s runner: requests, header reuse, the verdict of the whole proof."""
    from formal.backends import LeanConfig

    reward = Reward("lean", RewardSettings(LeanConfig(backend="repl", repl_command=STANDIN, workers=2),
                                           lean_timeout_s=30.0, workers=2))
    statement = task(formal_statement="theorem t (n : Nat) : n + 0 = n := by", header="import Mathlib")
    try:
        scores = reward.score([statement] * 3, [""] * 3, ["\n  simp\n```", "\n  sorry\n```", "\n  FAIL\n```"])
    finally:
        reward.close()
    assert scores.parts["lean"] == [1.0, 0.0, 0.0]
    assert scores.accuracy() == [1.0, 0.0, 0.0]


def test_lean_without_a_runner_stops_before_training():
    from formal.backends import LeanConfig

    reward = Reward("lean", RewardSettings(LeanConfig(backend="none")))
    with pytest.raises(UserError, match="--reward lean"):
        reward.start()
