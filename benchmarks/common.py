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
