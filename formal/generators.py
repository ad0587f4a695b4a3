"""Generators: where statements, proofs and proof sketches come from.

- `template`: deterministic; the rule-based autoformalizer and statement families of
  formal/templates.py. Needs no model, so the pipeline makes real data anywhere. Its expert-iteration
  update learns which proofs and tactics work for each family and tries those first next round.
- `hf`: a local Hugging Face model directory, loaded offline with transformers (`pip install
  'deepcorpus[hf]'`).
- `checkpoint`: this project's own trained model (train.checkpoint.load_for_inference + model.generate).

The two model generators share `TextModelGenerator`: DeepSeek-Prover-style prompts to autoformalize,
grade the formalization (V1 drops "fair" and "poor"), write whole proofs, and write `have ... := by
sorry` sketches (V2). Their update keeps verified pairs as in-context examples for the next round and
the pipeline writes them as SFT data for fine-tuning.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from deepcorpus.core.errors import UserError
from deepcorpus.core.text import content_hash
from formal import templates
from formal.statements import StatementError, parse_statement

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """A statement on its way through the pipeline, with what the generator proposes for it."""

    id: str
    name: str
    informal: str
    statement: str  # `theorem NAME BINDERS : TYPE`
    header: str
    generator: str
    round: int
    family: str = ""
    proofs: list[str] = field(default_factory=list)  # generator-written proofs (text after `:=`)
    sketch: str | None = None
    quality: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> Candidate:
        return cls(**d)


def _identifier(text: str) -> str:
    name = re.sub(r"[^0-9A-Za-z_]+", "_", str(text)).strip("_") or "stmt"
    return name if name[0].isalpha() else f"p_{name}"


def candidate_id(statement: str, header: str) -> str:
    return content_hash(header.strip() + "\n" + statement.strip())[:16]


class Generator:
    name = "base"

    def formalize(self, problems: list[dict], count: int, round: int, header: str) -> tuple[list[Candidate], Counter]:
        raise NotImplementedError

    def propose(self, candidates: list[Candidate], attempts: int) -> None:
        """Fill each candidate's `proofs` (at most `attempts`) and, where it can, its `sketch`."""

    def tactic_ranking(self) -> dict[str, float]:
        return {}

    def update(self, rows: list[dict]) -> dict:
        """Learn from a finished round's rows (expert iteration); returns what it learned."""
        return {}

    def state(self) -> dict:
        return {}


class TemplateGenerator(Generator):
    name = "template"

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._next = 0  # family statements are numbered across rounds, so names stay unique
        self._proof_wins: dict[str, Counter] = defaultdict(Counter)  # family -> proof -> verified count
        self._tactic_wins: Counter = Counter()

    def formalize(self, problems, count, round, header):
        counters: Counter = Counter()
        out: list[Candidate] = []
        names: set[str] = set()
        for problem in problems:
            if len(out) >= count:
                break
            counters["problems"] += 1
            name = _identifier(f"p_{problem.get('id', len(out))}")
            while name in names:
                name += "_"
            t = templates.formalize_problem(str(problem.get("text", "")), name)
            if t is None:
                counters["dropped_unparsed"] += 1
                continue
            names.add(name)
            out.append(self._candidate(t, name, problem.get("text", ""), header, round))
            counters["from_problems"] += 1
        fill = count - len(out)
        if fill > 0:
            for t in templates.generate(fill, seed=self.seed * 1000 + round, start=self._next):
                name = parse_statement(t.statement).name
                out.append(self._candidate(t, name, t.informal, header, round))
            self._next += fill
            counters["from_families"] += fill
        counters["out"] = len(out)
        return out, counters

    def _candidate(self, t: templates.Template, name: str, informal: str, header: str, round: int) -> Candidate:
        return Candidate(candidate_id(t.statement, header), name, informal, t.statement, header, self.name, round,
                         family=t.family, proofs=list(t.proofs), sketch=t.sketch, quality=None)

    def propose(self, candidates, attempts):
        for c in candidates:
            wins = self._proof_wins.get(c.family)
            if wins:  # proofs that worked for this family before go first
                c.proofs.sort(key=lambda p: -wins.get(_proof_kind(p), 0))

    def tactic_ranking(self):
        total = sum(self._tactic_wins.values()) or 1
        return {t: n / total for t, n in self._tactic_wins.items()}

    def update(self, rows):
        learned = Counter()
        for row in rows:
            if not row.get("verified"):
                continue
            kind = _proof_kind(row["proof"])
            self._proof_wins[row.get("family") or ""][kind] += 1
            if kind != "term":
                self._tactic_wins[kind] += 1
            learned[kind] += 1
        return {"verified_pairs": sum(learned.values()), "proof_kinds": dict(learned)}

    def state(self):
        return {"proof_wins": {f: dict(c) for f, c in self._proof_wins.items()},
                "tactic_wins": dict(self._tactic_wins)}


