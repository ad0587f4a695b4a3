"""`deepcorpus report`: sections found by layout, plots embedded, and the page renders in Chromium."""

import json

import pytest

from deepcorpus.cli import main
from deepcorpus.core import contracts, datasets
from deepcorpus.report import build_html, discover
from tests.report.browser import render


@pytest.fixture
def run_dir(tmp_path):
    """A small run directory with every kind of output, laid out as the pipelines lay theirs."""
    math = tmp_path / "math"
    for k, (collected, overlap) in enumerate([(40, None), (55, 0.7)], start=1):
        (math / f"iter_{k}").mkdir(parents=True)
        (math / f"iter_{k}" / "metrics.json").write_text(json.dumps({
            "iteration": k, "n_candidates": 200, "n_collected": collected, "overlap_with_previous": overlap,
            "classifier": {"precision": 0.9, "recall": 0.8 + 0.05 * k}, "threshold": 0.5,
            "math_domains": [{"domain": "mathoverflow.net", "share": 0.8}], "prefixes": ["mathoverflow.net/questions"],
        }))
        with datasets.DatasetWriter(str(math / f"iter_{k}" / "collected"), contracts.WEB_DOC) as w:
            w.write_rows([{"id": str(i), "text": "t", "score": i / collected} for i in range(collected)])
    with datasets.DatasetWriter(str(math / "corpus"), contracts.WEB_DOC) as w:
        w.write_rows([{"id": "a", "text": "t", "language": "en"}, {"id": "b", "text": "t", "language": "zh"}])
    (math / "summary.json").write_text(json.dumps({"counters": {"extract": {"in": 300, "dropped_empty": 4}}}))

    code = tmp_path / "code"
    with datasets.DatasetWriter(str(code / "corpus"), contracts.CODE_REPO) as w:
        w.write_rows([{"id": "r1", "repo": "r1", "text": "x", "order": "dependency", "token_count": 120,
                       "files": [{"path": "a.py", "language": "Python", "bytes": 10},
                                 {"path": "b.go", "language": "Go", "bytes": 20}]}])
    (code / "summary.json").write_text(json.dumps({"counters": {
        "filter": {"in": 10, "dropped_long_lines": 2, "dropped_alpha": 1}, "dedup": {"in": 5, "removed": 1}}}))

    formal = tmp_path / "formal"
    with datasets.DatasetWriter(str(formal / "corpus"), contracts.FORMAL_PROOF) as w:
        w.write_rows([{"id": str(i), "status": "verified" if i % 3 else "error", "elapsed_ms": 10.0 * i,
                       "round": 0, "verified": bool(i % 3)} for i in range(9)])

    schema = contracts.token_shard_schema(4, 100)
    with datasets.DatasetWriter(str(tmp_path / "tokens"), contracts.TOKEN_SHARD, schema=schema) as w:
        w.write_rows([{"tokens": [1, 2, 3, 4, 5], "doc_starts": [0], "source": "math"}])
        w.extra.update(seq_len=4, vocab_size=100, tokenizer_hash="ab" * 32, tokens_by_source={"math": 5})

    train = tmp_path / "runs" / "tiny"
    train.mkdir(parents=True)
    with open(train / "metrics.jsonl", "w") as f:
        for step in range(1, 21):
            f.write(json.dumps({"step": step, "loss": 8 - 0.2 * step, "mtp_loss": 8.5 - 0.2 * step,
                                "tokens_per_s": 1000 + step, "expert_load_max_over_mean": 2 - step / 20}) + "\n")
        f.write('{"step": 21, "loss": 3.')  # a line cut by an interrupted run is skipped
    return tmp_path


def test_discover_finds_each_kind_by_layout(run_dir):
    parts = discover(str(run_dir))
    assert parts.math == [str(run_dir / "math")]
    assert parts.code == [str(run_dir / "code")]
    assert parts.formal == [str(run_dir / "formal")]
    assert parts.tokens == [str(run_dir / "tokens")]
    assert parts.train == [str(run_dir / "runs" / "tiny")]


def test_report_has_every_section_and_embedded_plots(run_dir):
    page, n_sections = build_html(str(run_dir))
    assert n_sections == 5
    for heading in ("Math corpus", "Code corpus", "Formal corpus", "Token shards", "Training"):
        assert heading in page
    for caption in ("Stopping rule", "Score distribution per iteration", "Language distribution", "Rule drops",
                    "Verification outcomes", "Loss curves", "Expert load"):
        assert caption in page
    assert page.count('src="data:image/png;base64,') == page.count("<img ")
    assert "http://" not in page and "https://" not in page.replace("mathoverflow.net", "")  # self-contained
    assert "mathoverflow.net/questions" in page


def test_report_cli_writes_the_file_and_refuses_an_empty_dir(run_dir, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(run_dir), "--output", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert "5 sections" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--output", str(tmp_path / "x.html")]) == 2
    assert "found no math, code, formal" in capsys.readouterr().err


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_in_headless_chromium(run_dir, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", str(run_dir), "--output", str(out)]) == 0
    state = render(str(out), str(tmp_path))
    assert state["ready"] == "complete"
    assert state["title"].startswith("deepcorpus report")
    assert state["errors"] == []
    assert len(state["images"]) >= 8
    assert state["broken_images"] == []
    assert all(img["w"] > 100 and img["h"] > 100 for img in state["images"])
