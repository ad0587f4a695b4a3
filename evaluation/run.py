"""`deepcorpus eval`: score a checkpoint (ours or a Hugging Face directory) on benchmark files.

    results = evaluate("runs/tiny", ["gsm8k/test.jsonl", "math/math500_test.jsonl"], "out/eval", EvalConfig())

For every benchmark: bits per byte of its reference texts, and where the kind allows, generation
(few-shot chain of thought for math, pass@k in the sandbox for code, Lean for miniF2F). Writes
OUTPUT/results.json (every score with its number of items and 95% interval) and OUTPUT/items/ (an
eval_item dataset: `deepcorpus inspect OUTPUT/items`). Benchmarks finished before an interruption
are kept under OUTPUT/partial/ and not redone by the same command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field

from deepcorpus.core import datasets, storage
from deepcorpus.core.contracts import EVAL_ITEM
from deepcorpus.core.errors import UserError
from evaluation import answers, stats
from evaluation.benchmarks import CODE_KINDS, GENERATIVE, Benchmark, Item, load_benchmark
from evaluation.bpb import score_texts
from evaluation.code_tasks import program_for, run_programs, truncate
from evaluation.formal_tasks import UNVERIFIED, proof_request, verify_proofs
from evaluation.prompts import few_shot_blocks, question_block
from evaluation.sandbox import SandboxConfig, describe_layers
from formal.backends import LeanConfig

log = logging.getLogger("eval")

RESULTS = "results.json"
ITEMS = "items"
PARTIAL = "partial"
METRICS = ("bpb", "generate")
DEFAULT_SHOTS = {"gsm8k": 8, "qa": 8, "math": 4, "mbpp": 3, "humaneval": 0, "minif2f": 0}
DEFAULT_MAX_NEW = {"gsm8k": 256, "qa": 256, "math": 512, "humaneval": 384, "mbpp": 384, "minif2f": 512}
RESULTS_KIND = "deepcorpus-eval"


@dataclass
class EvalConfig:
    metrics: tuple = METRICS  # bpb, generate
    limit: int | None = None  # first N items of each benchmark
    split: str | None = "test"  # for files with a split field (miniF2F)
    shots: int | None = None  # few-shot examples (default per kind: GSM8K 8, MATH 4, MBPP 3)
    few_shot: list = field(default_factory=list)  # files whose first rows are the exemplars, matched by kind
    max_new_tokens: int | None = None  # default per kind (GSM8K 256, MATH 512, code 384, miniF2F 512)
    temperature: float = 0.0  # 0: greedy
    top_p: float = 0.95
    samples: int = 1  # completions per item (pass@k needs samples >= k)
    k: tuple = (1,)
    batch_size: int = 16  # prompts generated together
    seed: int = 0
    workers: int = 4  # sandboxes (or Lean requests) at once
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    lean: LeanConfig = field(default_factory=LeanConfig)
    lean_timeout_s: float = 300.0
    device: str | None = None
    tokenizer: str | None = None

    def validate(self) -> EvalConfig:
        unknown = set(self.metrics) - set(METRICS)
        if unknown or not self.metrics:
            raise UserError(f"--metrics takes {', '.join(METRICS)} (got {', '.join(self.metrics) or 'nothing'})")
        if self.samples < 1 or self.batch_size < 1 or self.workers < 1:
            raise UserError("--samples, --batch-size and --workers must be at least 1")
        if max(self.k) > self.samples:
            raise UserError(f"pass@{max(self.k)} needs --samples {max(self.k)} or more (got {self.samples})")
        if self.samples > 1 and self.temperature <= 0:
            raise UserError("--samples above 1 needs --temperature above 0 (greedy samples are all the same)")
        if self.limit is not None and self.limit < 1:
            raise UserError("--limit must be at least 1")
        return self

    def key_fields(self) -> dict:
        """What a benchmark's result depends on (not where or how fast it runs)."""
        d = dataclasses.asdict(self)
        for name in ("workers", "device", "batch_size"):
            d.pop(name)
        d["sandbox"].pop("python", None)
        return d


def evaluate(model_path: str, specs: list[str], output: str, config: EvalConfig | None = None,
             command: list[str] | None = None) -> dict:
    from evaluation.models import open_model

    config = (config or EvalConfig()).validate()
    _check_output(output)
    benchmarks = [load_benchmark(s, config.split).limit(config.limit) for s in specs]
    names = [b.name for b in benchmarks]
    if len(set(names)) != len(names):
        raise UserError(f"two benchmarks are both named {next(n for n in names if names.count(n) > 1)!r}; "
                        "name them with --benchmark NAME=PATH")
    exemplars = _few_shot_files(config)
    started = time.time()
    with _cpu_threads(config.device):
        lm = open_model(model_path, device=config.device, tokenizer=config.tokenizer)
        return _evaluate(lm, model_path, benchmarks, output, config, exemplars, started, command)


