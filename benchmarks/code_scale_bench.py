"""Code corpus scale curve: `deepcorpus code run` on Stack-like Parquet listings of N, 4N and 8N
repositories, each size in a fresh process, against a plain streaming pass over the same files.

The listings are generated (nothing is downloaded): repositories of 8-16 Python modules importing
each other (a chain, a package `__init__` that re-exports, a cycle of two), licences and stars, and
one repository in 20 a fork of another (its near-duplicate, removed on signatures). Columns as The
Stack v2's dedup listing names them (`max_stars_repo_name`, `max_stars_repo_path`, `content`, ...).

Systems, each size in its own child process (start-up included, imports excluded):

- baseline: a plain streaming pass: Parquet row groups read one at a time, go-enry's full
  `get_language` on every file and the rule filters (no repository-level work at all: the cost
  floor of looking at every file once, and memory that cannot grow with the input);
- deepcorpus in_memory: `code run` on the FnApiRunner in one process;
- deepcorpus 1 worker: `code run` with one worker process (multi_processing), whose peak memory is
  the worker's column: what a Dataflow worker holds (the launcher's column holds the local
  runner's shuffle, which a Dataflow shuffle service holds instead).

Reported per size: files, CPU seconds, files per CPU second, peak memory of the launcher and of the
worker, documents written, and whether the summary's conservation lines balanced; the notes give the
8N/N ratios (CPU per file: goal ~1.0; worker peak memory: goal flat).

    python -m benchmarks.code_scale_bench                # N = 100 repositories
    python -m benchmarks.code_scale_bench --repos 300    # N = 300 (8N = 2400 repositories)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

from benchmarks.common import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_REPOS = 100
FACTORS = (1, 4, 8)
ROWS_PER_GROUP = 2000
WORDS = ("request", "parse", "token", "value", "index", "buffer", "stream", "config", "record", "table",
         "cache", "result", "handler", "queue", "node", "graph", "vector", "matrix", "string", "number")


def _module(rng: random.Random, repo: int, i: int, n: int) -> str:
    deps = [f"from pkg{repo} import m{i - 1}\n"] if i else []
    if i == n - 1 and n > 2:
        deps.append(f"from pkg{repo}.m0 import helper_{repo}_0\n")  # closes a cycle with m0's import below
    if i == 0:
        deps.append(f"import pkg{repo}.m{n - 1}\n")
    body = []
    for k in range(rng.randint(6, 14)):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        body.append(f"def {a}_{b}_{repo}_{i}_{k}(x, y={k}):\n    \"\"\"Return the {a} of {b}.\"\"\"\n"
                    f"    total = x * {rng.randint(2, 99)} + y\n    for item in range({rng.randint(3, 30)}):\n"
                    f"        total += item % {rng.randint(2, 9)}\n    return total\n\n")
    return "".join(deps) + f"\n\ndef helper_{repo}_{i}():\n    return {i}\n\n\n" + "".join(body)


def write_listing(path: str, n_repos: int, seed: int = 0) -> int:
    """A Parquet listing of `n_repos` repositories; returns its file count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    schema = pa.schema([("max_stars_repo_name", pa.string()), ("max_stars_repo_path", pa.string()),
                        ("content", pa.string()), ("max_stars_repo_licenses", pa.list_(pa.string())),
                        ("max_stars_count", pa.int64())])
    rows, files = [], 0
    with pq.ParquetWriter(path, schema, compression="zstd") as w:
        originals: dict[int, list[dict]] = {}
        for r in range(n_repos):
            if r % 20 == 19 and originals:  # a fork: a copy of an earlier repository with one edit
                src = rng.choice(sorted(originals))
                copied = [dict(f, max_stars_repo_name=f"fork{r}/repo{src}", max_stars_count=0,
                               max_stars_repo_licenses=[]) for f in originals[src]]
                copied[0]["content"] += "# the fork's own change\n"
                repo_rows = copied
            else:
                n = rng.randint(8, 16)
                repo_rows = [{"max_stars_repo_name": f"org{r}/repo{r}", "max_stars_repo_path": f"pkg{r}/m{i}.py",
                              "content": _module(rng, r, i, n), "max_stars_repo_licenses": ["MIT"],
                              "max_stars_count": rng.randint(0, 500)} for i in range(n)]
                repo_rows.append({"max_stars_repo_name": f"org{r}/repo{r}", "max_stars_repo_path": f"pkg{r}/__init__.py",
                                  "content": f"from pkg{r}.m1 import helper_{r}_1\n", "max_stars_repo_licenses": ["MIT"],
                                  "max_stars_count": repo_rows[0]["max_stars_count"]})
                if len(originals) < 50:
                    originals[r] = repo_rows
            rows += repo_rows
            files += len(repo_rows)
            if len(rows) >= ROWS_PER_GROUP:
                w.write_table(pa.Table.from_pylist(rows, schema), row_group_size=ROWS_PER_GROUP)
                rows = []
        if rows:
            w.write_table(pa.Table.from_pylist(rows, schema), row_group_size=ROWS_PER_GROUP)
    return files


# --- the systems, each run in a child process ---------------------------------------------------


