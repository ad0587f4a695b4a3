"""`deepcorpus eval`: the whole command, registered with the top-level parser."""

from __future__ import annotations

from deepcorpus.core.command import (
    command_parser,
    nonnegative,
    nonnegative_int,
    number,
    output_dir,
    positive,
    positive_int,
    seed,
)
from deepcorpus.core.errors import UserError


def register(sub) -> None:
    p = command_parser(sub, "eval", "Evaluate a checkpoint (ours or Hugging Face) on benchmark files: BPB, accuracy, pass@k.", [
        "deepcorpus eval runs/tiny --benchmark gsm8k/test.jsonl --benchmark math/math500_test.jsonl --output out/eval",
        "deepcorpus eval runs/small --benchmark humaneval/HumanEval.jsonl.gz --samples 10 --k 1,10 "
        "--temperature 0.8 --output out/he",
        "deepcorpus eval export/hf --benchmark web=heldout.jsonl --metrics bpb --output out/eval-hf",
        "deepcorpus eval export/hf --benchmark gsm8k/test.jsonl --lm-eval-tasks out/lm_eval_tasks",
    ])
    p.add_argument("model", metavar="RUN_DIR|HF_DIR", help="a run or checkpoint directory, or a Hugging Face model directory")
    p.add_argument("--benchmark", action="append", required=True, metavar="[NAME=]PATH",
                   help="a benchmark file (GSM8K, MATH, HumanEval, MBPP, miniF2F, prompt/answer or text JSONL/Parquet); "
                        "repeatable")
    p.add_argument("--output", type=output_dir, help="directory for results.json and the items dataset")
    p.add_argument("--metrics", default="bpb,generate", help="bpb, generate or both (default: bpb,generate)")
    p.add_argument("--limit", type=positive_int, help="evaluate the first N items of each benchmark")
    p.add_argument("--split", default="test", help="rows of this split where a file has a split field (default: test)")
    p.add_argument("--shots", type=nonnegative_int, help="few-shot examples (default: GSM8K 8, MATH 4, MBPP 3, others 0)")
    p.add_argument("--few-shot", action="append", default=[], metavar="FILE",
                   help="take the exemplars from this file's first rows (e.g. GSM8K train.jsonl), by kind")
    p.add_argument("--max-new-tokens", type=positive_int, help="tokens per completion (default per kind: 256 to 512)")
    p.add_argument("--temperature", type=nonnegative, default=0.0, help="0 is greedy (default)")
    p.add_argument("--top-p", type=number(0, 1, lo_open=True), default=0.95, help="nucleus sampling when the temperature is above 0")
    p.add_argument("--samples", type=positive_int, default=1, help="completions per item (pass@k needs at least k)")
    p.add_argument("--k", default="1", help="pass@k for these k, comma-separated (default: 1)")
    p.add_argument("--batch-size", type=positive_int, default=16, help="prompts generated together (default: 16)")
    p.add_argument("--seed", type=seed, default=0, help="sampling seed (default: 0)")
    p.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    p.add_argument("--tokenizer", help="tokenizer.json, when the run's recorded one has moved")
    g = p.add_argument_group("code sandbox (HumanEval, MBPP)")
    g.add_argument("--timeout", type=positive, default=10.0, help="seconds per program (default: 10)")
    g.add_argument("--memory-mb", type=positive_int, default=1024, help="address-space limit per program (default: 1024)")
    g.add_argument("--workers", type=positive_int, default=4, help="programs (or Lean checks) at once (default: 4)")
    g = p.add_argument_group("Lean (miniF2F)")
    g.add_argument("--lean-server", help="URL of a Kimina Lean Server (or DEEPCORPUS_LEAN_SERVER)")
    g.add_argument("--repl-command", help="command that starts the Lean REPL (default: repl on PATH)")
    g.add_argument("--lean-project", help="a Lake project (e.g. Mathlib) to run the REPL in")
    g.add_argument("--lean-timeout", type=positive, default=300.0, help="seconds per proof (default: 300)")
    p.add_argument("--lm-eval-tasks", metavar="DIR", type=output_dir,
                   help="instead of evaluating: write lm-evaluation-harness task files for the benchmarks to DIR "
                        "and print the lm_eval command")
    p.set_defaults(func=run)


def config_from(args):
    from evaluation.run import EvalConfig
    from evaluation.sandbox import SandboxConfig
    from formal.backends import LeanConfig

    try:
        k = tuple(int(x) for x in str(args.k).split(",") if x.strip())
    except ValueError:
        raise UserError(f"--k takes comma-separated integers (got {args.k!r})") from None
    if not k or min(k) < 1:
        raise UserError(f"--k takes integers of at least 1 (got {args.k!r})")
    return EvalConfig(
        metrics=tuple(m.strip() for m in args.metrics.split(",") if m.strip()), limit=args.limit, split=args.split,
        shots=args.shots, few_shot=list(args.few_shot), max_new_tokens=args.max_new_tokens,
        temperature=args.temperature, top_p=args.top_p, samples=args.samples, k=k, batch_size=args.batch_size,
        seed=args.seed, workers=args.workers, device=args.device, tokenizer=args.tokenizer,
        sandbox=SandboxConfig(timeout_s=args.timeout, memory_mb=args.memory_mb),
        lean=LeanConfig(lean_server=args.lean_server, repl_command=args.repl_command, lean_project=args.lean_project),
        lean_timeout_s=args.lean_timeout,
    )


def run(args) -> int:
    if args.lm_eval_tasks:
        from evaluation.lm_eval_tasks import write_tasks

        write_tasks(args.benchmark, args.lm_eval_tasks, model=args.model, limit=args.limit)
        return 0
    if not args.output:
        raise UserError("--output DIR is required (results.json and the items dataset go there)")
    from evaluation.run import evaluate

    evaluate(args.model, args.benchmark, args.output, config_from(args), command=args.command_line)
    return 0
