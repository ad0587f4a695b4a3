"""The `metrics.jsonl` a training run writes: one JSON object per logged step."""

from __future__ import annotations

import json
import os


def read_metrics(run_dir: str) -> list[dict]:
    """Every record of RUN_DIR/metrics.jsonl, in order; [] when there is none yet. A line cut by an
    interrupted run is skipped."""
    path = os.path.join(run_dir, "metrics.jsonl")
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return out
