"""`deepcorpus report`: one self-contained HTML file (plots embedded as PNG) for a run directory.

The report finds what a directory holds by its layout, not by flags: a math run has `iter_K/
metrics.json`, a code or formal run a `corpus/` of that contract, token shards a token_shard
manifest, a training run a `metrics.jsonl` (a GRPO run's records carry rewards). A demo directory holds all of them and gets every
section. Missing pieces leave their section out rather than fail the report.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field

from deepcorpus.core import datasets, storage
from deepcorpus.core.command import command_parser, output_file
from deepcorpus.core.contracts import CODE_REPO, FORMAL_PROOF, TOKEN_SHARD, WEB_DOC
from deepcorpus.core.errors import UserError
from deepcorpus.core.metrics import read_metrics

MAX_DEPTH = 4


@dataclass
class RunParts:
    math: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    formal: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    train: list[str] = field(default_factory=list)
    grpo: list[str] = field(default_factory=list)  # `deepcorpus grpo` runs (metrics.jsonl with rewards)
    evals: list[str] = field(default_factory=list)  # `deepcorpus eval` outputs (results.json)
    ablations: list[str] = field(default_factory=list)  # `deepcorpus ablate` outputs (ablation.json)
    other: list[str] = field(default_factory=list)  # other run dirs with a summary.json


def _schema_of(path: str) -> str | None:
    try:
        return datasets.read_manifest(path)["schema"]
    except Exception:  # noqa: BLE001 - not a dataset, or not a finished one: not ours to report
        return None


def discover(run_dir: str) -> RunParts:
    parts = RunParts()
    for root, dirs, files in os.walk(run_dir):
        depth = os.path.relpath(root, run_dir).count(os.sep)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "checkpoints")
        if depth >= MAX_DEPTH:
            dirs[:] = []
        if "ablation.json" in files:
            parts.ablations.append(root)
            dirs[:] = []  # its runs and evaluations are summarised in its own section
            continue
        if "results.json" in files and _load_json(os.path.join(root, "results.json")).get("kind") == "deepcorpus-eval":
            parts.evals.append(root)
        if any(re.fullmatch(r"iter_\d+", d) for d in dirs):
            parts.math.append(root)
        if "metrics.jsonl" in files:
            (parts.grpo if _is_grpo(root) else parts.train).append(root)
        if datasets.MANIFEST in files and _schema_of(root) == TOKEN_SHARD:
            parts.tokens.append(root)
        if "corpus" in dirs:
            schema = _schema_of(os.path.join(root, "corpus"))
            if schema == CODE_REPO:
                parts.code.append(root)
            elif schema == FORMAL_PROOF:
                parts.formal.append(root)
            elif schema == WEB_DOC and root not in parts.math:
                parts.other.append(root)
    return parts


def _is_grpo(run: str) -> bool:
    if _load_json(os.path.join(run, "summary.json")).get("kind") == "grpo":
        return True
    first = next(iter(read_metrics(run)), {})
    return "reward_mean" in first


# --- plotting ------------------------------------------------------------------------------------


def _figure(width=6.4, height=3.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    ax.grid(alpha=0.3)
    return fig, ax


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _bars(counts: dict, caption: str, axis_label: str, color: str, horizontal: bool = False) -> str:
    """A bar chart of {label: value} as an <img>; horizontal bars put the largest on top."""
    names = sorted(counts, key=counts.get) if horizontal else list(counts)
    values = [counts[n] for n in names]
    if horizontal:
        fig, ax = _figure(6.4, max(2.5, 0.3 * len(names)))
        ax.barh(names, values, color=color)
        ax.set_xlabel(axis_label)
    else:
        fig, ax = _figure()
        ax.bar(names, values, color=color)
        ax.set_ylabel(axis_label)
    return _img(_png(fig), caption)


def _img(src: str, alt: str) -> str:
    return f'<figure><img src="{src}" alt="{html.escape(alt)}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def _table(columns: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            return f"{v:,.4g}"
        if isinstance(v, int):
            return f"{v:,}"
        return html.escape("" if v is None else str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _load_json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}


def _counters_table(summary: dict) -> str:
    """Every Beam counter of the run, folded away: the figures above are what most readers want."""
    counters = summary.get("counters") or {}
    rows = [[stage, name, value] for stage, values in counters.items() for name, value in values.items()
            if isinstance(value, (int, float))]
    if not rows:
        return ""
    return f"<details><summary>{len(rows)} counters</summary>{_table(['stage', 'counter', 'value'], rows)}</details>"


def _get(d: dict, *keys, default=None):
    """The first of several key spellings (or dotted paths) that is present."""
    for key in keys:
        cur = d
        for part in key.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is not None:
            return cur
    return default


def _column(path: str, column: str) -> list:
    try:
        ds = datasets.open_dataset(path)
        if column not in ds.read(columns=None).schema.names:
            return []
        return [v for v in ds.read(columns=[column]).column(column).to_pylist() if v is not None]
    except Exception:  # noqa: BLE001 - a section degrades to what is readable
        return []


# --- sections ------------------------------------------------------------------------------------


def math_section(run: str) -> str:
    iters = sorted((d for d in os.listdir(run) if re.fullmatch(r"iter_\d+", d)), key=lambda d: int(d[5:]))
    metrics = [(int(d[5:]), _load_json(os.path.join(run, d, "metrics.json"))) for d in iters]
    summary = _load_json(os.path.join(run, "summary.json"))
    out = [f"<h2>Math corpus: {html.escape(run)}</h2>"]
    rows = []
    for k, m in metrics:
        rows.append([
            k,
            _get(m, "n_candidates", "candidates"),
            _get(m, "n_collected", "collected"),
            _get(m, "n_new", "new_pages", "recall.new"),
            _get(m, "overlap_with_previous", "overlap"),
            _get(m, "classifier.precision", "precision", "eval.precision"),
            _get(m, "classifier.recall", "recall", "eval.recall"),
            _get(m, "threshold", "classifier.threshold"),
            len(_get(m, "math_domains", "domains", "discovered_domains", default=[]) or []),
        ])
    out.append(_table(["iteration", "candidates", "collected", "new", "overlap with previous",
                       "precision", "recall", "threshold", "math domains"], rows))
    ks = [k for k, _ in metrics]
    collected = [_get(m, "n_collected", "collected") or 0 for _, m in metrics]
    if ks:
        fig, ax = _figure()
        ax.bar(ks, collected, color="#4c72b0", label="collected pages")
        ax.set_xlabel("iteration")
        ax.set_ylabel("pages")
        ax2 = ax.twinx()
        for key, color in (("precision", "#dd8452"), ("recall", "#55a868")):
            ys = [_get(m, f"classifier.{key}", key, f"eval.{key}") for _, m in metrics]
            if any(y is not None for y in ys):
                ax2.plot(ks, [y if y is not None else float("nan") for y in ys], "o-", color=color, label=key)
        ax2.set_ylim(0, 1.05)
        ax2.set_ylabel("on the labelled set")
        fig.legend(loc="upper left", fontsize=8, framealpha=0.9)
        ax.set_xticks(ks)
        out.append(_img(_png(fig), "Pages collected per iteration; classifier precision and recall"))

        overlaps = [_get(m, "overlap_with_previous", "overlap") for _, m in metrics]
        threshold = _get(summary, "stop_overlap", "stop_threshold", "config.stop_overlap",
                         default=_get(metrics[-1][1], "stop_overlap", "stop_threshold", default=0.98))
        fig, ax = _figure()
        ax.plot(ks, [o if o is not None else float("nan") for o in overlaps], "o-", label="share already collected")
        ax.axhline(threshold, color="#c44e52", linestyle="--", label=f"stopping threshold {threshold}")
        ax.set_ylim(0, 1.05)
        ax.set_xticks(ks)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=8)
        out.append(_img(_png(fig), "Stopping rule: share of newly collected pages already collected before"))

    fig, ax = _figure()
    plotted = False
    for k, d in zip(ks, iters):
        scores = []
        for sub in ("scores", "collected", "candidates"):
            scores = _column(os.path.join(run, d, sub), "score")
            if scores:
                break
        if scores:
            ax.hist(scores, bins=20, range=(0, 1), histtype="step", linewidth=1.5, label=f"iteration {k}")
            plotted = True
    if plotted:
        ax.set_xlabel("classifier score")
        ax.set_ylabel("pages")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        out.append(_img(_png(fig), "Score distribution per iteration"))
    else:
        import matplotlib.pyplot as plt

        plt.close(fig)

    for k, m in metrics:
        domains = _get(m, "math_domains", "domains", "discovered_domains", default=[]) or []
        prefixes = _get(m, "prefixes", "url_prefixes", "discovered_prefixes", default=[]) or []
        if domains or prefixes:
            out.append(f"<h3>Iteration {k}: discovered domains and URL prefixes</h3>")
            out.append(_records_table(domains, "domain") + _records_table(prefixes, "prefix"))
    corpus = os.path.join(run, "corpus")
    if os.path.isdir(corpus):
        langs = Counter(_column(corpus, "language"))
        if langs:
            out.append("<h3>Final corpus by language</h3>")
            out.append(_table(["language", "documents"], [[k, v] for k, v in langs.most_common(10)]))
    counters = _counters_table(summary)
    if counters:
        out.append("<h3>Stage counters</h3>" + counters)
    return "\n".join(out)


def _records_table(items: list, name: str) -> str:
    """Dicts become a table with a column per key; plain values a one-column table."""
    if not items:
        return ""
    if all(isinstance(i, dict) for i in items):
        columns = list(dict.fromkeys(k for i in items for k in i))
        return _table(columns, [[i.get(c) for c in columns] for i in items])
    return _table([name], [[i] for i in items])


def code_section(run: str) -> str:
    corpus = os.path.join(run, "corpus")
    summary = _load_json(os.path.join(run, "summary.json"))
    out = [f"<h2>Code corpus: {html.escape(run)}</h2>"]
    ds = datasets.open_dataset(corpus)
    table = ds.read(columns=["repo", "files", "token_count", "order"])
    lang_files = Counter(f["language"] for files in table.column("files").to_pylist() for f in files or [])
    if lang_files:
        out.append(_bars(dict(lang_files.most_common(20)), "Language distribution (files)", "files", "#4c72b0",
                         horizontal=True))
    sizes = [t for t in table.column("token_count").to_pylist() if t]
    if sizes:
        fig, ax = _figure()
        ax.hist(sizes, bins=min(30, max(5, len(sizes))), color="#55a868")
        ax.set_xlabel("tokens per repository document")
        ax.set_ylabel("repositories")
        out.append(_img(_png(fig), "Repository sizes"))
    counters = summary.get("counters") or {}
    drops = {f"{stage}/{name}": v for stage, values in counters.items() for name, v in values.items()
             if name.startswith("dropped") and isinstance(v, (int, float)) and v}
    if drops:
        out.append(_bars(drops, "Rule drops", "dropped", "#c44e52", horizontal=True))
    orders = Counter(table.column("order").to_pylist())
    out.append(_table(["repositories", "dependency order", "random order", "files", "dedup rate"], [[
        ds.row_count, orders.get("dependency", 0), orders.get("random", 0), sum(lang_files.values()),
        _dedup_rate(counters),
    ]]))
    c = _counters_table(summary)
    if c:
        out.append("<h3>Stage counters</h3>" + c)
    return "\n".join(out)


def _dedup_rate(counters: dict) -> str:
    for stage, values in counters.items():
        if "dedup" in stage and values.get("in"):
            removed = sum(v for k, v in values.items() if k.startswith(("removed", "dropped", "duplicate")))
            return f"{removed / values['in']:.1%}"
    return "n/a"


def formal_section(run: str) -> str:
    corpus = os.path.join(run, "corpus")
    summary = _load_json(os.path.join(run, "summary.json"))
    out = [f"<h2>Formal corpus: {html.escape(run)}</h2>"]
    table = datasets.open_dataset(corpus).read(columns=["status", "elapsed_ms", "round", "verified"])
    statuses = Counter(table.column("status").to_pylist())
    if statuses:
        out.append(_bars({k: statuses[k] for k in sorted(statuses)}, "Verification outcomes", "statements", "#8172b3"))
    elapsed = [e for e in table.column("elapsed_ms").to_pylist() if e is not None]
    if elapsed and any(elapsed):
        fig, ax = _figure()
        ax.hist(elapsed, bins=20, color="#937860")
        ax.set_xlabel("verification time (ms)")
        out.append(_img(_png(fig), "Verification time"))
    rounds = Counter(zip(table.column("round").to_pylist(), table.column("status").to_pylist()))
    out.append(_table(["round", "status", "statements"], [[r, s, n] for (r, s), n in sorted(rounds.items(), key=str)]))
    if summary.get("verification_skipped") or statuses.get("unverified"):
        reason = summary.get("verification_skipped_reason") or summary.get("skip_reason") or "no Lean runner"
        out.append(f"<p class=note>Verification skipped: {html.escape(str(reason))}</p>")
    c = _counters_table(summary)
    if c:
        out.append("<h3>Stage counters</h3>" + c)
    return "\n".join(out)


def tokens_section(path: str) -> str:
    m = datasets.read_manifest(path)
    out = [f"<h2>Token shards: {html.escape(path)}</h2>"]
    by_source = m.get("tokens_by_source") or {}
    rows = [["rows", m["row_count"]], ["sequence length", m.get("seq_len")], ["vocabulary", m.get("vocab_size")],
            ["tokenizer", (m.get("tokenizer_hash") or "")[:16]]]
    out.append(_table(["", ""], rows))
    if by_source:
        out.append(_bars(by_source, "Tokens by source", "tokens", "#64b5cd"))
    return "\n".join(out)


def train_section(run: str) -> str:
    records = read_metrics(run)
    out = [f"<h2>Training: {html.escape(run)}</h2>"]
    records = [r for r in records if "step" in r]
    if not records:
        return "\n".join(out + ["<p>No logged steps yet.</p>"])
    steps = [r["step"] for r in records]

    def series(key):
        return [r.get(key) if r.get(key) is not None else float("nan") for r in records]

    fig, ax = _figure()
    for key, style in (("loss", "-"), ("main_loss", "--"), ("mtp_loss", ":")):
        if any(r.get(key) is not None for r in records):
            ax.plot(steps, series(key), style, label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    out.append(_img(_png(fig), "Loss curves (main and MTP)"))
    for key, label in (("tokens_per_s", "Throughput (tokens/s)"),
                       ("expert_load_max_over_mean", "Expert load: max / mean over routed experts")):
        if any(r.get(key) is not None for r in records):
            fig, ax = _figure()
            ax.plot(steps, series(key), color="#55a868")
            ax.set_xlabel("step")
            ax.set_ylabel(key)
            out.append(_img(_png(fig), label))
    first, last = records[0], records[-1]
    out.append(_table(["", "first", "last"], [
        ["step", first["step"], last["step"]],
        ["loss", first.get("loss"), last.get("loss")],
        ["mtp_loss", first.get("mtp_loss"), last.get("mtp_loss")],
        ["tokens/s", first.get("tokens_per_s"), last.get("tokens_per_s")],
    ]))
    return "\n".join(out)


def grpo_section(run: str) -> str:
    """A GRPO run: the reward curve (mean, spread, accuracy, each reward's part), the KL and clip fraction,
    entropy and output length, the first and last steps, and a few rollouts of the last batch."""
    records = [r for r in read_metrics(run) if "step" in r and r.get("reward_mean") is not None]
    summary = _load_json(os.path.join(run, "summary.json"))
    out = [f"<h2>Post-training (GRPO): {html.escape(run)}</h2>"]
    if not records:
        return "\n".join(out + ["<p>No logged steps yet.</p>"])
    objective = summary.get("objective") or {}
    if objective:
        out.append(f"<p>reward {html.escape(str(summary.get('reward')))}; objective {html.escape(str(objective.get('variant')))}"
                   f" (ε {objective.get('clip_eps')}, β {objective.get('beta')}, advantage {objective.get('advantage')}, "
                   f"aggregate {objective.get('aggregate')}, ratio {objective.get('ratio')}); from "
                   f"{html.escape(str(summary.get('init_from')))}</p>")
    steps = [r["step"] for r in records]

    def series(key):
        return [r.get(key) if r.get(key) is not None else float("nan") for r in records]

    fig, ax = _figure()
    mean, std = series("reward_mean"), series("reward_std")
    ax.plot(steps, mean, color="#4c72b0", label="reward mean")
    ax.fill_between(steps, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], color="#4c72b0",
                    alpha=0.15, label="± std over rollouts")
    if any(r.get("accuracy") is not None for r in records):
        ax.plot(steps, series("accuracy"), "--", color="#55a868", label="accuracy")
    for key in sorted(k for k in records[-1] if k.startswith("reward_") and k.endswith("_mean") and k != "reward_mean"):
        ax.plot(steps, series(key), ":", label=key.removesuffix("_mean"))
    ax.set_xlabel("step")
    ax.set_ylabel("reward")
    ax.legend(fontsize=8)
    out.append(_img(_png(fig), "Reward per step: mean, spread over the step's rollouts, accuracy"))
    for (left, right), caption in ((("kl", "clip_fraction"), "KL to the reference (k3 per token) and clip fraction"),
                                   (("entropy", "response_length"), "Policy entropy per token and mean output length")):
        fig, ax = _figure()
        if any(r.get(left) is not None for r in records):
            ax.plot(steps, series(left), color="#c44e52", label=left)
        ax.set_xlabel("step")
        ax.set_ylabel(left)
        twin = ax.twinx()
        twin.plot(steps, series(right), color="#8172b2", label=right)
        twin.set_ylabel(right)
        out.append(_img(_png(fig), caption))
    first, last = records[0], records[-1]
    keys = ("reward_mean", "reward_std", "accuracy", "kl", "clip_fraction", "entropy", "response_length",
            "rollouts_per_s")
    out.append(_table(["", "first", "last"], [["step", first["step"], last["step"]]] +
                      [[k, first.get(k), last.get(k)] for k in keys]))
    rollouts = os.path.join(run, "rollouts.jsonl")
    if os.path.exists(rollouts):
        rows = []
        with open(rollouts) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        last_rows = [r for r in rows if r.get("step") == rows[-1].get("step")] if rows else []
        if last_rows:
            out.append(f"<details><summary>{len(last_rows)} rollouts of step {last_rows[0].get('step')}</summary>"
                       + _table(["prompt", "output", "reward"],
                                [[str(r.get("prompt"))[-200:], str(r.get("output"))[:400], r.get("reward")] for r in last_rows])
                       + "</details>")
    return "\n".join(out)


def _scores_cell(s: dict) -> str:
    if s.get("value") is None:
        return s.get("status") or "n/a"
    ci = s.get("ci95") or [None, None]
    return f"{s['value']:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci[0] is not None else "")


def eval_section(run: str) -> str:
    results = _load_json(os.path.join(run, "results.json"))
    out = [f"<h2>Evaluation: {html.escape(str(results.get('model', run)))}</h2>"]
    rows = [[name, b.get("kind"), s.get("n", b.get("items")), metric, _scores_cell(s)]
            for name, b in results.get("benchmarks", {}).items() for metric, s in b.get("scores", {}).items()]
    out.append(_table(["benchmark", "kind", "items", "metric", "score [95% CI]"], rows))
    out.append(f"<p>Per-item outputs: <code>deepcorpus inspect {html.escape(os.path.join(run, 'items'))}</code></p>")
    return "\n".join(out)


def ablation_section(run: str) -> str:
    result = _load_json(os.path.join(run, "ablation.json"))
    arms = [a["name"] for a in result.get("config", {}).get("arms", [])]
    out = [f"<h2>Data ablation: {html.escape(run)}</h2>",
           f"<p>{len(arms)} arms x {len(result.get('config', {}).get('seeds', []))} seeds, "
           f"{result.get('steps')} steps (~{result.get('tokens_per_run', 0):,} tokens per run); "
           "mean over seeds ± their standard deviation, best arm in bold.</p>"]
    rows = []
    for row in result.get("table", []):
        cells = []
        for arm in arms:
            c = row["arms"].get(arm, {})
            text = "n/a" if c.get("mean") is None else f"{c['mean']:.4f}" + (
                f" ± {c['sd']:.4f}" if c.get("sd") is not None else "")
            cells.append(f"<b>{text}</b>" if row.get("best") == arm else text)
        rows.append([row["benchmark"], row["metric"] + (" (lower is better)" if row.get("lower_is_better") else "")]
                    + cells)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["benchmark", "metric", *arms])
    body = "".join("<tr>" + "".join(f"<td>{c if i >= 2 else html.escape(str(c))}</td>" for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    png = os.path.join(run, "ablation.png")
    if os.path.exists(png):
        with open(png, "rb") as f:
            out.append(_img("data:image/png;base64," + base64.b64encode(f.read()).decode(),
                            "Each arm's mean over seeds, the seeds' range and every seed"))
    fig, ax = _figure()
    plotted = False
    for i, (arm, seeds) in enumerate(result.get("runs", {}).items()):
        for seed in seeds:
            run_dir = os.path.join(run, "runs", arm, f"seed_{seed}")
            records = [r for r in read_metrics(run_dir) if "step" in r and r.get("loss") is not None]
            if records:
                ax.plot([r["step"] for r in records], [r["loss"] for r in records], color=f"C{i}", alpha=0.8,
                        label=arm if seed == next(iter(seeds)) else None)
                plotted = True
    if plotted:
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.legend(fontsize=8)
        out.append(_img(_png(fig), "Training loss of every run, by arm"))
    else:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return "\n".join(out)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { border-bottom: 2px solid #4c72b0; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f3f3f3; }
td:first-child { text-align: left; } figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; } .note { color: #8a6d3b; background: #fcf8e3; padding: 0.5em; }
nav a { margin-right: 1em; }
"""


def build_html(run_dir: str) -> tuple[str, int]:
    parts = discover(run_dir)
    sections: list[tuple[str, str]] = []
    for run in parts.math:
        sections.append(("math", math_section(run)))
    for run in parts.code:
        sections.append(("code", code_section(run)))
    for run in parts.formal:
        sections.append(("formal", formal_section(run)))
    for path in parts.tokens:
        sections.append(("tokens", tokens_section(path)))
    for run in parts.train:
        sections.append(("training", train_section(run)))
    for run in parts.grpo:
        sections.append(("grpo", grpo_section(run)))
    for run in parts.evals:
        sections.append(("eval", eval_section(run)))
    for run in parts.ablations:
        sections.append(("ablation", ablation_section(run)))
    if not sections:
        raise UserError(f"{run_dir}: found no math, code, formal, token-shard, training, GRPO, eval or ablation outputs "
                        "to report on")
    nav = " ".join(f'<a href="#s{i}">{name}</a>' for i, (name, _) in enumerate(sections))
    body = "\n".join(f'<section id="s{i}">{content}</section>' for i, (_, content) in enumerate(sections))
    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>deepcorpus report: {html.escape(run_dir)}</title><style>{STYLE}</style></head><body>"
        f"<h1>deepcorpus report</h1><p>{html.escape(os.path.abspath(run_dir))} · {created}</p>"
        f"<nav>{nav}</nav>{body}</body></html>"
    )
    return page, len(sections)


def write_report(run_dir: str, output: str) -> int:
    if not os.path.isdir(run_dir):
        raise UserError(f"{run_dir}: {'a file, not a' if os.path.exists(run_dir) else 'no such'} run directory")
    from deepcorpus.core import outputs

    outputs.check_file_output(output)  # never a directory, nor a file inside a dataset
    page, n_sections = build_html(run_dir)
    storage.write_bytes_atomic(output, page.encode())
    n_images = page.count("<img ")
    print(f"wrote {output}: {n_sections} sections, {n_images} plots")
    return 0


def register(sub) -> None:
    p = command_parser(sub, "report", "Write an HTML report (plots embedded) for a run directory.", [
        "deepcorpus report demo-out --output demo-out/report.html",
    ])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (e.g. demo-out, out/math, runs/x)")
    p.add_argument("--output", required=True, type=output_file, help="the HTML file to write")
    p.set_defaults(func=lambda args: write_report(args.run_dir, args.output))
