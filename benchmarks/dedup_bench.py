"""Dedup benchmarks: MinHash correctness against ground truth, speed and memory against
datatrove's MinHash dedup, and the size of the decontamination n-gram index.

    python -m benchmarks.dedup_bench            # or: make bench (all benchmarks)

1. dedup_correctness: `MinHashDedup` (the Beam transform, as pipelines run it) on a corpus of
   families of edited copies with known Jaccard similarities (benchmarks/dedup_corpus.py): pair
   precision and recall (pairs >= 0.9 duplicates, <= 0.6 distinct), clusters and removals vs truth.
2. dedup_speed: the same kind of corpus at 1x and 10x size, deduplicated by deepcorpus and by
   datatrove 0.10.1 (signature, buckets and cluster stages) with the same 5-gram shingles,
   20 bands x 13 rows = 260 permutations and 64-bit hashes. Each run is a fresh process on one
   core; docs/s per core = documents / CPU seconds of that process. Also the signature step alone.
   datatrove's English word tokenizer needs spaCy, which is not installed: it gets `str.split`,
   cheaper than spaCy, so its numbers are better than in its default setup.
3. dedup_scale: corpora of 30k and 300k documents (and 1M with `--sizes 30000 300000 1000000`), a
   third of each one boilerplate hub (near-copies of one page), by deepcorpus (single process, and
   the local runner with one worker process) and datatrove: docs/s per core, peak memory of the
   process and of the worker, recall and precision on the families, the hub's survivors and the
   documents wrongly merged into it; and the core-hours of a Common Crawl snapshot on paper.
4. dedup_ngram_index: memory of the decontamination index over ../shared/data/benchmarks.

    python -m benchmarks.dedup_bench --only scale --sizes 30000 300000 1000000
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time

from benchmarks.common import report

SHARED_BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared",
                                 "data", "benchmarks")
# The corpus grows 10x. At 1k/10k documents the local runner's fixed start-up hides the per-document
# cost (ratio 1.73x at 10k measured on an idle 2-core machine); at 3k/30k it was 2.29x, peak memory
# 198 -> 428 MiB against datatrove's 77 -> 144 MiB.
SMALL, LARGE = 3000, 30000
CORRECTNESS_DOCS = 2000
# dedup_scale: a third of each corpus is one hub. 1M documents of datatrove take ~20 CPU-minutes, so
# by default it runs up to 300k only (`--datatrove-max`). Measured 2026-12-01 on the shared 2-core
# machine (load 5-8), `--sizes 30000 300000 1000000`: per core 1.93x datatrove at 30k and 4.27x at
# 300k (3,979 against 932 docs/s; recall 1.000 both, precision 0.977 vs 0.978, the hub one keeper,
# nothing distinct merged), 3,264-3,427 docs/s at 1M. The local runner's worker peaked at 767, 1,250
# and 2,943 MiB at 30k/300k/1M while pipelines/bundles.py cut grouped inputs by their count of values
# only (a few large values, a shard's band-hash packs, still went to the worker as one bundle). Cut by
# size too, the same child (`--child deepcorpus-workers`) on the same corpora: worker peak 1,137 MiB at
# 300k and 1,169 MiB at 1M (flat), 2,896 and 3,137 docs/s per core; the runner, which holds the
# shuffled data as Dataflow's shuffle service would, 2.2 and 5.2 GiB.
SCALE_SIZES = (30000, 300000)
DATATROVE_MAX = 300000


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    exec, so a child would report its parent's size."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the systems, each run in a child process ---------------------------------------------------


def run_ours(path: str, out_dir: str, verify: bool = False, workers: bool = False) -> list[tuple[str, str]]:
    """deepcorpus: ReadDocuments -> MinHashDedup on the single-process FnApiRunner, or (`workers`)
    on the local runner as commands run it: one worker process, the runner holding the shuffles."""
    import apache_beam as beam

    from dedup.beam import WEB_MINHASH, MinHashDedup
    from deepcorpus.core import datasets
    from pipelines.io import ReadDocuments
    from pipelines.runner import RunnerConfig, new_pipeline

    p = new_pipeline(["--direct_num_workers=1"], RunnerConfig(in_memory=not workers))
    out = p | "Read" >> ReadDocuments(datasets.resolve_inputs([path])) | "Dedup" >> MinHashDedup(
        WEB_MINHASH, verify=verify)
    _ = (out.removed | "Pairs" >> beam.Map(lambda r: json.dumps([r["id"], r["duplicate_of"]]))
         | "Write" >> beam.io.WriteToText(os.path.join(out_dir, "removed"), ".jsonl"))
    p.run().wait_until_finish()
    pairs = []
    for f in glob.glob(os.path.join(out_dir, "removed*.jsonl")):
        pairs += [tuple(json.loads(line)) for line in open(f)]
    return pairs


def run_datatrove(path: str, out_dir: str) -> list[tuple[str, str]]:
    """datatrove 0.10.1: read JSONL -> MinhashDedupSignature -> Buckets -> Cluster, one worker."""
    import datatrove.pipeline.dedup.minhash as dm
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.utils.hashing import HashConfig

    from benchmarks.datatrove_words import use_whitespace_words

    use_whitespace_words()
    cfg = dm.MinhashConfig(n_grams=5, num_buckets=20, hashes_per_bucket=13,
                           hash_config=HashConfig(precision=64, hash_fc="xxhash"))
    # Read as its JsonlReader would (which needs orjson, not installed): one Document per line.
    reader = [Document(text=row["text"], id=row["id"]) for row in map(json.loads, open(path))]
    logs = os.path.join(out_dir, "logs")
    LocalPipelineExecutor([reader, dm.MinhashDedupSignature(f"{out_dir}/sigs", config=cfg)], tasks=1, workers=1,
                          logging_dir=f"{logs}/1").run()
    LocalPipelineExecutor([dm.MinhashDedupBuckets(f"{out_dir}/sigs", f"{out_dir}/buckets", config=cfg)],
                          tasks=cfg.num_buckets, workers=1, logging_dir=f"{logs}/2").run()
    LocalPipelineExecutor([dm.MinhashDedupCluster(f"{out_dir}/buckets", f"{out_dir}/remove", config=cfg,
                                                  save_cluster_id=True)], tasks=1, workers=1,
                          logging_dir=f"{logs}/3").run()
    ids = [json.loads(line)["id"] for line in open(path)]
    by_cluster: dict[int, list[str]] = {}
    for f in glob.glob(f"{out_dir}/remove/*.clusters"):
        data = open(f, "rb").read()
        for doc, cluster in struct.iter_unpack("<II", data):
            by_cluster.setdefault(cluster, []).append(ids[doc])
    return [(m, members[0]) for members in by_cluster.values() for m in members[1:]]


def child(system: str, path: str, out_dir: str) -> None:
    # Imports are start-up, not throughput: load each system's modules before the clock starts.
    if system == "datatrove":
        import datatrove.executor  # noqa: F401
        import datatrove.pipeline.dedup.minhash  # noqa: F401
    else:
        import apache_beam  # noqa: F401

        import dedup.beam  # noqa: F401
        import pipelines.io  # noqa: F401
        import pipelines.runner  # noqa: F401
    start_cpu, start = _cpu_seconds(), time.perf_counter()
    if system == "datatrove":
        pairs = run_datatrove(path, out_dir)
    else:
        pairs = run_ours(path, out_dir, verify=system == "deepcorpus-verify", workers=system == "deepcorpus-workers")
    result = {
        "cpu_s": _cpu_seconds() - start_cpu,
        "wall_s": time.perf_counter() - start,
        "peak_rss_mb": _peak_rss_mb(),
        # The largest waited-for child: the local runner's worker process (0 when there is none).
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "pairs_file": os.path.join(out_dir, "pairs.json"),
    }
    with open(result["pairs_file"], "w") as f:
        json.dump(pairs, f)
    print("RESULT " + json.dumps(result), flush=True)


def in_child(system: str, path: str, work: str) -> dict:
    out_dir = tempfile.mkdtemp(prefix=f"{system}-", dir=work)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.dedup_bench", "--child", system, "--input", path, "--work", out_dir],
        capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{system} run failed:\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["pairs"] = [tuple(p) for p in json.load(open(result.pop("pairs_file")))]
    return result


# --- the benchmarks ------------------------------------------------------------------------------


def correctness(work: str, out_dir: str) -> dict:
    from benchmarks.dedup_corpus import clusters_from_removed, make_corpus, score

    corpus = make_corpus(CORRECTNESS_DOCS, seed=1)
    path = os.path.join(work, "truth.jsonl")
    corpus.write_jsonl(path)
    rows = []
    for system in ("deepcorpus", "deepcorpus-verify"):
        run = in_child(system, path, work)
        rows.append({"system": system, **score(corpus, clusters_from_removed(run["pairs"]))})
    notes = {
        "corpus": f"{len(corpus.docs)} docs in families of edited copies; truth = exact Jaccard of 5-gram sets",
        "config": "WEB_MINHASH: 5-grams, 260 permutations, 20 bands x 13 rows, threshold 0.8",
        "scored pairs": "duplicates: Jaccard >= 0.9; distinct: <= 0.6; goal >= 0.95 precision and recall",
    }
    return report("dedup_correctness", rows, notes, out_dir)


def signature_speed() -> list[dict]:
    """The signature step alone, in this process, on the same texts."""
    import datatrove.pipeline.dedup.minhash as dm
    from datatrove.utils.hashing import HashConfig

    from benchmarks.dedup_corpus import make_corpus
    from dedup.beam import WEB_MINHASH
    from dedup.minhash import MinHasher

    texts = [d["text"] for d in make_corpus(2000, seed=3).docs]
    dm.load_word_tokenizer = lambda language: type("Split", (), {"word_tokenize": staticmethod(str.split)})()
    theirs = dm.MinhashDedupSignature("/tmp/unused-dedup-bench", config=dm.MinhashConfig(
        n_grams=5, num_buckets=20, hashes_per_bucket=13, hash_config=HashConfig(precision=64, hash_fc="xxhash")))
    ours = MinHasher(WEB_MINHASH)
    t = time.process_time()
    for text in texts:
        theirs.get_signature(theirs.get_shingles(text))
    theirs_s = time.process_time() - t
    t = time.process_time()
    for i in range(0, len(texts), 256):
        ours.band_keys_batch(ours.signatures(texts[i : i + 256]))
    ours_s = time.process_time() - t
    return [
        {"step": "signature", "system": "deepcorpus", "docs": len(texts), "docs_per_s_per_core": len(texts) / ours_s},
        {"step": "signature", "system": "datatrove", "docs": len(texts), "docs_per_s_per_core": len(texts) / theirs_s},
    ]


def speed_and_memory(work: str, out_dir: str) -> dict:
    from benchmarks.dedup_corpus import clusters_from_removed, make_corpus, score

    rows = signature_speed()
    sig_ratio = rows[0]["docs_per_s_per_core"] / rows[1]["docs_per_s_per_core"]
    runs = {}
    for n in (SMALL, LARGE):
        corpus = make_corpus(n, seed=2)
        path = os.path.join(work, f"speed_{n}.jsonl")
        corpus.write_jsonl(path)
        for system in ("deepcorpus", "datatrove"):
            run = in_child(system, path, work)
            s = score(corpus, clusters_from_removed(run["pairs"]))
            run["docs"] = len(corpus.docs)
            runs[(system, n)] = run
            rows.append({"step": "near-dedup", "system": system, "docs": len(corpus.docs),
                         "docs_per_s_per_core": len(corpus.docs) / run["cpu_s"], "wall_s": run["wall_s"],
                         "peak_rss_mb": run["peak_rss_mb"], "recall": s["recall"], "precision": s["precision"]})
    ours, theirs = rows[-2], rows[-1]

    def marginal(system):  # docs/s of the extra 9x documents: the per-document cost without start-up
        small, large = runs[(system, SMALL)], runs[(system, LARGE)]
        return (large["docs"] - small["docs"]) / (large["cpu_s"] - small["cpu_s"])

    notes = {
        "signature speed ratio (deepcorpus / datatrove)": f"{sig_ratio:.2f}x",
        "near-dedup speed ratio at 10x (deepcorpus / datatrove)":
            f"{ours['docs_per_s_per_core'] / theirs['docs_per_s_per_core']:.2f}x",
        "marginal near-dedup docs/s per core, 1x -> 10x (start-up excluded)":
            f"deepcorpus {marginal('deepcorpus'):,.0f}, datatrove {marginal('datatrove'):,.0f}, "
            f"ratio {marginal('deepcorpus') / marginal('datatrove'):.2f}x",
        "peak memory growth for 10x docs": ", ".join(
            f"{s}: {runs[(s, SMALL)]['peak_rss_mb']:.0f} -> {runs[(s, LARGE)]['peak_rss_mb']:.0f} MiB"
            for s in ("deepcorpus", "datatrove")),
        "settings": "5-gram words, 20 bands x 13 rows, 64-bit; one process on one core each; "
                    "datatrove tokenizes with str.split (spaCy, its English default, is not installed)",
        "wall_s": "deepcorpus runs on Beam's local FnApiRunner, whose per-bundle overhead makes wall time "
                  "exceed CPU time; on Dataflow that overhead is the runner's, not the code's",
        "memory": "the local runner keeps each PCollection in memory between stages; on Dataflow the shuffle "
                  "is outside the workers",
    }
    return report("dedup_speed", rows, notes, out_dir)


def ngram_index(out_dir: str) -> dict | None:
    from dedup.ngrams import BenchmarkIndex

    paths = sorted(glob.glob(os.path.join(SHARED_BENCHMARKS, "*", "*.jsonl*")))
    if not paths:
        print(f"dedup_ngram_index: skipped, {SHARED_BENCHMARKS} has no benchmark files")
        return None
    rows = []
    for label, group in [("all", paths)] + [(os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p), [p])
                                            for p in paths]:
        t = time.process_time()
        index = BenchmarkIndex.from_files(group, fields=None)
        rows.append({"files": label, "items": len(index.items), "ngrams": index.num_ngrams,
                     "index_mib": index.nbytes / 2**20, "with_ids_mib": index.total_bytes / 2**20,
                     "dropped_boilerplate": index.dropped_common, "build_s": time.process_time() - t})
    index = BenchmarkIndex.from_files(paths, fields=None)
    from benchmarks.dedup_corpus import make_corpus

    texts = [d["text"] for d in make_corpus(1000, seed=4).docs]
    t = time.process_time()
    hits = sum(index.find(x) is not None for x in texts)
    lookup = len(texts) / (time.process_time() - t)
    notes = {"n": 10, "fields": "default (question, problem, prompt, text, formal_statement, informal_prefix, lean)",
             "lookup docs/s per core": f"{lookup:,.0f} (on ~300-word documents; {hits} false matches)"}
    return report("dedup_ngram_index", rows, notes, out_dir)


def scale(work: str, out_dir: str, sizes=SCALE_SIZES, datatrove_max: int = DATATROVE_MAX) -> dict:
    """Near-dedup with a boilerplate hub (a third of the corpus: near-copies of one page) at growing
    sizes, against datatrove in the same run; and, from the measured cost, a Common Crawl snapshot."""
    from benchmarks.dedup_corpus import make_hub_corpus, score_with_hub

    rows, by = [], {}
    for n in sizes:
        corpus = make_hub_corpus(n, seed=7)
        path = os.path.join(work, f"hub_{n}.jsonl")
        corpus.write_jsonl(path)
        systems = ["deepcorpus", "deepcorpus-workers"] + (["datatrove"] if n <= datatrove_max else [])
        for system in systems:
            run = in_child(system, path, work)
            s = score_with_hub(corpus, run["pairs"])
            by[(system, n)] = run
            rows.append({"system": system, "docs": n, "docs_per_s_per_core": n / run["cpu_s"],
                         "wall_s": run["wall_s"], "peak_rss_mb": run["peak_rss_mb"],
                         "worker_peak_rss_mb": run["worker_peak_rss_mb"], "recall": s["recall"],
                         "precision": s["precision"], "hub_docs": s["hub_docs"], "hub_kept": s["hub_kept"],
                         "distinct_merged_into_hub": s["distinct_merged_into_hub"]})
        del corpus
    notes = {"corpus": "make_hub_corpus: families of edited copies (2/3) + near-copies of one 300-word page "
                       "with 1-3 words replaced (1/3); recall/precision on the families' pairs (>= 0.9 duplicate, "
                       "<= 0.6 distinct), the hub scored apart (hub_kept: 1 is right; distinct_merged_into_hub: 0)",
             "settings": "WEB_MINHASH (5-gram words, 20 bands x 13 rows, 64-bit) for both; one core each: "
                         "deepcorpus on the single-process FnApiRunner, deepcorpus-workers on the local runner "
                         "with one worker process (the runner process holds the shuffled data, as Dataflow's "
                         "shuffle service would; worker_peak_rss_mb is the worker's), datatrove's 3 stages"}
    for n in sizes:
        if ("datatrove", n) in by:
            ratio = by[("deepcorpus", n)]["cpu_s"] and by[("datatrove", n)]["cpu_s"] / by[("deepcorpus", n)]["cpu_s"]
            notes[f"speed ratio per core at {n:,} (deepcorpus / datatrove)"] = f"{ratio:.2f}x"
    big = max(sizes)
    workers = [by[("deepcorpus-workers", n)]["worker_peak_rss_mb"] for n in sizes]
    notes["worker peak memory by size"] = ", ".join(f"{n:,}: {w:.0f} MiB" for n, w in zip(sizes, workers))
    per_core = big / by[("deepcorpus-workers", big)]["cpu_s"]
    snapshot = 3e9
    notes["Common Crawl snapshot on paper"] = (
        f"{snapshot:.0e} documents at the measured {per_core:,.0f} docs/s per core (local runner, {big:,} docs) "
        f"= {snapshot / per_core / 3600:,.0f} core-hours of near-dedup CPU (Dataflow's shuffle adds its own "
        f"cost; ~{snapshot / per_core / 3600 / 64:,.1f} h on 64 vCPUs); NeMo Curator's published figure: 1.1T tokens "
        f"fuzzy-deduplicated in 1.8 h on 64 A100s = 115 GPU-hours (a snapshot is ~1-2T tokens)")
    return report("dedup_scale", rows, notes, out_dir)


def main(out_dir: str = "benchmarks/out", only=None, sizes=SCALE_SIZES, datatrove_max: int = DATATROVE_MAX) -> None:
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as work:
        if not only or "correctness" in only:
            correctness(work, out_dir)
        if not only or "speed" in only:
            speed_and_memory(work, out_dir)
        if not only or "scale" in only:
            scale(work, out_dir, tuple(sizes), datatrove_max)
    if not only or "ngram" in only:
        ngram_index(out_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="benchmarks/out")
    parser.add_argument("--child", choices=["deepcorpus", "deepcorpus-verify", "deepcorpus-workers", "datatrove"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SCALE_SIZES),
                        help="documents per corpus of dedup_scale (default: %(default)s)")
    parser.add_argument("--datatrove-max", type=int, default=DATATROVE_MAX,
                        help="largest corpus datatrove also runs on (default: %(default)s)")
    parser.add_argument("--only", choices=["correctness", "speed", "scale", "ngram"], nargs="*")
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.input, args.work)
    else:
        main(args.output, args.only, args.sizes, args.datatrove_max)
