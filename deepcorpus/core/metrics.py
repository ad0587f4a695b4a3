"""The `metrics.jsonl` a training run writes: one JSON object per logged step."""

from __future__ import annotations

import json
import os

from deepcorpus.core.errors import UserError


def read_metrics(run_dir: str) -> list[dict]:
    """Every record of RUN_DIR/metrics.jsonl, in order; [] when there is none yet. The last line may
    be cut by an interrupted run and is then skipped (a resumed run rewrites it); any other line that
    is not a UTF-8 JSON object is a UserError naming the file and line."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    out = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            cut = not raw.endswith(b"\n")  # the last line, without its newline: an interrupted write
            try:
                record = json.loads(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError as e:
                if cut:
                    continue
                raise UserError(f"{path}:{lineno}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column "
                                f"{e.start + 1})") from None
            except json.JSONDecodeError as e:
                if cut:
                    continue
                raise UserError(f"{path}:{lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(record, dict):
                raise UserError(f"{path}:{lineno}: expected a JSON object per line")
            out.append(record)
    return out