def _evaluate(lm, model_path, benchmarks, output, config, exemplars, started, command) -> dict:
    model_info = lm.describe()
    log.info("model: %s (%s), context %d tokens", model_path, lm.kind, lm.max_len)
    os.makedirs(os.path.join(output, PARTIAL), exist_ok=True)
    summaries, all_rows = {}, []
    for bench in benchmarks:
        key = _benchmark_key(bench, config, model_info)
        done = _load_partial(output, bench.name, key)
        if done is not None:
            log.info("%s: already evaluated by this command (%s), kept", bench.name, _partial_path(output, bench.name))
            summary, rows = done
        else:
            t0 = time.time()
            summary, rows = evaluate_benchmark(lm, bench, config, exemplars.get(bench.kind, []))
            summary["elapsed_s"] = round(time.time() - t0, 2)
            _save_partial(output, bench.name, key, summary, rows)
        summaries[bench.name] = summary
        all_rows += rows
    results = {
        "kind": RESULTS_KIND,
        "model": model_path,
        "model_info": model_info,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "code_version": datasets.code_version(),
        "config": config.key_fields(),
        "benchmarks": summaries,
        "elapsed_s": round(time.time() - started, 2),
    }
    with datasets.DatasetWriter(os.path.join(output, ITEMS), EVAL_ITEM, inputs=[b.path for b in benchmarks
                                                                                  if os.path.isfile(b.path)],
                             command=command) as w:
        w.write_rows(all_rows)
        w.extra["model"] = model_path
    storage.write_bytes_atomic(os.path.join(output, RESULTS), json.dumps(results, indent=2, default=str).encode())
    shutil.rmtree(os.path.join(output, PARTIAL), ignore_errors=True)
    print(summary_table(results))
    print(f"\nwrote {os.path.join(output, RESULTS)} and {os.path.join(output, ITEMS)} "
          f"({len(all_rows):,} rows: deepcorpus inspect {os.path.join(output, ITEMS)} \"SELECT * FROM evals_by_benchmark\")")
    return results


@contextlib.contextmanager
def _cpu_threads(device: str | None):
    """Small models lose far more to spinning intra-op threads on shared cores than they gain, so on the
    CPU the evaluation takes half the cores (as the trainer does) unless OMP_NUM_THREADS says otherwise."""
    import torch

    before = torch.get_num_threads()
    on_cpu = device == "cpu" or (device is None and not torch.cuda.is_available())
    if on_cpu and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def evaluate_benchmark(lm, bench: Benchmark, config: EvalConfig, file_exemplars: list[Item]) -> tuple[dict, list[dict]]:
    summary: dict = {"kind": bench.kind, "path": bench.path, "items": len(bench.items), "scores": {}}
    rows: list[dict] = []
    if "bpb" in config.metrics:
        t0 = time.time()
        scored = score_texts(lm, [it.reference_text for it in bench.items])
        rows += [_row(bench, it, "bpb", reference=it.reference_text, bits=s.bits, bytes=s.bytes, tokens=s.tokens)
                 for it, s in zip(bench.items, scored)]
        summary["scores"]["bpb"] = stats.bits_per_byte([s.bits for s in scored], [s.bytes for s in scored])
        log.info("%s: bits per byte %.4f over %d items (%.1fs)", bench.name, summary["scores"]["bpb"]["value"] or 0,
                 len(bench.items), time.time() - t0)
    if "generate" in config.metrics and bench.kind in GENERATIVE:
        gen_summary, gen_rows = _generation(lm, bench, config, file_exemplars)
        summary.update({k: v for k, v in gen_summary.items() if k != "scores"})
        summary["scores"].update(gen_summary["scores"])
        rows += gen_rows
    return summary, rows


# --- generation ----------------------------------------------------------------------------------


def build_prompt(lm, shots: list[str], block: str, max_new: int) -> tuple[list[int], int]:
    """The prompt's ids with as many of `shots` as fit beside `max_new` new tokens (the end is kept
    when even none fit), and the number of shots used."""
    budget = lm.max_len - max_new - len(lm.start_ids)
    for k in range(len(shots), -1, -1):
        ids = lm.encode("".join(shots[:k]) + block)
        if len(ids) <= budget or k == 0:
            return lm.start_ids + ids[-budget:], k
    raise AssertionError("unreachable")


