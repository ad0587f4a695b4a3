"""The ablation's table and plot: per benchmark and metric, each arm's mean over seeds and its spread.

A cell reads `mean ± sd (n seeds)`; with one seed, the value and its 95% interval over items. The
best arm of a row (lowest bits per byte, highest accuracy or pass@k) is marked.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics

from deepcorpus.core import storage


def lower_is_better(metric: str) -> bool:
    return metric == "bpb"


def build_table(evals: dict[str, dict[int, dict]], arms: list[str]) -> list[dict]:
    """Rows of {benchmark, metric, lower_is_better, arms: {arm: {mean, sd, min, max, values, ci95, n}}}."""
    order: list[tuple[str, str]] = []
    for arm in arms:
        for results in evals[arm].values():
            for bench, b in results["benchmarks"].items():
                for metric in b["scores"]:
                    if (bench, metric) not in order:
                        order.append((bench, metric))
    rows = []
    for bench, metric in order:
        cells = {}
        for arm in arms:
            seeds = sorted(evals[arm])
            scores = [evals[arm][s]["benchmarks"].get(bench, {}).get("scores", {}).get(metric) for s in seeds]
            values = [s["value"] for s in scores if s and s.get("value") is not None]
            if not values:
                status = next((s.get("status") for s in scores if s and s.get("status")), "n/a")
                cells[arm] = {"mean": None, "status": status, "values": [], "seeds": seeds}
                continue
            cells[arm] = {
                "mean": statistics.fmean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else None,
                "min": min(values), "max": max(values), "values": values, "seeds": seeds,
                "ci95": scores[0].get("ci95") if len(values) == 1 else None,
                "n": scores[0].get("n"),
            }
        means = {a: c["mean"] for a, c in cells.items() if c["mean"] is not None}
        best = (min if lower_is_better(metric) else max)(means, key=means.get) if len(means) > 1 else None
        rows.append({"benchmark": bench, "metric": metric, "lower_is_better": lower_is_better(metric),
                     "best": best, "arms": cells})
    return rows


def cell_text(c: dict) -> str:
    if c["mean"] is None:
        return c.get("status", "n/a")
    if c.get("sd") is not None:
        return f"{c['mean']:.4f} ± {c['sd']:.4f} ({len(c['values'])} seeds)"
    ci = c.get("ci95")
    if ci and ci[0] is not None:
        return f"{c['mean']:.4f} [{ci[0]:.4f}, {ci[1]:.4f}]"
    return f"{c['mean']:.4f}"


def _metric_label(row: dict) -> str:
    return row["metric"] + (" (lower is better)" if row["lower_is_better"] else " (higher is better)")


def format_table(table: list[dict], arms: list[str]) -> str:
    """Plain text, aligned; the best arm of each row starred."""
    head = ["benchmark", "metric", *arms]
    lines = [head]
    for row in table:
        lines.append([row["benchmark"], row["metric"] + (" ↓" if row["lower_is_better"] else " ↑"),
                      *[cell_text(row["arms"][a]) + (" *" if row["best"] == a else "") for a in arms]])
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in lines) + \
        "\n(* best arm; ↓ lower is better, ↑ higher is better)"


def markdown_table(table: list[dict], arms: list[str]) -> str:
    lines = ["| benchmark | metric | " + " | ".join(arms) + " |", "|" + " --- |" * (2 + len(arms))]
    for row in table:
        cells = [f"**{cell_text(row['arms'][a])}**" if row["best"] == a else cell_text(row["arms"][a]) for a in arms]
        lines.append(f"| {row['benchmark']} | {_metric_label(row)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_text(table: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["benchmark", "metric", "arm", "seed", "value"])
    for row in table:
        for arm, c in row["arms"].items():
            for seed, v in zip(c["seeds"], c["values"]):
                w.writerow([row["benchmark"], row["metric"], arm, seed, repr(v)])
    return buf.getvalue()


def plot(table: list[dict], arms: list[str], path: str) -> None:
    """One panel per benchmark and metric: each arm's mean as a square, the seeds' range as its error
    bar, every seed as a dot beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in table if any(c["mean"] is not None for c in r["arms"].values())]
    if not rows:
        return
    cols = min(3, len(rows))
    nrows = (len(rows) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.2 * nrows), dpi=100, squeeze=False)
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
    for ax, row in zip(axes.flat, rows):
        for i, arm in enumerate(arms):
            c = row["arms"][arm]
            if c["mean"] is None:
                continue
            color = colors[i % len(colors)]
            err = [[c["mean"] - c["min"]], [c["max"] - c["mean"]]] if len(c["values"]) > 1 else None
            ax.errorbar(i, c["mean"], yerr=err, fmt="s", color=color, capsize=5, markersize=9)
            ax.plot([i + 0.12] * len(c["values"]), c["values"], "o", color="black", markersize=3, alpha=0.7)
        ax.set_xticks(range(len(arms)))
        ax.set_xticklabels(arms, rotation=20)
        ax.set_title(f"{row['benchmark']}", fontsize=9)
        ax.set_ylabel(row["metric"] + (" ↓" if row["lower_is_better"] else " ↑"), fontsize=8)
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    fig.suptitle("Ablation: each arm's mean over seeds (range as error bar, seeds as dots)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def write_outputs(result: dict, output: str) -> None:
    arms = [a["name"] for a in result["config"]["arms"]]
    table = result["table"]
    storage.write_bytes_atomic(os.path.join(output, "ablation.json"), json.dumps(result, indent=2, default=str).encode())
    storage.write_bytes_atomic(os.path.join(output, "ablation.md"), markdown_table(table, arms).encode())
    storage.write_bytes_atomic(os.path.join(output, "ablation.csv"), csv_text(table).encode())
    plot(table, arms, os.path.join(output, "ablation.png"))
