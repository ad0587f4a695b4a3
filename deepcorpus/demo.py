"""The demo: every stage, end to end, on the bundled samples, as the commands a user would type.

Each step is a `deepcorpus` command line run in-process; the demo prints each one before running
it, so the output doubles as a tutorial. It ends with a table of what each step wrote, the report,
and the DuckDB command to type next.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time

from deepcorpus import samples
from deepcorpus.core.command import command_parser, output_dir, positive_int
from deepcorpus.core.errors import UserError

DEFAULT_TRAIN_STEPS = 80


def demo_steps(out: str, train_steps: int) -> list[tuple[str, list[str], str]]:
    """(name, argv, the dataset or file it writes) for each step, in order."""
    s = samples.path
    math_bench = s("benchmarks", "math_benchmark.jsonl")
    code_bench = s("benchmarks", "code_benchmark.jsonl")
    corpora = [f"{out}/math/corpus", f"{out}/code/corpus", f"{out}/formal/corpus"]
    return [
        ("math", ["math", "run", "--input", s("crawl", "*.warc.gz"), "--seed", s("math_seed.jsonl"),
                  "--output", f"{out}/math", "--iterations", "2", "--benchmark", math_bench,
                  "--auto-approve", "0.6"], f"{out}/math/corpus"),
        # The standalone near-dedup over the finished math corpus: a check that the run left no near-copies.
        ("dedup", ["dedup", "minhash", "--input", f"{out}/math/corpus", "--output", f"{out}/math_dedup",
                   "--removed", f"{out}/math_near_dups"], f"{out}/math_dedup"),
        ("code", ["code", "run", "--input", s("repos"), "--output", f"{out}/code",
                  "--benchmark", code_bench], f"{out}/code/corpus"),
        ("formal", ["formal", "run", "--generator", "template", "--count", "60",
                    "--problems", s("problems.jsonl"), "--output", f"{out}/formal"], f"{out}/formal/corpus"),
        ("tokenizer", ["tokenize", "train-tokenizer", "--input", *corpora, "--vocab-size", "2048",
                       "--output", f"{out}/tokenizer.json"], f"{out}/tokenizer.json"),
        ("tokens", ["tokenize", "run", "--input", *corpora, "--tokenizer", f"{out}/tokenizer.json",
                    "--seq-len", "128", "--output", f"{out}/tokens"], f"{out}/tokens"),
        ("train", ["train", "--preset", "tiny", "--data", f"{out}/tokens", "--steps", str(train_steps),
                   "--output", f"{out}/runs/tiny"], f"{out}/runs/tiny"),
        # The same run's first steps in FP8 (DeepSeek-V3's fine-grained recipe); the reference kernels
        # run anywhere, `--fp8` alone needs an H100-class GPU.
        ("train-fp8", ["train", "--preset", "tiny", "--data", f"{out}/tokens", "--steps", str(max(1, train_steps // 4)),
                       "--fp8", "--fp8-backend", "reference", "--output", f"{out}/runs/tiny-fp8"], f"{out}/runs/tiny-fp8"),
        ("report", ["report", out, "--output", f"{out}/report.html"], f"{out}/report.html"),
    ]


def _describe(path: str) -> str:
    from deepcorpus.core import datasets

    if os.path.isdir(path) and os.path.exists(os.path.join(path, datasets.MANIFEST)):
        m = datasets.read_manifest(path)
        return f"{m['schema']}, {m['row_count']:,} rows"
    summary = os.path.join(path, "summary.json")
    if os.path.isdir(path) and os.path.exists(summary):  # a training run
        import json

        s = json.load(open(summary))
        if "first_loss" in s:
            return f"{s.get('steps', '?')} steps, loss {s['first_loss']:.2f} -> {s['last_loss']:.2f}"
    if os.path.isfile(path):
        return f"{os.path.getsize(path):,} bytes"
    if os.path.isdir(path):
        return f"{len(os.listdir(path))} entries"
    return "missing"


def run_demo(out: str, train_steps: int | None = None) -> int:
    from deepcorpus.cli import main

    if os.path.exists(out):
        shutil.rmtree(out)  # the demo always starts fresh, so its output is reproducible
    os.makedirs(out)
    rows = []
    for name, argv, product in demo_steps(out, train_steps or DEFAULT_TRAIN_STEPS):
        print(f"\n$ deepcorpus {shlex.join(argv)}", flush=True)
        start = time.time()
        code = main(argv)
        elapsed = time.time() - start
        if code != 0:
            raise UserError(f"demo step {name!r} failed (exit {code}); see the message above")
        rows.append((name, product, _describe(product), f"{elapsed:.1f}s"))
    print("\n== demo summary ==")
    rows.insert(0, ("step", "output", "what it holds", "time"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print(f"\nreport: {os.path.abspath(os.path.join(out, 'report.html'))}")
    print("next, look at the math corpus with DuckDB:")
    print(f"  deepcorpus inspect {out}/math/corpus \"SELECT domain, count(*) AS pages, "
          f"round(avg(score), 3) AS score FROM docs GROUP BY 1 ORDER BY pages DESC LIMIT 10\"")
    sys.stdout.flush()
    return 0


def register(sub) -> None:
    p = command_parser(sub, "demo", "Run every stage on the bundled samples, then print the summary.", [
        "deepcorpus demo --output demo-out",
    ])
    p.add_argument("--output", default="demo-out", type=output_dir, help="a fresh directory for everything the demo writes")
    p.add_argument("--steps", type=positive_int, default=None, help="training steps (default: the demo's own)")
    p.set_defaults(func=lambda args: run_demo(args.output, train_steps=args.steps))
