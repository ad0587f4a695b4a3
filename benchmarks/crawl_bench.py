"""Crawl scale: `math run` end to end against datatrove's nearest pipeline, at 1x, 4x, 16x and 64x the
real-page crawl (benchmarks/real_pages.py: 299 saved public pages with and without formulas, ~160 KB
of HTML each), the same files in the same run.

- deepcorpus: `deepcorpus math run --iterations 1` (read, extract, language ID, URL/exact/near dedup,
  seed sample, training data, fastText, score, collect, decontaminate) on the local runner with 2
  worker processes (`--direct_running_mode multi_processing`).
- datatrove 0.10: `WarcReader` -> `Trafilatura` -> `LanguageFilter` (lid.176) -> `FastTextClassifierFilter`
  -> `MinhashDedupSignature` / `Buckets` / `Cluster` (words split on spaces, as in dedup_bench), one task, on a fastText model trained
  the same way (benchmarks/math_bench.py).

Each row: pages, input GB (compressed WARC), wall and CPU seconds (the whole process tree), docs/s per
core (pages / CPU s) and the peak memory of the process tree, sampled every 50 ms, two ways: the PSS
sum (each shared page split among the processes that map it: what the tree holds, and the memory
target) and the RSS sum (each shared page counted once per process: our workers are forked from one
warm process, pipelines/forkserver.py, and share most of their pages with it). Targets: memory flat; docs/s per core at least 5x datatrove's. The notes project, from
the measured CPU per page of the largest run (most pages, CC-size files included), the core-hours and the cost of one Common Crawl
snapshot (~3 billion pages) on Dataflow.

With `--cc-file`, one more row: a single WARC file of Common Crawl's size (~40,000 pages, ~1 GB
compressed; the set's copies concatenated, as gzip members may be), deepcorpus only: one file is read
by one worker from start to end, so this is the row where a reader that held a file would show.
`--cc-files 1,8` gives a row for 1 and one for 8 such files (every page under its own URL): the
launcher's shuffles grow with the files, so this is the row where a runner that held them would show.
One file keeps one of the two workers busy, so compare from 2 files up (`--cc-files 1,2,4`).
A CC-size file takes ~1.3 GB of disk and ~2.5 minutes to write; with `--cc-stream` the files are served
over HTTP from 127.0.0.1 as they are read instead (benchmarks/cc_server.py: the same records) and read
as a snapshot is, through a `warc.paths.gz` listing and `--crawl-base`: any number of files, no disk.

    python -m benchmarks.crawl_bench [OUT] [--scales 1,4,16,64] [--no-datatrove] [--cc-file] [--cc-files 1,8] [--cc-stream]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile

from benchmarks import real_pages
from benchmarks.cc_server import CC_FILE_PAGES, CrawlServer
from benchmarks.common import report, run_measured

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = os.path.join(ROOT, "deepcorpus", "samples", "math_seed.jsonl")
SCALES = (1, 4, 16, 64)
SNAPSHOT_PAGES = 3_000_000_000
# Dataflow batch prices (us-central1, 2024 list): per vCPU-hour and per GB-hour of memory; n1-standard
# workers carry 3.75 GB per vCPU. Shuffle and disk are left out (our shuffles carry ids, not pages).
VCPU_HOUR_USD = 0.056
GB_HOUR_USD = 0.003557
GB_PER_VCPU = 3.75

DATATROVE_CHILD = r"""
import json, os, sys, time, logging
from loguru import logger
logger.remove()
logging.getLogger("trafilatura").setLevel(logging.ERROR)
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import FastTextClassifierFilter, LanguageFilter
import datatrove.pipeline.dedup.minhash as dm
from benchmarks.datatrove_words import use_whitespace_words
from classifiers.langid import bundled_model_path

use_whitespace_words()
folder, model, work = sys.argv[1:4]
langid = LanguageFilter(languages=None, language_threshold=0.0)
langid.model.MODEL_URL = bundled_model_path()  # the same lid.176 file, no download
cfg = dm.MinhashConfig()
LocalPipelineExecutor([WarcReader(folder, glob_pattern="*.warc.gz"), Trafilatura(favour_precision=True, timeout=5.0),
                       langid, FastTextClassifierFilter(model, keep_labels=("math", 0.5)),
                       dm.MinhashDedupSignature(f"{work}/sigs", config=cfg)],
                      tasks=1, workers=1, logging_dir=f"{work}/logs/1").run()
LocalPipelineExecutor([dm.MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)],
                      tasks=cfg.num_buckets, workers=1, logging_dir=f"{work}/logs/2").run()
LocalPipelineExecutor([dm.MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=cfg)],
                      tasks=1, workers=1, logging_dir=f"{work}/logs/3").run()
