"""Rule-based rewards (DeepSeek-R1: accuracy and format; DeepSeek-Prover-V1.5: the verifier's verdict).

Each reward scores an output (its text, already cut at the task's stop strings) against its task
(posttrain.tasks.Task) with a number in [0, 1]:

    math    1 when the final answer equals the reference, as `deepcorpus eval` decides it
            (evaluation.answers): the last <answer>...</answer> if there is one (a \\boxed{} inside
            it wins), else the completion's boxed / "the answer is" / last number; compared by
            `math_equal` (normalised LaTeX, exact fractions, sympy)
    format  1 when the output is R1's format: exactly one <think>...</think> and then exactly one
            <answer>...</answer>, nothing else but white space (a prompt ending in "<think>" counts
            as its opening tag)
    lean    1 when the Lean verifier (formal/'s runner) accepts the whole proof: no error, no sorry
            (Prover-V1.5's RLPAF); the statement is the task's `formal_statement` (with `header`),
            else the Lean code block the prompt ends in; the proof ends at the closing ```
    code    1 when the program passes its tests in eval's sandbox (evaluation.sandbox): HumanEval's
            prompt + output + check(entry_point), MBPP's code + test_list, or the output's last
            ```python block (else all of it) followed by `tests`

A weighted sum is written `math+0.5*format` (weights default to 1). `accuracy` in the metrics is
the share of outputs whose task reward (math, lean or code) is 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deepcorpus.core.errors import UserError

REWARDS = ("math", "format", "lean", "code")
TASK_REWARDS = ("math", "lean", "code")  # what `accuracy` counts

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)
_FORMAT = re.compile(r"\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*", re.S)
_PY_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


# --- the rewards, one output at a time -------------------------------------------------------------


def final_answer(completion: str) -> str | None:
    """The answer an output ends on: its last <answer> block, else what eval extracts from it."""
    from evaluation.answers import extract_math_answer, extract_number, last_boxed

    tagged = _ANSWER.findall(completion)
    if tagged:
        inner = tagged[-1].strip()
        boxed = last_boxed(inner)
        return boxed if boxed is not None else inner
    found = extract_math_answer(completion)
    return found if found is not None else extract_number(completion)


def math_reward(completion: str, reference: str | None) -> float:
    from evaluation.answers import math_equal

    if reference is None:
        return 0.0
    return 1.0 if math_equal(final_answer(completion), reference)[0] else 0.0


def format_reward(completion: str, prompt: str = "") -> float:
    text = completion
    if prompt.rstrip().endswith("<think>") and "<think>" not in completion:
        text = "<think>" + completion
    if not _FORMAT.fullmatch(text):
        return 0.0
    once = all(text.count(tag) == 1 for tag in ("<think>", "</think>", "<answer>", "</answer>"))
    return 1.0 if once else 0.0


def python_code(completion: str) -> str:
    """The last ```python block of an output, else the whole output."""
    blocks = _PY_BLOCK.findall(completion)
    return blocks[-1] if blocks else completion


def code_program(task, completion: str) -> str:
    from evaluation.benchmarks import Item
    from evaluation.code_tasks import humaneval_program, mbpp_program

    row = task.row
    item = Item("", "", "", None, row)
    if {"test", "entry_point"} <= set(row) and task.kind == "humaneval":
        return humaneval_program(item, completion)
    if row.get("test_list"):
        return mbpp_program(item, python_code(completion))
    tests = row.get("tests") or row.get("test")
    if isinstance(tests, list):
        tests = "\n".join(tests)
    return f"{python_code(completion).strip()}\n\n{tests}\n"


def lean_code(task, completion: str) -> tuple[str, str]:
    """(header, code) to verify: the statement with the output as its proof."""
    from formal.header import split_header

    proof = completion.split("```")[0].rstrip() + "\n"
    row = task.row
    if row.get("formal_statement"):
        statement = row["formal_statement"].rstrip()
        if statement.endswith((":=", " by")):  # miniF2F's `... := by`: the output is the tactics (as eval checks it)
            return row.get("header") or "", statement + "\n" + proof
        return row.get("header") or "", statement + " := " + proof.lstrip()
    prompt = task.prompt or ""
    start = prompt.rfind("```lean4\n")
    if start < 0:
        start = prompt.rfind("```lean\n")
    code = prompt[prompt.index("\n", start) + 1:] if start >= 0 else prompt
    return split_header(code + proof)


# --- the reward of a run ---------------------------------------------------------------------------