def _proof_kind(proof: str) -> str:
    """What a proof is, for learning which kinds work: its tactic after `by`, or 'term'."""
    p = " ".join(proof.split())
    if p.startswith("by "):
        first = p[3:].split(";")[0].strip()
        return "sketch" if first.startswith("have ") else first
    return "term"


# --- model-backed generators ----------------------------------------------------------------------

GRADES = {"excellent": 1.0, "good": 0.8, "above average": 0.6, "fair": 0.4, "poor": 0.2}

FORMALIZE_PROMPT = (
    "Translate the following math problem into a Lean 4 theorem statement. Write only the statement, "
    "ending with `:= by sorry`.\n\n{examples}Problem: {informal}\n\n```lean4\n{header}\n\ntheorem {name}"
)
GRADE_PROMPT = (
    "Does the Lean 4 statement faithfully state the problem? Answer with one word: excellent, good, "
    "above average, fair or poor.\n\nProblem: {informal}\n\n```lean4\n{statement}\n```\n\nGrade:"
)
PROVE_PROMPT = "Complete the following Lean 4 code:\n\n{examples}```lean4\n{header}\n\n/-- {informal} -/\n{statement} := by\n"
SKETCH_PROMPT = (
    "Write a proof sketch of the following Lean 4 theorem: a sequence of `have hN : ... := by sorry` "
    "steps that split it into simpler subgoals, ending with a step that closes the goal.\n\n"
    "```lean4\n{header}\n\n/-- {informal} -/\n{statement} := by\n"
)


class TextModelGenerator(Generator):
    """Prompting logic shared by the hf and checkpoint generators; subclasses implement `complete`."""

    def __init__(self, min_quality: float = 0.5, max_new_tokens: int = 512, temperature: float = 1.0,
                 few_shot: int = 3):
        self.min_quality = min_quality
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.few_shot = few_shot
        self.examples: list[dict] = []  # verified pairs from earlier rounds, shown in the prompts

    def complete(self, prompts: list[str], max_new_tokens: int, temperature: float) -> list[str]:
        raise NotImplementedError

    def _examples(self, kind: str) -> str:
        shots = self.examples[-self.few_shot:] if self.few_shot else []
        if kind == "formalize":
            return "".join(f"Problem: {e['informal']}\n\n```lean4\n{e['formal_statement']} := by sorry\n```\n\n"
                           for e in shots)
        return "".join(f"```lean4\n/-- {e['informal']} -/\n{e['formal_statement']} := {e['proof']}\n```\n\n"
                       for e in shots)

    def formalize(self, problems, count, round, header):
        counters: Counter = Counter()
        problems = problems[:count]
        counters["problems"] = len(problems)
        names = [_identifier(f"p_{p.get('id', i)}") for i, p in enumerate(problems)]
        prompts = [FORMALIZE_PROMPT.format(examples=self._examples("formalize"), informal=p.get("text", ""),
                                           header=header, name=n) for p, n in zip(problems, names)]
        outs = self.complete(prompts, self.max_new_tokens, 0.0) if prompts else []
        drafted = []
        for p, name, text in zip(problems, names, outs):
            statement = f"theorem {name}" + _code(text).split(":=")[0].rstrip()
            try:
                parse_statement(statement)
            except StatementError:
                counters["dropped_unparsed"] += 1
                continue
            drafted.append((p, name, " ".join(statement.split())))
        grades = self.complete([GRADE_PROMPT.format(informal=p.get("text", ""), statement=s) for p, _, s in drafted],
                               8, 0.0) if drafted else []
        out = []
        for (p, name, statement), grade in zip(drafted, grades):
            quality = _grade(grade)
            if quality is not None and quality < self.min_quality:
                counters["dropped_low_quality"] += 1
                continue
            out.append(Candidate(candidate_id(statement, header), name, p.get("text", ""), statement, header,
                                 self.name, round, family="model", quality=quality))
        counters["out"] = len(out)
        return out, counters

    def propose(self, candidates, attempts):
        if not candidates:
            return
        prompts = []
        for c in candidates:
            prompts += [PROVE_PROMPT.format(examples=self._examples("prove"), header=c.header, informal=c.informal,
                                            statement=c.statement)] * attempts
        outs = self.complete(prompts, self.max_new_tokens, self.temperature)
        for i, c in enumerate(candidates):
            proofs = ["by\n" + _code(o).rstrip() for o in outs[i * attempts:(i + 1) * attempts] if _code(o).strip()]
            c.proofs = list(dict.fromkeys(proofs))
        sketches = self.complete([SKETCH_PROMPT.format(header=c.header, informal=c.informal, statement=c.statement)
                                  for c in candidates], self.max_new_tokens, 0.0)
        for c, s in zip(candidates, sketches):
            body = _code(s).rstrip()
            if "sorry" in body:
                c.sketch = f"{c.statement} := by\n{body}"

    def update(self, rows):
        verified = [r for r in rows if r.get("verified")]
        self.examples = (self.examples + verified)[-max(self.few_shot, 1) * 4:]
        return {"verified_pairs": len(verified), "in_context_examples": len(self.examples)}

    def state(self):
        return {"in_context_examples": len(self.examples)}


