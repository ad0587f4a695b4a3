"""The end-of-command summary: what went in and out of every stage, read from Beam metrics.

Counters are named `Metrics.counter(STAGE, NAME)`: the namespace is the stage the user sees
("read", "extract", "langid"...), the name says what was counted ("in", "out", "dropped_short").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from deepcorpus.core.errors import ConservationError


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


@dataclass
class Balance:
    """Rows in against rows out plus rows dropped with a reason, for one stage of one run."""

    what: str
    rows_in: int
    outputs: dict[str, int]  # name -> rows (kept, removed, ...)
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows

    @property
    def ok(self) -> bool:
        return self.rows_in == sum(self.outputs.values()) + sum(self.dropped.values())

    def line(self) -> str:
        parts = [f"{name} {n:,}" for name, n in {**self.outputs, **self.dropped}.items()]
        sign = "=" if self.ok else "!="
        return f"{self.what}: in {self.rows_in:,} {sign} {' + '.join(parts) or '0'}"

    def check(self) -> Balance:
        """Raise ConservationError (exit 1, nothing committed) unless the rows add up."""
        if not self.ok:
            out = sum(self.outputs.values()) + sum(self.dropped.values())
            raise ConservationError(f"rows do not add up, {self.line()} ({self.rows_in - out:+,} unaccounted); "
                                    "nothing was committed")
        return self


def balance(counters: dict[str, dict[str, int]], stage: str, outputs: tuple[str, ...], *, into: str = "in",
            dropped_prefix: str | None = "dropped_") -> Balance:
    """The Balance of `stage` from its counters: `into` against `outputs` plus every `dropped_*`."""
    values = counters.get(stage, {})
    dropped = {k: v for k, v in values.items() if dropped_prefix and k.startswith(dropped_prefix)}
    return Balance(stage, values.get(into, 0), {name: values.get(name, 0) for name in outputs}, dropped)


def check_committed(balance: Balance, committed: dict[str, int]) -> None:
    """Each output's committed row count (from its manifest) must equal what the pipeline counted."""
    wrong = {name: (n, balance.outputs[name]) for name, n in committed.items() if n != balance.outputs[name]}
    if wrong:
        detail = ", ".join(f"{name}: {n:,} committed, {c:,} counted" for name, (n, c) in wrong.items())
        raise ConservationError(f"{balance.what}: committed rows differ from the rows the pipeline wrote ({detail})")
