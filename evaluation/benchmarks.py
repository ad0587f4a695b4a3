"""Benchmark files as given on the command line, each read into items of one kind.

The kind comes from the rows' fields (the formats of the files in ../shared/data/benchmarks):

| kind      | fields                                          | scored by                                 |
| --------- | ----------------------------------------------- | ----------------------------------------- |
| gsm8k     | question, answer ending in `#### N`             | BPB; few-shot CoT, numeric answer         |
| math      | problem, solution (and answer)                  | BPB; few-shot CoT, LaTeX equivalence      |
| humaneval | prompt, test, entry_point (canonical_solution)  | BPB; pass@k in the sandbox                |
| mbpp      | text, test_list (code, test_setup_code)         | BPB; 3-shot pass@k in the sandbox         |
| minif2f   | formal_statement (header, informal_prefix), or  | BPB of the statement; pass@k with Lean    |
|           | lean (a whole file ending in `sorry`)           |                                           |
| qa        | prompt or question, and answer                  | BPB; few-shot, numeric or exact answer    |
| text      | text                                            | BPB only                                  |

MBPP's full file (task ids 1-974) is cut to its test split, 11-510, with tasks 2-4 as the few-shot
prompt (Austin et al. 2021); a miniF2F file with a `split` field is cut to `test`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from deepcorpus.core import datasets, storage
from deepcorpus.core.errors import UserError

KINDS = ("gsm8k", "math", "humaneval", "mbpp", "minif2f", "qa", "text")
GENERATIVE = ("gsm8k", "math", "humaneval", "mbpp", "minif2f", "qa")
CODE_KINDS = ("humaneval", "mbpp")
MBPP_TEST = range(11, 511)
MBPP_PROMPT_IDS = (2, 3, 4)
_GENERIC_STEMS = {"test", "train", "valid", "validation", "dev", "data", "eval"}


@dataclass
class Item:
    id: str
    reference_text: str  # what bits per byte are measured on: question plus solution
    prompt: str = ""  # the question, problem, docstring or statement, without few-shot examples
    answer: str | None = None  # the reference answer (gsm8k, math, qa)
    row: dict = field(default_factory=dict)  # the row as read, for the kind's own fields


@dataclass
class Benchmark:
    name: str
    path: str
    kind: str
    items: list[Item]
    few_shot: list[Item] = field(default_factory=list)  # from the file itself (MBPP)

    def limit(self, n: int | None) -> Benchmark:
        if not n:
            return self
        return Benchmark(self.name, self.path, self.kind, self.items[:n], self.few_shot)


def detect_kind(row: dict, path: str) -> str:
    keys = set(row)
    if "formal_statement" in keys or ("lean" in keys and "theorem" in str(row.get("lean", ""))):
        return "minif2f"
    if {"prompt", "test", "entry_point"} <= keys:
        return "humaneval"
    if "test_list" in keys:
        return "mbpp"
    if "problem" in keys and ("solution" in keys or "answer" in keys):
        return "math"
    if "question" in keys and "answer" in keys:
        return "gsm8k" if "####" in str(row["answer"]) else "qa"
    if "prompt" in keys and "answer" in keys:
        return "qa"
    if "text" in keys:
        return "text"
    raise UserError(
        f"{path}: rows have fields {', '.join(sorted(keys)[:8])}; expected GSM8K (question, answer), MATH "
        "(problem, solution), HumanEval (prompt, test, entry_point), MBPP (text, test_list), miniF2F "
        "(formal_statement), prompt/answer, or text")


def benchmark_name(path: str) -> str:
    """'gsm8k/test.jsonl' -> 'gsm8k_test'; 'mbpp/mbpp.jsonl' -> 'mbpp'."""
    base = storage.basename(path.rstrip("/"))
    stem = re.sub(r"\.(jsonl|json|ndjson|parquet)(\.gz)?$", "", base)
    if stem.lower() in _GENERIC_STEMS:
        stem = f"{storage.basename(storage.parent(path))}_{stem}"
    return re.sub(r"[^0-9A-Za-z_.-]+", "_", stem)


def parse_spec(spec: str) -> tuple[str, str]:
    """'NAME=PATH' or 'PATH' -> (name, path)."""
    if "=" in spec and not os.path.exists(spec):
        name, path = spec.split("=", 1)
        if re.fullmatch(r"[0-9A-Za-z_.-]+", name):
            return name, path
    return benchmark_name(spec), spec


def _rows(path: str) -> list[dict]:
    if storage.is_dir(path):
        source = datasets.resolve_input(path)
        return list(datasets.iter_source_rows(source))
    if not storage.exists(path):
        raise UserError(f"{path}: no such benchmark file")
    if path.endswith(".parquet"):
        return list(datasets.iter_file_rows(path, "parquet"))
    if re.search(r"\.(jsonl|json|ndjson)(\.gz)?$", path):
        return list(datasets.iter_jsonl(path))
    raise UserError(f"{path}: not a JSONL, JSON-lines, Parquet file or dataset")


def load_benchmark(spec: str, split: str | None = "test") -> Benchmark:
    name, path = parse_spec(spec)
    rows = _rows(path)
    if not rows:
        raise UserError(f"{path}: no rows")
    kind = detect_kind(rows[0], path)
    few_shot: list[Item] = []
    if kind == "mbpp":
        ids = {int(r["task_id"]) for r in rows if str(r.get("task_id", "")).isdigit()}
        if set(MBPP_TEST) <= ids and set(MBPP_PROMPT_IDS) <= ids:
            few_shot = [_item(kind, r, i) for i, r in enumerate(rows) if int(r["task_id"]) in MBPP_PROMPT_IDS]
            rows = [r for r in rows if int(r["task_id"]) in MBPP_TEST]
    if kind == "minif2f" and split and any(r.get("split") == split for r in rows):
        rows = [r for r in rows if r.get("split") == split]
    items = []
    for i, row in enumerate(rows):
        if detect_kind(row, path) != kind:
            raise UserError(f"{path}: row {i + 1} is not a {kind} row like the first one")
        items.append(_item(kind, row, i))
    return Benchmark(name, path, kind, items, few_shot)


def reference_text(row: dict) -> str:
    """The text bits per byte are measured on, for one row of any supported format."""
    return _item(detect_kind(row, "row"), row, 0).reference_text


def strip_calculator(solution: str) -> str:
    """GSM8K solutions mark calculator calls as <<48/2=24>>; they are not part of the text."""
    return re.sub(r"<<[^<>]*>>", "", solution)


def _id(row: dict, index: int) -> str:
    for key in ("task_id", "unique_id", "id", "name", "idx"):
        if row.get(key) not in (None, ""):
            return str(row[key])
    return str(index)


def _item(kind: str, row: dict, index: int) -> Item:
    from evaluation.answers import gsm8k_reference, math_reference

    item_id = _id(row, index)
    if kind == "gsm8k":
        return Item(item_id, f"{row['question']}\n{strip_calculator(row['answer'])}", row["question"],
                    gsm8k_reference(row["answer"]), row)
    if kind == "math":
        solution = row.get("solution") or row.get("answer") or ""
        return Item(item_id, f"{row['problem']}\n{solution}", row["problem"], math_reference(row), row)
    if kind == "humaneval":
        return Item(item_id, row["prompt"] + (row.get("canonical_solution") or ""), row["prompt"], None, row)
    if kind == "mbpp":
        code = (row.get("code") or "").replace("\r\n", "\n")
        return Item(item_id, f"{row['text']}\n{code}", row["text"], None, row)
    if kind == "minif2f":
        statement = minif2f_statement(row)
        return Item(item_id, (row.get("informal_prefix") or "") + statement, statement, None, row)
    if kind == "qa":
        prompt = str(row.get("prompt", row.get("question", "")))
        return Item(item_id, f"{prompt}\n{row['answer']}", prompt, str(row["answer"]), row)
    return Item(item_id, str(row.get("text") or ""), "", None, row)


def minif2f_statement(row: dict) -> str:
    """The theorem up to `:= by`, without the header: DeepSeek-Prover's `formal_statement`, or the
    yangky11 file's text after its imports with the final `sorry` taken off."""
    if row.get("formal_statement"):
        return row["formal_statement"]
    from formal.header import split_header

    _, body = split_header(row["lean"])
    return re.sub(r"\s*sorry\s*$", "\n", body)


def minif2f_header(row: dict) -> str:
    if row.get("formal_statement") is not None:
        return row.get("header") or ""
    from formal.header import split_header

    return split_header(row["lean"])[0]