def _code(text: str) -> str:
    """The completion up to the end of its code block."""
    return text.split("```")[0]


def _grade(text: str) -> float | None:
    low = text.strip().lower()
    for word in sorted(GRADES, key=len, reverse=True):
        if low.startswith(word):
            return GRADES[word]
    return None


class HFGenerator(TextModelGenerator):
    name = "hf"

    def __init__(self, model_dir: str, **kw):
        super().__init__(**kw)
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise UserError("--generator hf needs transformers: pip install 'deepcorpus[hf]' "
                            "(transformers and safetensors), then pass --model DIR") from None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
            self.model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True, torch_dtype="auto")
        except OSError as e:
            raise UserError(f"{model_dir}: not a Hugging Face model directory ({str(e).splitlines()[0]})") from None
        import torch

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model.to(self.device).eval()
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"

    def complete(self, prompts, max_new_tokens, temperature):
        import torch

        out = []
        for i in range(0, len(prompts), 8):
            batch = self.tokenizer(prompts[i:i + 8], return_tensors="pt", padding=True).to(self.device)
            with torch.no_grad():
                ids = self.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=temperature > 0,
                                          temperature=temperature if temperature > 0 else None,
                                          pad_token_id=self.tokenizer.pad_token_id)
            out += self.tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        return out


class CheckpointGenerator(TextModelGenerator):
    name = "checkpoint"

    def __init__(self, path: str, tokenizer: str | None = None, **kw):
        super().__init__(**kw)
        try:
            from train.checkpoint import load_for_inference
        except ImportError:
            raise UserError("--generator checkpoint needs the trainer's train/checkpoint.py, "
                            "which this checkout does not have") from None
        import torch
        from tokenizers import Tokenizer

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model, self.args, tok_path = load_for_inference(path, device=self.device)
        tok_path = tokenizer or tok_path
        if not tok_path:
            raise UserError(f"{path}: the checkpoint names no tokenizer; pass --tokenizer tokenizer.json")
        self.tokenizer = Tokenizer.from_file(tok_path)
        self.eos_id = self.tokenizer.token_to_id("<｜end▁of▁sentence｜>")
        self.bos_id = self.tokenizer.token_to_id("<｜begin▁of▁sentence｜>")

    def complete(self, prompts, max_new_tokens, temperature):
        import torch

        from model import generate

        # The prompt and the completion share the model's context: keep the prompt's end.
        max_new = max(1, min(max_new_tokens, self.args.max_seq_len // 2))
        budget = self.args.max_seq_len - max_new
        out = []
        for prompt in prompts:
            ids = self.tokenizer.encode(prompt).ids
            if self.bos_id is not None:
                ids = [self.bos_id] + ids
            ids = ids[-budget:]
            with torch.no_grad():
                y = generate(self.model, torch.tensor(ids, dtype=torch.long), max_new, temperature=temperature,
                             eos_id=self.eos_id)
            new = y.tolist()[len(ids):]
            out.append(self.tokenizer.decode([t for t in new if t != self.eos_id]))
        return out


def load_generator(name: str, model: str | None = None, tokenizer: str | None = None, seed: int = 0,
                   min_quality: float = 0.5, temperature: float = 1.0) -> Generator:
    if name == "template":
        return TemplateGenerator(seed=seed)
    if name in ("hf", "checkpoint") and not model:
        raise UserError(f"--generator {name} needs --model (a {'model directory' if name == 'hf' else 'run or checkpoint directory'})")
    if name == "hf":
        return HFGenerator(model, min_quality=min_quality, temperature=temperature)
    if name == "checkpoint":
        return CheckpointGenerator(model, tokenizer=tokenizer, min_quality=min_quality, temperature=temperature)
    raise UserError(f"unknown generator {name!r}; choose template, hf or checkpoint")
