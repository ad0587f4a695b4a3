"""HumanEval and MBPP: a completion becomes a program with the benchmark's tests, run in the sandbox.

HumanEval: prompt + completion + the `check` function of `test`, then `check(entry_point)`.
MBPP: completion + `test_setup_code` + the asserts of `test_list`.
A program passes when it exits with status 0 within the sandbox's limits.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from evaluation.benchmarks import Item
from evaluation.sandbox import ExecResult, SandboxConfig, run_python


def truncate(completion: str, stops: list[str]) -> str:
    """The completion up to the first stop string."""
    cut = len(completion)
    for stop in stops:
        i = completion.find(stop)
        if i >= 0:
            cut = min(cut, i)
    return completion[:cut]


def humaneval_program(item: Item, completion: str) -> str:
    row = item.row
    return f"{row['prompt']}{completion}\n\n{row['test']}\n\ncheck({row['entry_point']})\n"


def mbpp_program(item: Item, completion: str) -> str:
    row = item.row
    setup = row.get("test_setup_code") or ""
    tests = "\n".join(row["test_list"])
    return f"{completion.strip()}\n\n{setup}\n{tests}\n"


def program_for(kind: str, item: Item, completion: str) -> str:
    return humaneval_program(item, completion) if kind == "humaneval" else mbpp_program(item, completion)


def run_programs(programs: list[str], config: SandboxConfig, workers: int = 4) -> list[ExecResult]:
    """Each program in its own sandbox, `workers` at a time; results in order."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda p: run_python(p, config), programs))
