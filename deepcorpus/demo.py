"""The demo: every stage, end to end, on the bundled samples, as the commands a user would type.

Each step is a `deepcorpus` command line run in-process; the demo prints each one before running
it, so the output doubles as a tutorial. It ends with a table of what each step wrote, the data
ablation's table, the report, and the DuckDB command to type next.

The ablation (DeepSeekMath's corpus comparison, in miniature): the mined math corpus against the
same number of tokens of the crawl's pages it did not collect, one `tiny` model per arm and seed,
bits per byte on a MATH sample and on held-out pages of both kinds.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable

from deepcorpus import samples
from deepcorpus.core.command import command_parser
from deepcorpus.core.errors import UserError

DEFAULT_TRAIN_STEPS = 80
ABLATION_STEPS = 30  # ~1.3 passes over each arm's ~47k tokens: past this the tiny model memorises them
ABLATION_SEEDS = [0, 1]
# Which pages the ablation holds out for evaluation: a fixed tenth (math) or fifth (other) by id.
MATH_HELD_OUT, OTHER_HELD_OUT = "md5(id) >= 'e6'", "md5(id) >= 'cc'"


def demo_steps(out: str, train_steps: int) -> list[tuple[str, list[str] | Callable[[], list[str]], str]]:
    """(name, argv, the dataset or file it writes) for each step, in order. An argv may be a function
    called when its step comes (it reads what an earlier step wrote)."""
    s = samples.path
    math_bench = s("benchmarks", "math_benchmark.jsonl")
    code_bench = s("benchmarks", "code_benchmark.jsonl")
    corpora = [f"{out}/math/corpus", f"{out}/code/corpus", f"{out}/formal/corpus"]
    ab = f"{out}/ablation"
    # The crawl's pages the math run did not collect: its candidates minus its corpus.
    not_math = ("dataset LIKE '%candidates' AND id NOT IN (SELECT id FROM docs WHERE dataset LIKE '%corpus')")
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
        # The ablation's data: each arm's pages, and held-out pages of both kinds to evaluate on.
        ("math-pages", ["inspect", f"{out}/math/corpus", f"SELECT id, url, text FROM docs WHERE NOT ({MATH_HELD_OUT})",
                        "--format", "parquet", "--output", f"{ab}/math_pages.parquet"], f"{ab}/math_pages.parquet"),
        ("math-held-out", ["inspect", f"{out}/math/corpus", f"SELECT id, url, text FROM docs WHERE {MATH_HELD_OUT}",
                           "--format", "json", "--output", f"{ab}/math_held_out.jsonl"], f"{ab}/math_held_out.jsonl"),
        ("other-pages", ["inspect", f"{out}/math/candidates", f"{out}/math/corpus",
                         f"SELECT id, url, text FROM docs WHERE {not_math} AND NOT ({OTHER_HELD_OUT})",
                         "--format", "parquet", "--output", f"{ab}/other_pages.parquet"], f"{ab}/other_pages.parquet"),
        ("other-held-out", ["inspect", f"{out}/math/candidates", f"{out}/math/corpus",
                            f"SELECT id, url, text FROM docs WHERE {not_math} AND {OTHER_HELD_OUT}",
                            "--format", "json", "--output", f"{ab}/other_held_out.jsonl"], f"{ab}/other_held_out.jsonl"),
        ("tokens-other", ["tokenize", "run", "--input", f"{ab}/other_pages.parquet", "--tokenizer",
                          f"{out}/tokenizer.json", "--seq-len", "128", "--output", f"{ab}/tokens_other"],
         f"{ab}/tokens_other"),
        # As many math tokens as the other arm has: a one-source mixture scaled to that total.
        ("tokens-math", lambda: _math_tokens_argv(out), f"{ab}/tokens_math"),
        ("ablate", lambda: _ablate_argv(out), f"{ab}/ablation.md"),
        ("report", ["report", out, "--output", f"{out}/report.html"], f"{out}/report.html"),
    ]


def _show_file(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
    print(f"\n$ cat {path}\n{text.rstrip()}", flush=True)


def _math_tokens_argv(out: str) -> list[str]:
    from deepcorpus.core import datasets

    ab = f"{out}/ablation"
    other_tokens = datasets.read_manifest(f"{ab}/tokens_other")["num_tokens"]
    _show_file(f"{ab}/math_mixture.yaml", f"seed: 0\nsources:\n  - {{name: math, path: {ab}/math_pages.parquet, "
                                          "weight: 1.0}\n")
    return ["tokenize", "run", "--mixture", f"{ab}/math_mixture.yaml", "--total-tokens", str(other_tokens),
            "--tokenizer", f"{out}/tokenizer.json", "--seq-len", "128", "--output", f"{ab}/tokens_math"]


def _ablate_argv(out: str) -> list[str]:
    ab = f"{out}/ablation"
    config = (
        "preset: tiny\n"
        f"steps: {ABLATION_STEPS}\n"
        f"seeds: {ABLATION_SEEDS}\n"
        "train: {batch_size: 16, log_every: 30}\n"
        "arms:\n"
        f"  - {{name: math, data: {ab}/tokens_math}}\n"
        f"  - {{name: other, data: {ab}/tokens_other}}\n"
        "benchmarks:\n"
        f"  - {samples.path('benchmarks', 'math_sample.jsonl')}\n"
        f"  - math_pages={ab}/math_held_out.jsonl\n"
        f"  - other_pages={ab}/other_held_out.jsonl\n"
        "eval: {metrics: [bpb]}\n"
    )
    _show_file(f"{ab}/ablate.yaml", config)
    return ["ablate", "--config", f"{ab}/ablate.yaml", "--output", ab]


def _describe(path: str) -> str:
    from deepcorpus.core import datasets

    if path.endswith("ablation.md") and os.path.exists(path):
        import json

        with open(os.path.join(os.path.dirname(path), "ablation.json")) as f:
            result = json.load(f)
        arms = [a["name"] for a in result["config"]["arms"]]
        return f"{len(arms)} arms x {len(result['config']['seeds'])} seeds, {len(result['table'])} scores"

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
    from deepcorpus.core import outputs

    # The demo starts fresh, so its output is reproducible: it removes only a directory that an
    # earlier demo made (marked as such) and refuses anything else but a new or empty one.
    outputs.check_run_output(out, "demo")
    if outputs.is_run_dir(out, "demo"):
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    outputs.mark_run_output(out, "demo", ["deepcorpus", "demo", "--output", out])
    rows = []
    steps = demo_steps(out, train_steps or DEFAULT_TRAIN_STEPS)
    if steps:  # the ablation's inputs are written into it by `inspect --output`
        os.makedirs(os.path.join(out, "ablation"))
    for name, argv, product in steps:
        argv = argv() if callable(argv) else argv
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
    ablation = os.path.join(out, "ablation", "ablation.md")
    if os.path.exists(ablation):
        print(f"\n== data ablation: the math corpus against the crawl's other pages ({ablation}) ==")
        with open(ablation) as f:
            print(f.read().rstrip())
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
    p.add_argument("--output", default="demo-out", help="a fresh directory for everything the demo writes")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the demo's own)")
    p.set_defaults(func=lambda args: run_demo(args.output, train_steps=args.steps))