"""


def _env() -> dict:
    return {**os.environ, "DEEPCORPUS_PROGRESS_EVERY": "0", "PYTHONPATH": ROOT}


def run_ours(crawl_dir: str, out: str, inputs: list[str] | None = None) -> dict:
    """`inputs`: the `math run` options that name the input, instead of the crawl files in `crawl_dir`."""
    inputs = inputs or ["--input", os.path.join(crawl_dir, "*.warc.gz")]
    cmd = [sys.executable, "-c", "import sys; from deepcorpus.cli import main; sys.exit(main())",
           "math", "run", *inputs, "--seed", SEED, "--output", out,
           "--iterations", "1", "--direct_running_mode", "multi_processing", "--direct_num_workers", "2"]
    measured = run_measured(cmd, _env())
    summary = json.load(open(os.path.join(out, "summary.json")))
    measured["pages"] = summary["counters"]["read"]["html"]
    measured["kept"] = summary["corpus"]["rows"]
    return measured


def run_datatrove(crawl_dir: str, model: str, work: str, pages: int) -> dict:
    measured = run_measured([sys.executable, "-c", DATATROVE_CHILD, crawl_dir, model, work], _env())
    measured["pages"] = pages
    return measured


def cost_notes(cpu_s_per_page: float, peak_mb: float) -> dict:
    core_hours = cpu_s_per_page * SNAPSHOT_PAGES / 3600
    usd = core_hours * (VCPU_HOUR_USD + GB_PER_VCPU * GB_HOUR_USD)
    return {"snapshot_core_hours (3e9 pages, measured CPU/page)": f"{core_hours:,.0f}",
            "snapshot_dataflow_usd (vCPU + memory, n1-standard)": f"{usd:,.0f}",
            "memory per process (fits 3.75 GB/vCPU?)": f"{peak_mb / 3:.0f} MiB per process of 3"}


def marginal_notes(system: str, rows: list[dict]) -> dict:
    """CPU per page between consecutive scales: what a page costs without the run's fixed part
    (pipeline start-ups, fastText training), which dominates the smallest scales. On a shared
    machine it moves by several ms/page between runs at 1x -> 4x; the larger scales settle it."""
    notes = {}
    for a, b in zip(rows, rows[1:]):
        pages = b["pages"] - a["pages"]
        if pages > 0:
            notes[f"{system}: marginal CPU per page, {a['scale']} -> {b['scale']}"] = (
                f"{1000 * (b['cpu_s'] - a['cpu_s']) / pages:.1f} ms")
    return notes


def _row(system: str, scale: str, m: dict, gb: float) -> dict:
    return {"system": system, "scale": scale, "pages": m["pages"], "input_gb": round(gb, 3), "wall_s": m["wall_s"],
            "cpu_s": m["cpu_s"], "docs_per_cpu_s": m["pages"] / m["cpu_s"] if m["cpu_s"] else 0.0,
            "peak_tree_mb": m["peak_tree_mb"], "peak_tree_pss_mb": m["peak_tree_pss_mb"]}


def cc_size_files(tmp: str, found: str, files: int = 1) -> list[str]:
    """`files` WARC files of about CC_FILE_PAGES pages each, every page under its own URL (the set's
    copies concatenated)."""
    copies = -(-CC_FILE_PAGES // len(real_pages.manifest()))  # the manifest has a row per page
    paths = real_pages.replicate(copies * files, os.path.join(tmp, "cc-parts"), found)
    crawl = os.path.join(tmp, f"cc-files{files}")
    os.makedirs(crawl, exist_ok=True)
    per_file = len(paths) // files  # each copy is a few shards
    written = []
    for n in range(files):
        written.append(os.path.join(crawl, f"CC-MAIN-like-{n:05d}.warc.gz"))
        with open(written[-1], "wb") as out:
            for path in paths[n * per_file:(n + 1) * per_file]:  # a .warc.gz is a series of gzip members
                with open(path, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
                os.unlink(path)
    return written


def cc_stream_rows(tmp: str, found: str, counts: tuple[int, ...]) -> list[dict]:
    """The CC-size rows read over HTTP from `CrawlServer` (no files written): Common Crawl's own
    listing and `--crawl-base`, as a snapshot is read."""
    rows = []
    with CrawlServer(found, max(counts)) as server:
        for files in counts:
            listing = server.listing(os.path.join(tmp, f"cc-stream{files}.warc.paths.gz"), files)
            before = server.stats["bytes"]
            out = os.path.join(tmp, f"ours-stream{files}")
            m = run_ours("", out, ["--input", listing, "--crawl-base", server.base])
            shutil.rmtree(out, ignore_errors=True)
            gb = sum(server.size(n) for n in range(files)) / 1e9
            assert server.stats["bytes"] - before >= gb * 1e9, "the run read less than the files hold"
            rows.append(_row("deepcorpus math run", f"{files} CC-size file{'s' if files > 1 else ''} over HTTP", m, gb))
    return rows


def main(out_dir: str = "benchmarks/out", scales: tuple[int, ...] = SCALES, datatrove: bool = True,
         cc_files: tuple[int, ...] = (), cc_stream: bool = False) -> dict:
    found = real_pages.locate()
    if found is None:
        print("real-page set not here (see benchmarks/real_pages.py): nothing to measure", file=sys.stderr)
        return report("crawl_scale", [], {"skipped": "the real-page set is not here"}, out_dir)
    rows, notes = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        model = None
        if datatrove:
            from benchmarks.math_bench import train_models

            os.environ.setdefault("HF_HOME", os.path.join(tmp, "hf"))
            model = train_models(tmp)[1]
        for scale in scales:
            crawl = os.path.join(tmp, f"crawl{scale}")
            real_pages.replicate(scale, crawl, found)
            gb = sum(os.path.getsize(f) for f in glob.glob(os.path.join(crawl, "*.warc.gz"))) / 1e9
            ours = run_ours(crawl, os.path.join(tmp, f"ours{scale}"))
            systems = [("deepcorpus math run", ours)]
            if datatrove:
                systems.append(("datatrove", run_datatrove(crawl, model, os.path.join(tmp, f"dt{scale}"),
                                                           ours["pages"])))
            rows += [_row(name, f"{scale}x", m, gb) for name, m in systems]
            if datatrove:
                notes[f"{scale}x: docs/s per core, ours / datatrove"] = (
                    f"{rows[-2]['docs_per_cpu_s'] / rows[-1]['docs_per_cpu_s']:.2f}x")
            shutil.rmtree(crawl, ignore_errors=True)
        if cc_files and cc_stream:
            rows += cc_stream_rows(tmp, found, cc_files)
            cc_files = ()
        # Written once, for the largest count; each row reads the first N of them.
        written = cc_size_files(tmp, found, max(cc_files)) if cc_files else []
        for files in cc_files:
            subset = os.path.join(tmp, f"cc-first{files}")
            os.makedirs(subset, exist_ok=True)
            for path in written[:files]:
                os.symlink(path, os.path.join(subset, os.path.basename(path)))
            gb = sum(os.path.getsize(path) for path in written[:files]) / 1e9
            scale = f"{files} CC-size file" + ("s" if files > 1 else "")
            rows.append(_row("deepcorpus math run", scale, run_ours(subset, os.path.join(tmp, f"ours-cc{files}")), gb))
            shutil.rmtree(os.path.join(tmp, f"ours-cc{files}"), ignore_errors=True)
        cc_rows = [r for r in rows if "CC-size" in r["scale"]]
        if len(cc_rows) > 1:
            notes["peak memory (PSS), CC-size files"] = " -> ".join(
                f"{r['peak_tree_pss_mb']:.0f} MiB ({r['scale']})" for r in cc_rows)
    ours_rows = [r for r in rows if r["system"] == "deepcorpus math run" and r["scale"].endswith("x")]
    for system in dict.fromkeys(r["system"] for r in rows):
        notes.update(marginal_notes(system, [r for r in rows if r["system"] == system and r["scale"].endswith("x")]))
    if ours_rows:
        first, last = ours_rows[0], ours_rows[-1]
        notes["peak memory (PSS), smallest -> largest scale"] = (
            f"{first['peak_tree_pss_mb']:.0f} -> {last['peak_tree_pss_mb']:.0f} MiB ({first['scale']} -> {last['scale']})")
        notes["peak memory (RSS sum), smallest -> largest scale"] = (
            f"{first['peak_tree_mb']:.0f} -> {last['peak_tree_mb']:.0f} MiB ({first['scale']} -> {last['scale']})")
    ours_all = [r for r in rows if r["system"] == "deepcorpus math run"]
    if ours_all:
        # The largest run's CPU per page carries the least of the fixed costs (start-ups, fastText
        # training): projected from a 1x run alone, a snapshot would cost ~17x what it does.
        largest = max(ours_all, key=lambda r: r["pages"])
        notes["projected from"] = f"{largest['scale']} ({largest['pages']:,} pages)"
        notes.update(cost_notes(largest["cpu_s"] / largest["pages"], largest["peak_tree_pss_mb"]))
    return report("crawl_scale", rows, notes, out_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", default="benchmarks/out")
    parser.add_argument("--scales", default=",".join(map(str, SCALES)), help="copies of the real-page set")
    parser.add_argument("--no-datatrove", action="store_true", help="deepcorpus only")
    parser.add_argument("--cc-file", action="store_true", help="also one WARC file of Common Crawl's size")
    parser.add_argument("--cc-files", default="", metavar="N,M",
                        help="also runs on N (then M) WARC files of Common Crawl's size, e.g. 1,8: memory flat in the files")
    parser.add_argument("--cc-stream", action="store_true",
                        help="serve the CC-size files over HTTP from 127.0.0.1 as they are read (benchmarks/cc_server.py) "
                             "instead of writing them: no disk, no wait, any number of files")
    a = parser.parse_args()
    counts = tuple(int(x) for x in a.cc_files.split(",") if x) or ((1,) if a.cc_file else ())
    main(a.out_dir, tuple(int(x) for x in a.scales.split(",") if x), not a.no_datatrove, counts, a.cc_stream)
