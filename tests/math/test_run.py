"""The whole loop end to end on the bundled crawl, its resume, the stopping rule and the Dataflow graph."""

import json
import logging
import os
import shutil

import pytest

from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core import datasets
from deepcorpus.core.contracts import WEB_DOC, WEB_DOC_SCHEMA
from pipelines.math.candidates import dedup_graph, extract_graph
from pipelines.math.config import MathRunConfig
from pipelines.math.inputs import classify
from pipelines.math.run import stop_reason
from tests.conftest import session_dir

BENCH = samples.path("benchmarks", "math_benchmark.jsonl")


def math_run(out, *extra):
    return main(["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--seed", samples.path("math_seed.jsonl"),
                 "--output", str(out), "--benchmark", BENCH, "--auto-approve", "0.6",
                 "--direct_running_mode", "in_memory", "--direct_num_workers", "1", *extra])


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    """One run for the whole session, shared by xdist workers."""
    with session_dir(tmp_path_factory, "math_e2e") as root:
        out = root / "math"
        if not (out / "summary.json").exists():
            # Three iterations allowed, but iteration 2 re-collects >90% of iteration 1: the loop stops there.
            assert math_run(out, "--iterations", "3", "--stop-overlap", "0.9") == 0
    return out


@pytest.mark.slow
def test_corpus_fills_every_web_doc_column(run_dir):
    corpus = datasets.open_dataset(str(run_dir / "corpus"), "web_doc")
    rows = corpus.read().to_pylist()
    assert len(rows) > 150
    for name in WEB_DOC_SCHEMA.names:
        assert all(r[name] is not None for r in rows), name
    labels = {r["url"]: r for r in map(json.loads, open(samples.path("crawl_labels.jsonl")))}
    assert sum(labels[r["url"]]["label"] for r in rows) / len(rows) > 0.95  # the corpus is math
    assert {"zh", "en"} <= {r["language"] for r in rows}  # Chinese math is kept
    formats = {f for r in rows for f in r["extraction"]["math_formats"]}
    assert {"mathjax_script", "mathjax3", "katex", "mathml", "image", "wp_katex", "math_container"} <= formats


@pytest.mark.slow
def test_decontamination_drops_pages_quoting_the_benchmark(run_dir):
    removed = [json.loads(line) for line in open(run_dir / "decontamination_removed.jsonl")]
    assert len(removed) == 4 and all(r["reason"] == "benchmark" for r in removed)
    corpus_text = " ".join(datasets.open_dataset(str(run_dir / "corpus")).read(["text"]).column("text").to_pylist())
    assert "A baker sells muffins for 3 dollars each" not in corpus_text


