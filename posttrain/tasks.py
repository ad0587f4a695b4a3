"""GRPO's prompts: what is put to the model, where its output stops, and what the reward checks.

A prompt record is either a record of its own,

    {"prompt": "12+35=", "answer": "47"}                       math
    {"prompt": "...", "tests": "assert f(1) == 2"}             code (also MBPP's test_list, HumanEval's test)
    {"prompt": "...", "formal_statement": "theorem ...", "header": "import Mathlib"}    lean
    {"messages": [{"role": "user", "content": "..."}], "answer": "47"}                 a chat, templated

optionally with `stop` (strings that end an output), or a row of a benchmark file as `deepcorpus eval`
reads them (GSM8K question/answer, MATH problem/solution, HumanEval, MBPP, miniF2F), which is put to
the model as eval's zero-shot prompt for that kind, with its stop strings and reference answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepcorpus.core.errors import UserError
from posttrain.records import check_messages

OWN = "prompt"  # a record of its own, as opposed to a benchmark kind


@dataclass
class Task:
    kind: str  # "prompt", or a benchmark kind: gsm8k, math, humaneval, mbpp, minif2f
    prompt: str | None  # the text put to the model (before the prompt template), or
    messages: list | None  # a chat, put through the chat template
    answer: str | None  # the reference answer for the math reward
    stops: list[str] = field(default_factory=list)
    row: dict = field(default_factory=dict)  # the record as read, for the code and lean rewards


def task_from_record(record: dict, where: str) -> Task:
    from evaluation.answers import gsm8k_reference, math_reference
    from evaluation.benchmarks import Item, detect_kind
    from evaluation.prompts import question_block

    stops = record.get("stop") or []
    if isinstance(stops, str):
        stops = [stops]
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise UserError(f"{where}: `stop` must be a string or a list of non-empty strings")
    answer = record.get("answer")
    if record.get("messages") is not None:
        return Task(OWN, None, check_messages(record["messages"], where), _answer_text(answer, where), stops, record)
    humaneval = {"prompt", "test", "entry_point"} <= set(record)
    if record.get("prompt") is not None and not humaneval:
        if not isinstance(record["prompt"], str):
            raise UserError(f"{where}: `prompt` must be a string")
        return Task(OWN, record["prompt"], None, _answer_text(answer, where), stops, record)
    try:
        kind = detect_kind(record, where)
    except UserError:
        kind = "text"
    if kind in ("qa", "text"):
        raise UserError(f"{where}: a prompt record needs `prompt` (or `messages`), or the fields of a GSM8K, MATH, "
                        "HumanEval, MBPP or miniF2F row")
    if kind == "gsm8k":
        item = Item("", "", record["question"], gsm8k_reference(str(record["answer"])), record)
    elif kind == "math":
        item = Item("", "", record["problem"], math_reference(record), record)
    else:
        item = Item("", "", str(record.get("prompt") or record.get("text") or ""), None, record)
    prompt, kind_stops = question_block(kind, item)
    return Task(kind, prompt, None, item.answer, stops or kind_stops, record)


def _answer_text(answer, where) -> str | None:
    if answer is None:
        return None
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        return str(answer)
    if not isinstance(answer, str):
        raise UserError(f"{where}: `answer` must be a string or a number (got {type(answer).__name__})")
    if "####" in answer:  # a GSM8K solution under another field name
        from evaluation.answers import gsm8k_reference

        return gsm8k_reference(answer)
    return answer