def parse_reward(spec: str) -> list[tuple[float, str]]:
    """'math+0.5*format' -> [(1.0, 'math'), (0.5, 'format')]."""
    terms = []
    for part in str(spec).replace(" ", "").split("+"):
        weight, _, name = part.rpartition("*")
        if name not in REWARDS:
            raise UserError(f"--reward {spec}: {name or part!r} is not a reward; choose from {', '.join(REWARDS)}, "
                            "or a weighted sum such as 'math+0.5*format'")
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise UserError(f"--reward {spec}: {weight!r} is not a number") from None
        if w < 0:
            raise UserError(f"--reward {spec}: weights must not be negative")
        terms.append((w, name))
    if len({n for _, n in terms}) != len(terms):
        raise UserError(f"--reward {spec}: a reward appears twice")
    return terms


@dataclass
class RewardSettings:
    lean: object = None  # formal.backends.LeanConfig
    lean_timeout_s: float = 60.0
    code_timeout_s: float = 10.0
    workers: int = 4


@dataclass
class Scores:
    total: list[float]
    parts: dict[str, list[float]] = field(default_factory=dict)

    def accuracy(self) -> list[float] | None:
        task = [n for n in self.parts if n in TASK_REWARDS]
        if not task:
            return None
        return [1.0 if all(self.parts[n][i] == 1.0 for n in task) else 0.0 for i in range(len(self.total))]


class Reward:
    """The run's reward: `score(tasks, prompts, completions)` for a whole rollout batch at once (the
    Lean runner and the sandbox check their share concurrently)."""

    def __init__(self, spec: str, settings: RewardSettings | None = None):
        self.terms = parse_reward(spec)
        self.settings = settings or RewardSettings()
        self._verifier = None

    @property
    def names(self) -> list[str]:
        return [n for _, n in self.terms]

    def check(self, task, where: str) -> None:
        """Refuse a task the reward cannot score (before any rollout)."""
        row = task.row
        for name in self.names:
            if name == "math" and task.answer is None:
                raise UserError(f"{where}: the math reward needs a reference `answer`")
            if name == "code" and not (row.get("tests") or row.get("test_list") or row.get("test")):
                raise UserError(f"{where}: the code reward needs `tests` (or MBPP's test_list, HumanEval's test)")
            if name == "lean" and not (row.get("formal_statement") or "```lean" in (task.prompt or "")):
                raise UserError(f"{where}: the lean reward needs `formal_statement`, or a prompt ending in a "
                                "```lean4 block")

    def start(self) -> None:
        """Start what the rewards need (the Lean runner), so a missing one fails before training."""
        if "lean" in self.names and self._verifier is None:
            from formal.backends import NoLeanRunner, detect

            try:
                self._verifier = detect(self.settings.lean)
            except NoLeanRunner as e:
                raise UserError(f"--reward lean: {e}") from None

    def close(self) -> None:
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None

    def score(self, tasks: list, prompts: list[str], completions: list[str]) -> Scores:
        parts = {}
        for _, name in self.terms:
            if name == "math":
                parts[name] = [math_reward(c, t.answer) for t, c in zip(tasks, completions)]
            elif name == "format":
                parts[name] = [format_reward(c, p) for p, c in zip(prompts, completions)]
            elif name == "code":
                parts[name] = self._code(tasks, completions)
            elif name == "lean":
                parts[name] = self._lean(tasks, completions)
        total = [sum(w * parts[n][i] for w, n in self.terms) for i in range(len(completions))]
        return Scores(total, parts)

    def _code(self, tasks, completions) -> list[float]:
        from evaluation.code_tasks import run_programs
        from evaluation.sandbox import SandboxConfig

        programs = [code_program(t, c) for t, c in zip(tasks, completions)]
        results = run_programs(programs, SandboxConfig(timeout_s=self.settings.code_timeout_s), self.settings.workers)
        return [1.0 if r.passed else 0.0 for r in results]

    def _lean(self, tasks, completions) -> list[float]:
        from formal.results import VerifyRequest

        self.start()
        requests = []
        for i, (t, c) in enumerate(zip(tasks, completions)):
            header, code = lean_code(t, c)
            requests.append(VerifyRequest(code=code, header=header, timeout_s=self.settings.lean_timeout_s, id=str(i)))
        results = self._verifier.verify(requests)
        return [1.0 if r.verified else 0.0 for r in results]


def build_reward(cfg) -> Reward:
    from formal.backends import LeanConfig

    lean = LeanConfig(backend=cfg.lean_backend, lean_server=cfg.lean_server, repl_command=cfg.repl_command,
                      lean_project=cfg.lean_project, workers=cfg.reward_workers)
    return Reward(cfg.reward, RewardSettings(lean, cfg.lean_timeout, cfg.code_timeout, cfg.reward_workers))