@pytest.mark.slow
def test_each_iteration_is_auditable_and_the_loop_stops_on_overlap(run_dir):
    assert not (run_dir / "iter_3").exists()
    m1 = json.loads((run_dir / "iter_1" / "metrics.json").read_text())
    m2 = json.loads((run_dir / "iter_2" / "metrics.json").read_text())
    for key in ("n_candidates", "n_collected", "n_new", "overlap_with_previous", "classifier", "threshold",
                "score_histogram", "domains", "prefixes"):
        assert key in m1 and key in m2
    assert m1["classifier"]["precision"] >= 0.9 and m1["classifier"]["recall"] >= 0.8
    # The seed grown by discovery teaches iteration 2 the word-only questions of the eval set.
    assert m2["classifier"]["recall"] > m1["classifier"]["recall"]
    assert "mathforum.example.net/questions" in [p["prefix"] for p in m1["prefixes"] if p["approved"]]
    # Word-only questions under the approved prefix joined the seed; iteration 2 collects them.
    assert m2["seed_added"] >= 3 and m2["n_new"] >= 3
    assert m2["overlap_with_previous"] >= 0.9
    for name in ("model.bin", "discovery.yaml", "domain_stats.jsonl", "score_histogram.json"):
        assert (run_dir / "iter_1" / name).exists()
    assert datasets.open_dataset(str(run_dir / "iter_1" / "collected")).row_count == m1["n_collected"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "overlap" in summary["stopped"] and len(summary["iterations"]) == 2
    assert summary["counters"]["read"]["html"] == 342 and summary["counters"]["url"]["dropped_url"] == 8
    lines = summary["conservation"]  # rows in = rows out + rows dropped, stage by stage, all balanced
    assert lines and all(" = " in line and " != " not in line for line in lines)
    assert any(line.startswith("corpus: decontaminate: in ") and "dropped_benchmark 4" in line for line in lines)


@pytest.mark.slow
def test_resume_reuses_complete_iterations(run_dir, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pipelines.math")
    copy = tmp_path / "math"
    shutil.copytree(run_dir, copy)  # other tests read the shared run meanwhile
    before = os.path.getmtime(copy / "iter_1" / "metrics.json")
    assert math_run(copy, "--iterations", "2") == 0
    assert os.path.getmtime(copy / "iter_1" / "metrics.json") == before
    assert "iteration 1: complete" in caplog.text and "reusing" in caplog.text


@pytest.mark.slow
def test_resume_recomputes_what_a_changed_option_or_input_affects_and_says_which(run_dir, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pipelines.math")
    copy = tmp_path / "math"
    shutil.copytree(run_dir, copy)
    candidates = datasets.read_manifest(str(copy / "candidates"))
    extracted = datasets.read_manifest(str(copy / "extracted"))
    assert len(extracted["inputs"]) == 3 and extracted["options"]["min_chars"] == 100  # no longer {}
    assert list(candidates["inputs"]) == ["extracted"]  # dedup is made from extracted/, by its commit
    assert math_run(copy, "--iterations", "1", "--threshold", "0.95") == 0
    assert "iteration 1: recomputing: option threshold: 0.5 -> 0.95" in caplog.text
    assert "reusing" in caplog.text and datasets.read_manifest(str(copy / "candidates")) == candidates
    assert json.loads((copy / "iter_1" / "metrics.json").read_text())["threshold"] == 0.95
    collected = datasets.read_manifest(str(copy / "iter_1" / "collected"))
    assert collected["options"]["threshold"] == 0.95 and "candidates" in collected["inputs"]
    scores = datasets.open_dataset(str(copy / "iter_1" / "scores"), "math_score")
    assert scores.row_count == candidates["row_count"]
    caplog.clear()
    seed = tmp_path / "seed.jsonl"
    shutil.copy(samples.path("math_seed.jsonl"), seed)
    assert math_run(copy, "--iterations", "1", "--threshold", "0.95", "--seed", str(seed)) == 0
    assert f"input {seed} is new" in caplog.text and "math_seed.jsonl is no longer given" in caplog.text


def test_stop_reason():
    assert stop_reason({"overlap_with_previous": None, "n_collected": 5}, 0.98) is None
    assert stop_reason({"overlap_with_previous": 0.97, "n_collected": 5}, 0.98) is None
    assert "98.5%" in stop_reason({"overlap_with_previous": 0.985, "n_collected": 5}, 0.98)
    assert stop_reason({"overlap_with_previous": None, "n_collected": 0}, 0.98) == "nothing was collected"


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    assert main(["math", "run", "--input", str(tmp_path / "none*.warc.gz"), "--seed", samples.path("math_seed.jsonl"),
                 "--output", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"body": "x"}\n')
    assert main(["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--seed", str(seed),
                 "--output", str(tmp_path / "o")]) == 2
    assert "no 'text' field" in capsys.readouterr().err


def test_dataflow_options_build_the_candidates_graph_without_cloud_contact():
    import apache_beam as beam
    from apache_beam.options.pipeline_options import GoogleCloudOptions, SetupOptions, StandardOptions

    from pipelines.runner import pipeline_options

    options = pipeline_options(["--runner", "DataflowRunner", "--project", "my-project", "--region", "us-central1",
                                "--temp_location", "gs://bucket/tmp", "--num_workers", "8"])
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    assert options.view_as(GoogleCloudOptions).region == "us-central1"
    assert options.view_as(SetupOptions).setup_file.endswith("setup.py")  # ships this project to the workers
    cfg = MathRunConfig(inputs=["gs://bucket/crawl/*.warc.gz"], seed="gs://bucket/owm.parquet",
                        output="gs://bucket/math")
    p = beam.Pipeline(options=options)
    target = datasets.Target("gs://bucket/math/extracted", datasets.new_run_id(), WEB_DOC, WEB_DOC_SCHEMA)
    extract_graph(p, cfg, [classify("gs://bucket/crawl/*.warc.gz")], target)
    labels = {t.unique_name for t in p.to_runner_api().components.transforms.values()}
    for step in ("ExpandInputs", "SpreadFiles", "Read", "Extract", "LanguageId", "WriteExtracted"):
        assert step in labels
    assert "Spread" not in labels  # the pages are never shuffled, only the file names
    p = beam.Pipeline(options=options)
    target = datasets.Target("gs://bucket/math/candidates", datasets.new_run_id(), WEB_DOC, WEB_DOC_SCHEMA)
    dedup_graph(p, cfg, "gs://bucket/math/extracted", 10**9, target, "gs://bucket/math/candidates_removed.jsonl")
    labels = {t.unique_name for t in p.to_runner_api().components.transforms.values()}
    for step in ("SlimRecords", "Dedup/UrlDedup", "Dedup/KeepEarliest", "Dedup/Components", "DropRemoved/Apply",
                 "WriteCandidates"):
        assert any(label.startswith(step) for label in labels), step


@pytest.mark.slow
def test_threshold_auto_picks_the_best_f1_on_the_eval_set(run_dir):
    from classifiers.math_classifier import MathClassifier
    from pipelines.math.iteration import evaluate

    clf = MathClassifier.load(str(run_dir / "iter_1" / "model.bin"))
    cfg = MathRunConfig(inputs=[], seed="", output="", threshold=None, eval_path=samples.path("math_eval.jsonl"))
    threshold, metrics = evaluate(cfg, clf)
    assert 0 < threshold < 1 and metrics["f1"] >= 0.9 and metrics["threshold"] == threshold