def _cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_rss_mb() -> float:
    """VmHWM, not ru_maxrss (Linux carries ru_maxrss over exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_baseline(listing: str) -> dict:
    import enry
    import pyarrow.parquet as pq

    from classifiers.code_language import LanguageIdentifier, skip_reason
    from pipelines.code.filters import drop_reason

    canonical = LanguageIdentifier().canonical
    kept = 0
    f = pq.ParquetFile(listing)
    for g in range(f.num_row_groups):
        table = f.read_row_group(g, columns=["max_stars_repo_path", "content"])
        for path, text in zip(table.column(0).to_pylist(), table.column(1).to_pylist()):
            content = text.encode()
            if skip_reason(path, content):
                continue
            language = canonical(enry.get_language(path, content))
            kept += language is not None and drop_reason(text, language) is None
    return {"files_kept": kept}


def run_ours(listing: str, out: str, mode: str) -> dict:
    from deepcorpus.cli import main

    beam = ["--direct_running_mode", "in_memory"] if mode == "in_memory" else \
        ["--direct_running_mode", "multi_processing", "--direct_num_workers", "1"]
    code = main(["code", "run", "--input", listing, "--output", out, *beam])
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    return {"exit": code, "documents": summary["repos"], "conservation": summary["conservation"],
            "repositories_removed": summary["counters"].get("repo_dedup", {}).get("dropped_near_duplicate", 0)}


def child(system: str, listing: str, out: str) -> None:
    import apache_beam  # noqa: F401  (imports are start-up, not throughput)
    import enry  # noqa: F401

    import pipelines.code.run  # noqa: F401
    import pipelines.code.transforms  # noqa: F401

    start_cpu, start = _cpu_seconds(), time.perf_counter()
    result = run_baseline(listing) if system == "baseline" else run_ours(listing, out, system)
    result.update(cpu_s=_cpu_seconds() - start_cpu, wall_s=time.perf_counter() - start, peak_rss_mb=_peak_rss_mb(),
                  worker_peak_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print("RESULT " + json.dumps(result), flush=True)


def in_child(system: str, listing: str, work: str) -> dict:
    out = tempfile.mkdtemp(prefix=f"{system}-", dir=work)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.code_scale_bench", "--child", system, "--input", listing,
                           "--work", os.path.join(out, "run")], capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{system} on {listing} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


SYSTEMS = (("baseline", "baseline: streaming pass, enry + rules"), ("in_memory", "deepcorpus code run, in_memory"),
           ("workers", "deepcorpus code run, 1 worker"))


def main(out_dir: str = "benchmarks/out", n_repos: int = N_REPOS, factors=FACTORS) -> dict:
    rows, runs = [], {}
    with tempfile.TemporaryDirectory(prefix="code-scale-") as work:
        for factor in factors:
            listing = os.path.join(work, f"listing-{factor}.parquet")
            files = write_listing(listing, n_repos * factor)
            for system, label in SYSTEMS:
                run = runs[system, factor] = in_child(system, listing, work)
                row = {"system": label, "repositories": n_repos * factor, "files": files,
                       "cpu_s": round(run["cpu_s"], 2), "files_per_cpu_s": round(files / run["cpu_s"], 1),
                       "peak_rss_mb": round(run["peak_rss_mb"]),
                       "worker_peak_rss_mb": round(run["worker_peak_rss_mb"]) if system == "workers" else ""}
                if system != "baseline":
                    row.update(documents=run["documents"], forks_removed=run["repositories_removed"],
                               balanced=run["exit"] == 0 and all(" = " in line for line in run["conservation"]))
                rows.append(row)
    small, large = factors[0], factors[-1]
    files = {f: next(r["files"] for r in rows if r["repositories"] == n_repos * f) for f in factors}
    per_file = {s: (runs[s, large]["cpu_s"] / files[large]) / (runs[s, small]["cpu_s"] / files[small])
                for s, _ in SYSTEMS}
    # The cost of the files added between the smallest and the largest size: start-up taken out.
    marginal = {s: (runs[s, large]["cpu_s"] - runs[s, small]["cpu_s"]) / (files[large] - files[small]) * 1000
                for s, _ in SYSTEMS}
    mid = factors[len(factors) // 2]
    marginal_low = {s: (runs[s, mid]["cpu_s"] - runs[s, small]["cpu_s"]) / (files[mid] - files[small]) * 1000
                    for s, _ in SYSTEMS}
    notes = {
        "input": f"generated Stack-v2-like Parquet listings of {', '.join(str(n_repos * f) for f in factors)} "
                 "repositories (8-17 files each, 1 in 20 a fork)",
        f"CPU per repository, {large}N / N": ", ".join(f"{s} {per_file[s]:.2f}x" for s, _ in SYSTEMS)
        + " (start-up weighs more at N)",
        f"marginal CPU ms per file, N..{mid}N and N..{large}N": ", ".join(
            f"{s} {marginal_low[s]:.2f} / {marginal[s]:.2f}" for s, _ in SYSTEMS) + " (equal: linear)",
        f"peak memory, {large}N / N": ", ".join(
            f"{s} {runs[s, large][k] / runs[s, small][k]:.2f}x"
            for s, k in (("baseline", "peak_rss_mb"), ("in_memory", "peak_rss_mb"), ("workers", "worker_peak_rss_mb")))
        + " (workers: what a Dataflow worker holds; in_memory also holds the local runner's shuffles)",
        "deepcorpus marginal CPU per file vs baseline": f"{marginal['in_memory'] / marginal['baseline']:.1f}x "
        "(dependency order, near- and exact dedup, documents and Parquet output on top of identify + rules)",
        "note": "each run is a fresh process; CPU seconds include the local runner's worker processes",
    }
    return report("code_scale", rows, notes, out_dir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="benchmarks/out")
    parser.add_argument("--repos", type=int, default=N_REPOS, help="N: repositories at the smallest size")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.input, args.work)
    else:
        main(args.output, args.repos)
