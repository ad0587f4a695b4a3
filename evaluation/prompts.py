"""Prompts for generation: few-shot chain of thought for math, the code formats, Lean statements.

The built-in exemplars are written for this project in the style of the published ones (GSM8K 8-shot
"Question/Answer ... The answer is N." as in Wei et al. 2022; MATH 4-shot with a boxed answer as in
Lewkowycz et al. 2022), so numbers are comparable in kind, not to the digit. For the published
setting pass `--few-shot FILE` (e.g. GSM8K's train.jsonl): its first `--shots` rows become the
exemplars. Each builder returns the prompt and the strings that end a completion.
"""

from __future__ import annotations

from evaluation.benchmarks import Item, minif2f_header, minif2f_statement, strip_calculator

GSM8K_EXEMPLARS = [
    ("A shelf holds 12 books. Maria adds 3 rows of 4 books each. How many books are on the shelf now?",
     "Maria adds 3 * 4 = 12 books. The shelf had 12 books, so now it has 12 + 12 = 24 books.", "24"),
    ("Ben buys 5 pencils at 30 cents each and pays with a 2 dollar coin. How many cents of change does he get?",
     "The pencils cost 5 * 30 = 150 cents. A 2 dollar coin is 200 cents, so the change is 200 - 150 = 50 cents.", "50"),
    ("A train travels 60 kilometres in the first hour and 45 kilometres in the second hour. What is its average "
     "speed in kilometres per hour?",
     "It travels 60 + 45 = 105 kilometres in 2 hours, so the average speed is 105 / 2 = 52.5 kilometres per hour.",
     "52.5"),
    ("Lena has 3 times as many stickers as Omar. Together they have 48 stickers. How many stickers does Omar have?",
     "If Omar has x stickers, Lena has 3x, and x + 3x = 4x = 48, so x = 48 / 4 = 12.", "12"),
    ("A recipe needs 250 grams of flour for one cake. How many grams of flour are needed for 7 cakes?",
     "Each cake needs 250 grams, so 7 cakes need 7 * 250 = 1750 grams.", "1750"),
    ("There are 30 students in a class and 40% of them walk to school. How many students do not walk to school?",
     "40% of 30 is 0.4 * 30 = 12 students who walk. So 30 - 12 = 18 students do not walk.", "18"),
    ("A farmer collects 14 eggs every day. He sells them in boxes of 6. How many full boxes can he fill in a week?",
     "In a week he collects 7 * 14 = 98 eggs. 98 / 6 = 16 with 2 left over, so he fills 16 full boxes.", "16"),
    ("Sam reads 20 pages on Monday and twice as many on Tuesday. The book has 100 pages. How many pages are left?",
     "On Tuesday he reads 2 * 20 = 40 pages. He has read 20 + 40 = 60 pages, so 100 - 60 = 40 pages are left.", "40"),
]

MATH_EXEMPLARS = [
    ("Find the value of $x$ such that $3x - 7 = 11$.",
     "Adding 7 to both sides gives $3x = 18$, and dividing by 3 gives $x = 6$. The final answer is $\\boxed{6}$."),
    ("Simplify $\\frac{2}{3} + \\frac{5}{6}$.",
     "With the common denominator 6, $\\frac{2}{3} = \\frac{4}{6}$, so the sum is $\\frac{4}{6} + \\frac{5}{6} = "
     "\\frac{9}{6} = \\frac{3}{2}$. The final answer is $\\boxed{\\frac{3}{2}}$."),
    ("What is the remainder when $2^{10}$ is divided by 7?",
     "Since $2^3 = 8 \\equiv 1 \\pmod 7$, we have $2^{10} = (2^3)^3 \\cdot 2 \\equiv 2 \\pmod 7$. "
     "The final answer is $\\boxed{2}$."),
    ("The legs of a right triangle have lengths 5 and 12. What is the length of its hypotenuse?",
     "By the Pythagorean theorem the hypotenuse is $\\sqrt{5^2 + 12^2} = \\sqrt{169} = 13$. "
     "The final answer is $\\boxed{13}$."),
]

MBPP_INTRO = "You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n"
HUMANEVAL_STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\n```", "\nassert "]


def gsm8k_shot(question: str, reasoning: str, answer: str) -> str:
    return f"Question: {question}\nAnswer: {reasoning} The answer is {answer}.\n\n"


def math_shot(problem: str, solution: str) -> str:
    return f"Problem:\n{problem}\n\nSolution:\n{solution}\n\n"


def exemplars_from(kind: str, items: list[Item]) -> list[str]:
    """Few-shot blocks from a file's own rows (e.g. GSM8K train), in the format the kind's prompt uses."""
    out = []
    for it in items:
        if kind in ("gsm8k", "qa") and it.row.get("question") is not None:
            solution = strip_calculator(str(it.row["answer"])).rsplit("####", 1)[0].strip()
            out.append(gsm8k_shot(it.row["question"], " ".join(solution.split("\n")), it.answer or ""))
        elif kind == "math":
            out.append(math_shot(it.row["problem"], it.row.get("solution", "")))
    return out


def default_exemplars(kind: str) -> list[str]:
    if kind in ("gsm8k", "qa"):
        return [gsm8k_shot(*e) for e in GSM8K_EXEMPLARS]
    if kind == "math":
        return [math_shot(*e) for e in MATH_EXEMPLARS]
    return []


def question_block(kind: str, item: Item) -> tuple[str, list[str]]:
    """The part of the prompt for `item` itself, and the stop strings of its completion."""
    if kind in ("gsm8k", "qa"):
        return f"Question: {item.prompt}\nAnswer:", ["\n\nQuestion:", "Question:", "\n\n\n"]
    if kind == "math":
        return f"Problem:\n{item.prompt}\n\nSolution:\n", ["\n\nProblem:", "Problem:"]
    if kind == "humaneval":
        return item.prompt, HUMANEVAL_STOP
    if kind == "mbpp":
        return mbpp_block(item, with_code=False), ["[DONE]", "\n[BEGIN]"]
    if kind == "minif2f":
        header = minif2f_header(item.row)
        informal = item.row.get("informal_prefix") or ""
        return (f"Complete the following Lean 4 code:\n\n```lean4\n{header}{informal}{minif2f_statement(item.row)}",
                ["```"])
    raise ValueError(f"no generation prompt for {kind}")


def mbpp_block(item: Item, with_code: bool) -> str:
    row = item.row
    tests = "\n".join(row["test_list"])
    text = MBPP_INTRO.format(text=row["text"]) + f"{tests}\n[BEGIN]\n"
    if with_code:
        text += (row.get("code") or "").replace("\r\n", "\n").strip() + "\n[DONE]\n\n"
    return text


def few_shot_blocks(kind: str, file_items: list[Item], own: list[Item]) -> list[str]:
    """The exemplars for a kind: MBPP's own prompt tasks, those of --few-shot, else the built-in ones."""
    if kind == "mbpp":
        return [mbpp_block(it, with_code=True) for it in own]
    if file_items:
        return exemplars_from(kind, file_items)
    return default_exemplars(kind)