def _generation(lm, bench: Benchmark, config: EvalConfig, file_exemplars: list[Item]) -> tuple[dict, list[dict]]:
    kind = bench.kind
    shots = few_shot_blocks(kind, file_exemplars, bench.few_shot)
    n_shots = DEFAULT_SHOTS[kind] if config.shots is None else config.shots
    shots = shots[:n_shots]
    max_new = min(config.max_new_tokens or DEFAULT_MAX_NEW[kind], lm.max_len // 2)
    prompts, stops, used = [], [], []
    for it in bench.items:
        block, stop = question_block(kind, it)
        ids, k = build_prompt(lm, shots, block, max_new)
        prompts.append(ids)
        stops.append(stop)
        used.append(k)
    t0 = time.time()
    completions = generate_all(lm, prompts, max_new, config, bench.name)
    texts = [[truncate(lm.decode(c), stops[i]) for c in samples] for i, samples in enumerate(completions)]
    log.info("%s: generated %d x %d completions (%.1fs)", bench.name, len(texts), config.samples, time.time() - t0)
    summary: dict = {"shots": max(used) if used else 0, "shots_min": min(used) if used else 0,
                     "max_new_tokens": max_new, "samples": config.samples, "temperature": config.temperature,
                     "scores": {}}
    if kind in CODE_KINDS:
        verdicts, runner = _judge_code(kind, bench.items, texts, config)
        summary["sandbox"] = runner
    elif kind == "minif2f":
        verdicts, runner = _judge_proofs(bench.items, texts, config)
        summary["lean"] = runner
    else:
        verdicts = [[_judge_answer(kind, it, t) for t in samples] for it, samples in zip(bench.items, texts)]
        summary["comparison"] = _comparisons(verdicts)
    rows = []
    for it, samples, judged in zip(bench.items, texts, verdicts):
        for s, (text, v) in enumerate(zip(samples, judged)):
            rows.append(_row(bench, it, "generate", sample=s, prompt=it.prompt, output=text, extracted=v.get("extracted"),
                             reference=it.answer, correct=v["correct"], status=v["status"], detail=v.get("detail")))
    summary["scores"].update(_generation_scores(kind, verdicts, config))
    return summary, rows


def generate_all(lm, prompts: list[list[int]], max_new: int, config: EvalConfig, name: str) -> list[list[list[int]]]:
    """config.samples completions per prompt, batched by length, sampled reproducibly from config.seed."""
    jobs = [(i, s) for i in range(len(prompts)) for s in range(config.samples)]
    jobs.sort(key=lambda j: len(prompts[j[0]]))
    out: list[list[list[int]]] = [[[] for _ in range(config.samples)] for _ in prompts]
    last_log = time.time()
    for b in range(0, len(jobs), config.batch_size):
        batch = jobs[b:b + config.batch_size]
        new = lm.generate([prompts[i] for i, _ in batch], max_new, temperature=config.temperature,
                          top_p=config.top_p, seed=config.seed + b)
        for (i, s), ids in zip(batch, new):
            out[i][s] = ids
        if time.time() - last_log > 30:
            log.info("%s: %d/%d completions", name, b + len(batch), len(jobs))
            last_log = time.time()
    return out


def _judge_answer(kind: str, item: Item, text: str) -> dict:
    ref = item.answer
    if kind == "math":
        extracted = answers.extract_math_answer(text)
        ok, how = answers.math_equal(extracted, ref)
    elif answers.normalize_number(ref or "") is not None and kind in ("gsm8k", "qa"):
        extracted = answers.extract_number(text)
        ok, how = answers.numbers_equal(extracted, answers.normalize_number(ref)), "numeric"
    else:
        extracted = answers.extract_math_answer(text) or (text.strip().split("\n")[0] if text.strip() else None)
        ok, how = answers.math_equal(extracted, ref)
    return {"extracted": extracted, "correct": ok, "status": "correct" if ok else "wrong", "detail": how}


def _comparisons(verdicts: list[list[dict]]) -> dict:
    """How many correct answers each comparison decided (string, numeric, sympy)."""
    out: dict[str, int] = {}
    for judged in verdicts:
        for v in judged:
            if v["correct"]:
                out[v["detail"]] = out.get(v["detail"], 0) + 1
    return out


def _judge_code(kind, items, texts, config) -> tuple[list[list[dict]], str]:
    programs = [program_for(kind, it, t) for it, samples in zip(items, texts) for t in samples]
    results = run_programs(programs, config.sandbox, config.workers)
    it = iter(results)
    verdicts = []
    for samples in texts:
        judged = []
        for _ in samples:
            r = next(it)
            detail = (r.stderr.strip().splitlines() or [""])[-1][:300] if not r.passed else ""
            judged.append({"correct": r.passed, "status": r.status, "detail": detail})
        verdicts.append(judged)
    layers = next((r.layers for r in results if r.layers), {})
    return verdicts, describe_layers(layers)


def _judge_proofs(items, texts, config) -> tuple[list[list[dict]], str]:
    requests = [proof_request(it, t, config.lean_timeout_s, f"{it.id}#{s}")
                for it, samples in zip(items, texts) for s, t in enumerate(samples)]
    lean = dataclasses.replace(config.lean, workers=max(config.lean.workers, config.workers))
    results, runner = verify_proofs(requests, lean)
    it = iter(results)
    verdicts = []
    for samples in texts:
        judged = []
        for _ in samples:
            status, detail = next(it)
            judged.append({"correct": None if status == UNVERIFIED else status == "verified",
                           "status": status, "detail": detail})
        verdicts.append(judged)
    return verdicts, runner


def _generation_scores(kind: str, verdicts: list[list[dict]], config: EvalConfig) -> dict:
    if any(v["status"] == UNVERIFIED for judged in verdicts for v in judged):
        reason = next(v["detail"] for judged in verdicts for v in judged if v["status"] == UNVERIFIED)
        return {f"pass@{k}": stats.score(None, len(verdicts), None, None, status=UNVERIFIED, reason=reason)
                for k in config.k}
    correct = [sum(bool(v["correct"]) for v in judged) for judged in verdicts]
    if kind not in CODE_KINDS and kind != "minif2f" and config.samples == 1:
        return {"accuracy": stats.wilson(sum(correct), len(correct))}
    return {f"pass@{k}": stats.pass_at_k_score(correct, config.samples, k) for k in config.k}


# --- rows, resume, the summary -------------------------------------------------------------------


def _row(bench: Benchmark, item: Item, task: str, **values) -> dict:
    return {"benchmark": bench.name, "kind": bench.kind, "item_id": item.id, "task": task, **values}


def _few_shot_files(config: EvalConfig) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {}
    for path in config.few_shot:
        bench = load_benchmark(path, split=None)
        out.setdefault(bench.kind, []).extend(bench.items)
    return out


def _check_output(output: str) -> None:
    if storage.is_remote(output):
        raise UserError(f"{output}: the output directory must be local")
    if os.path.isfile(output):
        raise UserError(f"{output}: is a file; --output takes a directory")
    if os.path.isdir(output) and os.listdir(output):
        ours = {RESULTS, ITEMS, PARTIAL, "ablation_key.json"}
        if not ours & set(os.listdir(output)):
            raise UserError(f"{output}: not empty and not an evaluation's output; choose another --output")


def _benchmark_key(bench: Benchmark, config: EvalConfig, model_info: dict) -> str:
    blob = json.dumps({"benchmark": [bench.name, bench.path, bench.kind, len(bench.items),
                                     datasets.fingerprint_files([bench.path]) if os.path.isfile(bench.path) else ""],
                       "config": config.key_fields(), "model": model_info}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _partial_path(output: str, name: str) -> str:
    return os.path.join(output, PARTIAL, f"{name}.json")


def _load_partial(output: str, name: str, key: str):
    try:
        with open(_partial_path(output, name)) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    return (data["summary"], data["rows"]) if data.get("key") == key else None


def _save_partial(output: str, name: str, key: str, summary: dict, rows: list[dict]) -> None:
    data = {"key": key, "summary": summary, "rows": rows}
    storage.write_bytes_atomic(_partial_path(output, name), json.dumps(data, default=str).encode())


def format_score(s: dict | None) -> str:
    if not s:
        return ""
    if s.get("value") is None:
        return s.get("status") or "n/a"
    ci = s.get("ci95") or [None, None]
    if ci[0] is None:
        return f"{s['value']:.4f}"
    return f"{s['value']:.4f} [{ci[0]:.4f}, {ci[1]:.4f}]"


def summary_table(results: dict) -> str:
    rows = [("benchmark", "kind", "items", "metric", "score [95% CI]")]
    for name, b in results["benchmarks"].items():
        for metric, s in b["scores"].items():
            rows.append((name, b["kind"], str(s.get("n", b["items"])), metric, format_score(s)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
