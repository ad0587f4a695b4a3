"""The demo end to end on the bundled samples, and `inspect` and `report` on what it wrote."""

import json
import os
import subprocess
import sys

import pytest

from deepcorpus.core import datasets
from deepcorpus.inspect import Catalog
from tests.conftest import session_dir
from tests.report.browser import render

# The demo's own subprocess limit, not the suite's 600 s: on a loaded 2-core machine the first test that
# waits for the whole demo (now with post-training) can pass 10 minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo, run once per test session (shared by the xdist workers)."""
    with session_dir(tmp_path_factory, "demo") as root:
        out, log = root / "demo-out", root / "stdout.txt"
        if not log.exists():
            proc = subprocess.run(
                [sys.executable, "-m", "deepcorpus", "demo", "--output", str(out)],
                capture_output=True, text=True, timeout=900,
            )
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            log.write_text(proc.stdout)
        return out, log.read_text()


def test_demo_runs_every_stage_and_ends_with_the_summary(demo):
    out, stdout = demo
    assert "== demo summary ==" in stdout
    for step in ("math", "code", "formal", "tokenizer", "tokens", "train", "sft", "grpo", "report"):
        assert f"\n{step} " in stdout.split("== demo summary ==")[1]
    assert f"deepcorpus inspect {out}/math/corpus" in stdout
    for ds, schema in (("math/corpus", "web_doc"), ("code/corpus", "code_repo"),
                       ("formal/corpus", "formal_proof"), ("tokens", "token_shard")):
        d = datasets.open_dataset(str(out / ds))
        assert d.schema_name == schema and d.row_count > 0, ds


def test_views_on_the_demo_outputs(demo):
    out, _ = demo
    iters = sorted(str(p) for p in out.glob("math/iter_*/collected"))
    cat = Catalog([str(out / "math"), str(out / "code"), str(out / "formal"), str(out / "tokens"), *iters])
    assert cat.query("SELECT count(*) FROM docs").fetchall()[0][0] > 0
    assert cat.query("SELECT count(DISTINCT iteration) FROM docs_by_iteration").fetchall()[0][0] >= 2
    assert cat.query("SELECT count(*) FROM repos_by_language").fetchall()[0][0] >= 3
    assert cat.query("SELECT sum(n) FROM proofs_by_status").fetchall()[0][0] > 0
    assert cat.query("SELECT sum(tokens) FROM tokens_by_source").fetchall()[0][0] > 0
    assert cat.query("SELECT count(*) FROM dropped_by_rule").fetchall()[0][0] > 0


def test_demo_report_renders_in_chromium(demo, tmp_path):
    out, _ = demo
    report = out / "report.html"
    assert report.exists()
    page = report.read_text()
    for heading in ("Math corpus", "Code corpus", "Formal corpus", "Token shards", "Training", "Data ablation",
                    "Post-training (GRPO)"):
        assert heading in page
    state = render(str(report), str(tmp_path))
    assert state["errors"] == [] and state["broken_images"] == [] and len(state["images"]) >= 8
    assert os.path.getsize(report) < 5_000_000


def test_demo_ablation_shows_the_math_corpus_ahead_on_math_and_behind_on_other_text(demo):
    out, stdout = demo
    assert "== data ablation" in stdout
    result = json.loads((out / "ablation" / "ablation.json").read_text())
    bpb = {r["benchmark"]: r["arms"] for r in result["table"] if r["metric"] == "bpb"}
    for seed in range(len(result["config"]["seeds"])):  # seed by seed, not only on average
        for math_text in ("math_sample", "math_pages"):
            assert bpb[math_text]["math"]["values"][seed] < bpb[math_text]["other"]["values"][seed]
        assert bpb["other_pages"]["other"]["values"][seed] < bpb["other_pages"]["math"]["values"][seed]
    tokens = [datasets.read_manifest(str(out / "ablation" / arm))["num_tokens"] for arm in ("tokens_math", "tokens_other")]
    assert abs(tokens[0] - tokens[1]) / tokens[1] < 0.05  # the same number of tokens in each arm


def test_demo_post_trains_the_tiny_run_with_sft_then_grpo(demo):
    from deepcorpus.core.metrics import read_metrics

    out, stdout = demo
    assert "reward curve over" in stdout
    sft = json.loads((out / "runs" / "sft" / "summary.json").read_text())
    assert sft["kind"] == "sft" and sft["last_loss"] < sft["first_loss"]
    records = read_metrics(str(out / "runs" / "grpo"))
    assert records and all(r["reward_mean"] is not None and r["kl"] is not None for r in records)
    assert max(r["reward_mean"] for r in records) > 0  # the SFT'd model already answers some sums
