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

import json
import logging
import sys
import time
from dataclasses import asdict

from deepcorpus.core import datasets, locks, outputs, storage
from deepcorpus.core.errors import UserError
from pipelines import summary
from pipelines.math.candidates import build_candidates
from pipelines.math.config import MathRunConfig, config_from_args
from pipelines.math.corpus import build_corpus
from pipelines.math.discover import load_annotations
from pipelines.math.iteration import Iteration, load_labelled, run_iteration, write_json
from pipelines.runner import quiet_beam_logging

log = logging.getLogger(__name__)


CRAWL_SUFFIXES = (".warc", ".warc.gz", ".warc.zst", ".warc.lz4", ".wet", ".wet.gz", ".wet.zst", ".arc.gz")


def crawl_files(specs: list[str]) -> list[str]:
    """The crawl files named by paths, globs or directories (a directory: the crawl files in it)."""
    files = []
    for spec in specs:
        if storage.is_dir(spec):
            found = [f for f in storage.expand(storage.join(spec, "*")) if f.endswith(CRAWL_SUFFIXES)]
            if not found:
                raise UserError(f"{spec}: a directory with no WARC/WET files (.warc[.gz|.zst|.lz4] or .wet[.gz|.zst])")
        else:
            found = storage.expand(spec)
        if not found:
            raise UserError(f"{spec}: no such file")
        files.extend(found)
    bad = [f for f in files if not f.endswith(CRAWL_SUFFIXES)]
    if bad:
        raise UserError(f"{bad[0]}: not a WARC/WET file (.warc[.gz|.zst|.lz4] or .wet[.gz|.zst])")
    return sorted(dict.fromkeys(files))


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


SMALL_INPUT_BYTES = 32 * 2**20


def local_runner_args(files: list[str], beam_args: list[str]) -> list[str]:
    """Run small local crawls in-process: the loop starts 2N+2 pipelines, and below ~32 MiB of
    WARC, starting worker processes for each costs more than the work. Explicit flags win."""
    from pipelines.runner import is_local, pipeline_options

    joined = " ".join(beam_args)
    if "--direct_running_mode" in joined or not is_local(pipeline_options(beam_args)):
        return beam_args
    if any(storage.is_remote(f) or storage.is_http(f) for f in files):
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
    files = crawl_files(cfg.inputs)
    beam_args = local_runner_args(files, beam_args)
    datasets.resolve_input(cfg.seed)  # fails early, naming the file, if the seed is unusable
    if cfg.benchmarks:  # read whole now: a malformed one must not wait for the last stage
        from dedup.ngrams import benchmark_files, check_benchmarks

        cfg.benchmarks = benchmark_files(cfg.benchmarks)
        check_benchmarks(cfg.benchmarks)
    load_labelled(cfg.eval_path)
    annotations = load_annotations(cfg.approved_path) if cfg.approved_path else None
    outputs.check_run_output(cfg.output, "math run")
    quiet_beam_logging()
    with locks.Lock(cfg.output, command=command):  # one writer per run directory
        outputs.mark_run_output(cfg.output, "math run", command)
        return _mine(cfg, files, annotations, beam_args, command, start)


def _mine(cfg: MathRunConfig, files: list[str], annotations: dict | None, beam_args: list[str], command: list[str],
          start: float) -> int:
    log.info("math: %d crawl files -> %s", len(files), cfg.output)
    counters = build_candidates(cfg, files, beam_args, command)
    print(summary.format_table(counters, title="candidates"))
    done: list[Iteration] = []
    stopped = f"reached --iterations {cfg.iterations}"
    for k in range(1, cfg.iterations + 1):
        it = run_iteration(cfg, k, done, annotations, beam_args, command)
        done.append(it)
        print_iteration(it)
        counters = summary.merge(counters, it.metrics["counters"])
        reason = stop_reason(it.metrics, cfg.stop_overlap)
        if reason:
            stopped = reason
            break
    log.info("stopping: %s", stopped)
    corpus_counters = build_corpus(cfg, done[-1], beam_args, command)
    counters = summary.merge(counters, corpus_counters)
    corpus = datasets.open_dataset(storage.join(cfg.output, "corpus"))
    tokens = sum(r["token_count"] or 0 for r in corpus.iter_rows(["token_count"]))
    print(summary.format_table(corpus_counters, title="corpus"))
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
        "corpus": {"path": storage.join(cfg.output, "corpus"), "rows": corpus.row_count, "tokens": tokens},
        "config": _plain(asdict(cfg)),
    }
    write_json(storage.join(cfg.output, "summary.json"), result)
    print(f"corpus: {corpus.row_count:,} documents, {tokens:,} tokens in {storage.join(cfg.output, 'corpus')} "
          f"({result['elapsed_s']:.1f}s; stopped: {stopped})")
    return 0


def _plain(obj):
    return json.loads(json.dumps(obj, default=str))
