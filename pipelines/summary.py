"""The end-of-command summary: what went in and out of every stage, read from Beam metrics.

Counters are named `Metrics.counter(STAGE, NAME)`: the namespace is the stage the user sees
("read", "extract", "langid"...), the name says what was counted ("in", "out", "dropped_short").
"""

from __future__ import annotations

from collections import defaultdict


def counters_from_result(result) -> dict[str, dict[str, int]]:
    """{stage: {counter: value}} from a finished Beam pipeline result."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for metric in result.metrics().query()["counters"]:
        key = metric.key.metric
        value = metric.committed if metric.committed is not None else metric.attempted
        namespace = key.namespace.rsplit(".", 1)[-1]
        out[namespace][key.name] = out[namespace].get(key.name, 0) + int(value or 0)
    return {stage: dict(sorted(c.items())) for stage, c in out.items()}


def merge(*counter_sets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for counters in counter_sets:
        for stage, values in counters.items():
            for name, value in values.items():
                out[stage][name] = out[stage].get(name, 0) + value
    return dict(out)


def format_table(counters: dict[str, dict[str, int]], title: str = "summary") -> str:
    """A fixed-width table, one row per (stage, counter), stages in the order given."""
    rows = [(stage, name, f"{value:,}") for stage, values in counters.items() for name, value in values.items()]
    if not rows:
        return f"{title}: nothing was counted"
    widths = [max(len(r[i]) for r in rows + [("stage", "counter", "value")]) for i in range(3)]
    line = "  ".join("-" * w for w in widths)
    header = "  ".join(h.ljust(w) for h, w in zip(("stage", "counter", "value"), widths))
    body = []
    last = None
    for stage, name, value in rows:
        shown = stage if stage != last else ""
        last = stage
        body.append(f"{shown.ljust(widths[0])}  {name.ljust(widths[1])}  {value.rjust(widths[2])}")
    return "\n".join([f"== {title} ==", header, line, *body])
