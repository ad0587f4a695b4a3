"""`deepcorpus math run`: DeepSeekMath's iterative mining loop, one Beam pipeline per stage.

    candidates/            read + extract + language ID + URL dedup + MinHash near-dedup (once)
    iter_K/training/       negatives sampled from the crawl; seed_added/ = uncollected pages under
                           prefixes approved in iteration K-1 (they join the seed)
    iter_K/model.bin       fastText classifier trained on seed (+ seed_added so far) vs negatives
    iter_K/scores/         math_score dataset: id, url, domain, score, token_count, language of every candidate
    iter_K/collected/      web_doc dataset: candidates at or above the cutoff (threshold, token budget)
    iter_K/domain_stats.jsonl, iter_K/discovery.yaml  math domains and proposed/approved URL prefixes
    iter_K/metrics.json    written last: marks the iteration complete, with its fingerprint (resume checks it)
    corpus/                the last iteration's collected set, decontaminated against --benchmark
    summary.json           command, counters per stage, per-iteration metrics, elapsed time

A rerun of the same command resumes: each stage is reused while its inputs (sizes and modification
times; the datasets it reads, by their commits), its options and the code are those it was made
from, and recomputed otherwise, saying what changed (iterations after a recomputed one follow).
One run at a time holds the run directory's lock (`_lock.json`); `_deepcorpus.json` marks it.

The loop stops after --iterations or once the share of this iteration's collected pages that the
previous iteration had already collected reaches --stop-overlap (DeepSeekMath stopped at ~98%).

This module runs the loop; each stage is a module of its own: `candidates.py` (once per run
directory), `iteration.py` (one iteration) and `corpus.py` (the decontaminated corpus), with the
options in `config.py`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import time
from dataclasses import asdict

from deepcorpus.core import datasets, locks, outputs, storage
from deepcorpus.core.errors import UserError
from pipelines import summary
from pipelines.math import inputs
from pipelines.math.candidates import build_candidates
from pipelines.math.config import MathRunConfig, config_from_args
from pipelines.math.corpus import build_corpus
from pipelines.math.discover import load_annotations
from pipelines.math.iteration import Iteration, load_labelled, run_iteration, write_json
from pipelines.runner import quiet_beam_logging

log = logging.getLogger(__name__)


def stop_reason(metrics: dict, stop_overlap: float) -> str | None:
    """Why the loop stops after this iteration, or None to go on (DeepSeekMath: ~98% seen before)."""
    overlap = metrics.get("overlap_with_previous")
    if overlap is not None and overlap >= stop_overlap:
        return f"overlap with the previous iteration {overlap:.1%} >= {stop_overlap:.1%}"
    if metrics.get("n_collected") == 0:
        return "nothing was collected"
    return None


def print_iteration(it: Iteration) -> None:
    m = it.metrics
    print(summary.format_table(m["counters"], title=f"iteration {it.k}"))
    print_conservation(f"iteration {it.k}", m.get("conservation", []))
    c = m["classifier"]
    overlap = "n/a" if m["overlap_with_previous"] is None else f"{m['overlap_with_previous']:.1%}"
    approved = [p["prefix"] for p in m["prefixes"] if p.get("approved")]
    print(f"classifier: precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f}  "
          f"(threshold {m['threshold']:.2f}, eval n={c['n']})")
    print(f"collected {m['n_collected']:,} of {m['n_candidates']:,} candidates ({m['tokens_collected']:,} tokens); "
          f"new {m['n_new']:,}; overlap with previous {overlap}")
    print(f"math domains: {len(m['domains'])}; prefixes proposed: {len(m['prefixes'])}; approved: "
          f"{', '.join(approved) or 'none'}; seed pages added for this iteration: {m['seed_added']}")
    sys.stdout.flush()


def print_conservation(title: str, lines: list[str]) -> None:
    if lines:
        print(f"-- {title}: rows in = rows out + rows dropped --")
        print("\n".join(f"  {line}" for line in lines))
        sys.stdout.flush()


SMALL_INPUT_BYTES = 32 * 2**20


def local_runner_args(files: list[str], beam_args: list[str], listed: bool = False) -> list[str]:
    """Run small local crawls in-process: the loop starts ~3N+4 pipelines, and below ~32 MiB of
    WARC, starting worker processes for each costs more than the work. Explicit flags win; a
    crawl given by listings is never taken for small."""
    from pipelines.runner import is_local, pipeline_options

    joined = " ".join(beam_args)
    if "--direct_running_mode" in joined or not is_local(pipeline_options(beam_args)):
        return beam_args
    if listed or any(storage.is_remote(f) or storage.is_http(f) for f in files):
        return beam_args
    if sum(storage.size(f) for f in files) > SMALL_INPUT_BYTES:
        return beam_args
    log.info("small local input: running the pipelines in-process (--direct_running_mode in_memory)")
    extra = ["--direct_running_mode", "in_memory"]
    if "--direct_num_workers" not in joined:
        extra += ["--direct_num_workers", "1"]
    return [*beam_args, *extra]


def run(args, beam_args: list[str]) -> int:
    cfg = config_from_args(args)
    return mine(cfg, beam_args, args.command_line)


def mine(cfg: MathRunConfig, beam_args: list[str], command: list[str]) -> int:
    start = time.time()
    if cfg.iterations < 1:
        raise UserError("--iterations must be at least 1")
    specs = cfg.specs
    named = inputs.check(specs, cfg.crawl_base)
    beam_args = local_runner_args(named, beam_args, listed=any(s.kind in ("listing", "list") for s in specs))
    datasets.resolve_input(cfg.seed)  # fails early, naming the file, if the seed is unusable
    if cfg.benchmarks:  # read whole now: a malformed one must not wait for the last stage
        from dedup.ngrams import benchmark_files, check_benchmarks

        cfg.benchmarks = benchmark_files(cfg.benchmarks)
        check_benchmarks(cfg.benchmarks)
    load_labelled(cfg.eval_path)
    annotations = load_annotations(cfg.approved_path) if cfg.approved_path else None
    cfg = for_workers(cfg, specs, beam_args)
    outputs.check_run_output(cfg.output, "math run")
    quiet_beam_logging()
    with locks.Lock(cfg.output, command=command):  # one writer per run directory
        outputs.mark_run_output(cfg.output, "math run", command)
        return _mine(cfg, specs, named, annotations, beam_args, command, start)


def for_workers(cfg: MathRunConfig, specs, beam_args: list[str]) -> MathRunConfig:
    """Before the first job: every path a worker opens must be one it can read (remote runners:
    gs://, s3://, https:// or a --worker_visible_path); small local files (the seed, benchmarks)
    are staged to --temp_location instead. One line naming the option and the path, exit 2."""
    from pipelines import worker_paths
    from pipelines.runner import pipeline_options

    options = pipeline_options(beam_args)
    if worker_paths.remote_runner(options) is None:
        return cfg
    needed = inputs.worker_read_paths(specs, cfg.crawl_base) + [("--output", cfg.output)]
    if any(s.kind in ("listing", "list") for s in specs):
        needed.append(("--crawl-base", cfg.crawl_base))
    worker_paths.require(options, needed)
    staged = {}
    for what, paths in (("--seed", storage.expand(cfg.seed) if not storage.is_dir(cfg.seed) else [cfg.seed]),
                        ("--benchmark", [f for b in cfg.benchmarks for f in storage.expand(b)])):
        for path in paths:
            staged[path] = worker_paths.stage(options, path, what)
    return dataclasses.replace(cfg, staged=staged)


def _mine(cfg: MathRunConfig, specs, named: list[str], annotations: dict | None, beam_args: list[str],
          command: list[str], start: float) -> int:
    log.info("math: %d crawl inputs -> %s", len(specs), cfg.output)
    counters, conservation = build_candidates(cfg, specs, named, beam_args, command)
    print(summary.format_table(counters, title="candidates"))
    print_conservation("candidates", conservation)
    report_read_errors(cfg, counters)
    done: list[Iteration] = []
    stopped = f"reached --iterations {cfg.iterations}"
    for k in range(1, cfg.iterations + 1):
        it = run_iteration(cfg, k, done, annotations, beam_args, command)
        done.append(it)
        print_iteration(it)
        counters = summary.merge(counters, it.metrics["counters"])
        conservation += [f"iteration {k}: {line}" for line in it.metrics.get("conservation", [])]
        reason = stop_reason(it.metrics, cfg.stop_overlap)
        if reason:
            stopped = reason
            break
    log.info("stopping: %s", stopped)
    corpus_counters, lines = build_corpus(cfg, done[-1], beam_args, command)
    counters = summary.merge(counters, corpus_counters)
    conservation += [f"corpus: {line}" for line in lines]
    corpus = datasets.open_dataset(storage.join(cfg.output, "corpus"))
    tokens = int(corpus.manifest.get("token_count") or 0) or sum(
        r["token_count"] or 0 for r in corpus.iter_rows(["token_count"]))
    print(summary.format_table(corpus_counters, title="corpus"))
    print_conservation("corpus", lines)
    result = {
        "command": command,
        "counters": counters,
        "elapsed_s": round(time.time() - start, 2),
        "iterations": [{k: it.metrics[k] for k in ("iteration", "n_candidates", "n_collected", "n_new",
                                                     "overlap_with_previous", "threshold", "cutoff")}
                       | {"precision": it.metrics["classifier"]["precision"],
                          "recall": it.metrics["classifier"]["recall"], "f1": it.metrics["classifier"]["f1"]}
                       for it in done],
        "stopped": stopped,
        "conservation": conservation,
        "corpus": {"path": storage.join(cfg.output, "corpus"), "rows": corpus.row_count, "tokens": tokens},
        "config": _plain(asdict(cfg)),
    }
    write_json(storage.join(cfg.output, "summary.json"), result)
    print(f"corpus: {corpus.row_count:,} documents, {tokens:,} tokens in {storage.join(cfg.output, 'corpus')} "
          f"({result['elapsed_s']:.1f}s; stopped: {stopped})")
    return 0


def report_read_errors(cfg: MathRunConfig, counters: dict) -> None:
    """Say so when crawl files did not end cleanly (they are listed in read_errors.jsonl)."""
    read = counters.get("read", {})
    bad = {k: read.get(f"{k}_files", 0) for k in ("corrupt", "truncated", "failed")}
    if any(bad.values()):
        what = ", ".join(f"{n:,} {k}" for k, n in bad.items() if n)
        print(f"warning: {what} crawl file(s) of {read.get('files_listed', 0):,}: see "
              f"{storage.join(cfg.output, 'read_errors.jsonl')}", file=sys.stderr)


def _plain(obj):
    return json.loads(json.dumps(obj, default=str))
