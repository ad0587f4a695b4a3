"""What every benchmark shares: a result table printed to stdout and written as JSON.

    rows = [{"system": "deepcorpus", "docs_per_s_per_core": 812.0}, {"system": "datatrove", ...}]
    report("extract", rows, notes={"input": "samples/crawl"}, out_dir="benchmarks/out")
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import time
from contextlib import contextmanager


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cores": os.cpu_count()}
    try:
        import torch

        if torch.cuda.is_available():
            info["device"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


@contextmanager
def timer():
    """Yields a dict whose 'seconds' is set when the block ends."""
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and waited-for children), in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def _tree(root: int) -> set[int]:
    """Process `root` and all its descendants right now (from /proc)."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    parents[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [c for c, ppid in parents.items() if ppid == pid and c not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return tree


def tree_rss_bytes(root: int) -> int:
    """Bytes resident in process `root` and all its descendants right now. Shared pages count once
    per process: an upper bound, the same way at every scale."""
    return tree_memory_bytes(root)[0]


def tree_memory_bytes(root: int) -> tuple[int, int, int]:
    """(RSS, PSS, anonymous PSS) of process `root` and its descendants right now, in bytes. PSS
    splits each shared page among the processes that map it, so their sum is the memory the tree
    holds; the RSS sum counts a shared page once per process (workers forked from one warm process
    share most of their pages, and RSS counts those again for each worker). Anonymous PSS (heaps,
    and shared memory) leaves out file pages (libraries, mapped files), whose PSS also falls when
    unrelated processes map the same libraries: it is the part that grows with what a run holds,
    whatever else runs beside it."""
    rss = pss = anon = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * page
            with open(f"/proc/{pid}/smaps_rollup") as f:
                fields = {line.split(":")[0]: int(line.split()[1]) for line in f if line.endswith("kB\n")}
            pss += fields["Pss"] * 1024
            anon += (fields.get("Pss_Anon", 0) + fields.get("Pss_Shmem", 0)) * 1024
        except (OSError, IndexError, ValueError, KeyError):
            pass
    return rss, pss, anon


def run_measured(cmd: list[str], env: dict | None = None, every_s: float = 0.05) -> dict:
    """Run `cmd`; its wall time, CPU time (its whole reaped process tree) and the peak RSS and PSS
    sums and the peak anonymous PSS sum of its process tree (sampled every `every_s`), in MiB. Raises if it fails."""
    import subprocess
    import threading

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = peak_pss = peak_anon = 0
    done = threading.Event()

    def sample():
        nonlocal peak, peak_pss, peak_anon
        while not done.is_set():
            rss, pss, anon = tree_memory_bytes(proc.pid)
            peak, peak_pss, peak_anon = max(peak, rss), max(peak_pss, pss), max(peak_anon, anon)
            time.sleep(every_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    thread.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]}... exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_tree_mb": peak / 2**20, "peak_tree_pss_mb": peak_pss / 2**20,
            "peak_tree_anon_mb": peak_anon / 2**20}


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    cols = list(dict.fromkeys(k for r in rows for k in r))

    def cell(v):
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.1f}"
        return str(v)

    table = [[cell(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.rjust(w) for v, w in zip(t, widths)) for t in table]
    return "\n".join(lines)


def report(name: str, rows: list[dict], notes: dict | None = None, out_dir: str = "benchmarks/out") -> dict:
    """Print the table and write `OUT_DIR/NAME.json`; returns what was written."""
    result = {
        "benchmark": name,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "rows": rows,
        "notes": notes or {},
    }
    print(f"\n== {name} ==")
    print(format_table(rows))
    for k, v in (notes or {}).items():
        print(f"  {k}: {v}")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(result, f, indent=2)
    return result


def out_dir_from_argv(description: str | None) -> str:
    """The output folder of a benchmark whose only argument it is; `--help` prints the description
    (without a parser, `--help` was taken for the folder and the benchmark ran)."""
    import argparse

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", default="benchmarks/out", help="where the JSON goes")
    return parser.parse_args().out_dir
