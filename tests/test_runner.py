"""Runners: local defaults, Dataflow options and packaging, without contacting any cloud."""

import os
import subprocess
import sys
import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import DirectOptions, GoogleCloudOptions, SetupOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from deepcorpus.core import contracts, datasets
from deepcorpus.core.errors import UserError
from pipelines import runner, summary
from pipelines.io import ReadDocuments, WriteDataset, WriteJsonl
from pipelines.stage import Stage

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_local_default_is_fnapi_multiprocessing_one_worker_per_core():
    options = runner.pipeline_options([])
    direct = options.view_as(DirectOptions)
    assert direct.direct_running_mode == "multi_processing"
    assert direct.direct_num_workers == os.cpu_count()
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    assert isinstance(runner.make_runner(options), FnApiRunner)


def test_options_make_one_view_per_class_that_shares_the_values():
    import pickle

    options = runner.pipeline_options(["--project", "p", "--impersonate_service_account", "someone@x"])
    cloud = options.view_as(GoogleCloudOptions)
    assert options.view_as(GoogleCloudOptions) is cloud  # not a new parser per transform applied
    cloud.region = "europe-west4"
    assert options.view_as(GoogleCloudOptions).region == "europe-west4"
    assert options.get_all_options()["region"] == "europe-west4"
    # Pickled as Beam pickles options, without the cache: what Beam's __getstate__ drops stays dropped
    copy = pickle.loads(pickle.dumps(options))
    assert "_views" not in copy.__dict__
    assert copy.view_as(GoogleCloudOptions).impersonate_service_account is None
    assert copy.view_as(GoogleCloudOptions).region == "europe-west4" and copy.view_as(StandardOptions) is \
        copy.view_as(StandardOptions)


def test_user_beam_options_pass_through_unchanged():
    options = runner.pipeline_options(["--direct_num_workers", "3", "--direct_running_mode", "in_memory"])
    assert options.view_as(DirectOptions).direct_num_workers == 3
    assert options.view_as(DirectOptions).direct_running_mode == "in_memory"


def test_dataflow_options_ship_the_project():
    args = ["--runner", "DataflowRunner", "--project", "p", "--region", "europe-west4",
            "--temp_location", "gs://bucket/tmp", "--num_workers", "8"]
    options = runner.pipeline_options(args)
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    assert options.view_as(GoogleCloudOptions).region == "europe-west4"
    setup_file = options.view_as(SetupOptions).setup_file
    assert setup_file == os.path.join(REPO, "setup.py") and os.path.exists(setup_file)
    assert options.get_all_options()["num_workers"] == 8


def test_dataflow_with_container_does_not_add_setup_file():
    args = ["--runner", "DataflowRunner", "--project", "p", "--region", "r", "--temp_location", "gs://b/t",
            "--sdk_container_image", "gcr.io/p/deepcorpus:latest"]
    assert runner.pipeline_options(args).view_as(SetupOptions).setup_file is None


def test_dataflow_without_project_is_a_user_error():
    with pytest.raises(UserError, match="--project"):
        runner.pipeline_options(["--runner", "DataflowRunner", "--region", "r", "--temp_location", "gs://b/t"])


@pytest.mark.slow
def test_the_package_dataflow_workers_install_builds(tmp_path):
    """What Dataflow does with --setup_file: build an sdist of the project (offline)."""
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "--dist-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (sdist,) = os.listdir(tmp_path)
    import tarfile

    names = tarfile.open(tmp_path / sdist).getnames()
    for pkg in ("deepcorpus", "pipelines", "dedup", "model", "train", "formal", "classifiers"):
        assert any(f"/{pkg}/__init__.py" in n for n in names), pkg


def test_read_and_write_dataset_in_a_pipeline(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "a", "url": "https://x.org/1"}\n{"text": "b", "id": "b"}\n')
    out = str(tmp_path / "out")
    target = datasets.Target(out, datasets.new_run_id(), contracts.WEB_DOC, contracts.WEB_DOC_SCHEMA)
    draft = datasets.draft_manifest(target, command=None, inputs=[str(src)])
    sources = datasets.resolve_inputs([str(src)])
    with TestPipeline(runner=runner.make_runner(runner.pipeline_options([]))) as p:
        rows = p | ReadDocuments(sources)
        assert_that(rows | beam.Map(lambda r: (r["id"], r["text"])), equal_to([("in.jsonl:0", "a"), ("b", "b")]))
        _ = rows | WriteDataset(target)
    # The pipeline wrote its parts in place and, last, their list: the commit reads no part.
    parts = datasets.read_part_list(out, target.run_id)
    assert parts and all(p["name"].startswith(f"part-{target.run_id}-") for p in parts)
    datasets.commit(out, draft, parts)
    ds = datasets.open_dataset(out)
    assert ds.manifest["inputs"] == datasets.fingerprint_files([str(src)])
    assert ds.row_count == 2 and sorted(ds.read().column("text").to_pylist()) == ["a", "b"]


def test_a_stage_commits_its_outputs_and_leaves_nothing_of_a_failed_one(tmp_path):
    in_memory = ["--direct_running_mode", "in_memory"]
    kept, empty, never = (str(tmp_path / n) for n in ("kept", "empty", "never"))
    command = ["deepcorpus", "dedup", "exact", "--output", kept]
    with Stage("test", in_memory, command=command) as stage:
        _ = stage.pipeline | beam.Create([{"id": "a", "text": "t"}]) | stage.write(kept, contracts.DOCUMENTS)
        stage.output(empty, contracts.WEB_DOC)  # the pipeline writes nothing there
        counters = stage.run()
        manifest = stage.commit(kept, extra={"counters": counters})
        assert stage.commit(empty)["row_count"] == 0
    assert manifest["row_count"] == 1 and manifest["command"] == command
    assert datasets.open_dataset(empty, contracts.WEB_DOC).read().schema.equals(contracts.WEB_DOC_SCHEMA)
    with pytest.raises(RuntimeError, match="a check after the run"):
        with Stage("test", in_memory, command=command) as stage:
            _ = stage.pipeline | beam.Create([{"id": "b", "text": "u"}]) | stage.write(never, contracts.DOCUMENTS)
            stage.run()
            raise RuntimeError("a check after the run failed")
    assert sorted(os.listdir(tmp_path)) == ["empty", "kept"]  # nothing of the failed write is left behind
    for name in ("empty", "kept"):  # only the manifest and its parts: no lock, records or temporaries
        listed = {p["name"] for p in datasets.read_manifest(str(tmp_path / name))["parts"]}
        assert set(os.listdir(tmp_path / name)) == listed | {datasets.MANIFEST}


def test_jsonl_listing_is_one_file_named_as_given(tmp_path):
    import json

    path = tmp_path / "removed.jsonl"
    with TestPipeline(runner=runner.make_runner(runner.pipeline_options([]))) as p:
        _ = p | beam.Create([{"id": "b", "why": "é"}, {"id": "a", "why": "x"}]) | WriteJsonl(str(path))
    assert os.listdir(tmp_path) == ["removed.jsonl"]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sorted(map(json.loads, lines), key=lambda r: r["id"]) == [{"id": "a", "why": "x"}, {"id": "b", "why": "é"}]
    assert '"why": "é"' in path.read_text(encoding="utf-8")  # UTF-8 as is, not \u escapes


def test_summary_table_from_beam_counters():
    from apache_beam.metrics import Metrics

    class Count(beam.DoFn):
        def process(self, x):
            Metrics.counter("extract", "in").inc()
            if x % 2:
                Metrics.counter("extract", "dropped_odd").inc()
                return
            yield x

    p = beam.Pipeline(runner=runner.make_runner(runner.pipeline_options([])),
                      options=runner.pipeline_options(["--direct_running_mode", "in_memory"]))
    _ = p | beam.Create(range(10)) | beam.ParDo(Count())
    counters = summary.counters_from_result(runner.run(p, "test"))
    assert counters["extract"] == {"dropped_odd": 5, "in": 10}
    table = summary.format_table(counters)
    assert "dropped_odd" in table and "10" in table


def test_in_process_runs_have_one_worker_unless_asked():
    options = runner.pipeline_options([], runner.RunnerConfig(in_memory=True))
    assert options.view_as(DirectOptions).direct_num_workers == 1  # Beam warns about more, which do nothing
    options = runner.pipeline_options(["--direct_running_mode=in_memory", "--direct_num_workers=3"])
    assert options.view_as(DirectOptions).direct_num_workers == 3


def test_local_workers_keep_their_stderr_only_under_debug():
    from pipelines import worker

    assert "--debug" not in worker.command(123)
    assert worker.command(123, debug=True).endswith(" --debug")


def test_a_user_error_raised_in_a_worker_comes_back_as_that_error():
    augmented = UserError("docs.jsonl:7: malformed JSON (Expecting value) [while running 'Read[0]Rows']")
    assert str(runner.worker_user_error(augmented)) == "docs.jsonl:7: malformed JSON (Expecting value)"
    relayed = RuntimeError("Traceback (most recent call last):\n  File ...\n"
                           "deepcorpus.core.errors.DatasetError: d/part-1.parquet: not a readable Parquet file (x)\n"
                           "\nDuring handling ...\ndeepcorpus.core.errors.DatasetError: d/part-1.parquet: not a "
                           "readable Parquet file (x) [while running 'Read[0]Rows']\n")
    error = runner.worker_user_error(relayed)
    assert type(error).__name__ == "DatasetError" and str(error) == "d/part-1.parquet: not a readable Parquet file (x)"
    assert runner.worker_user_error(RuntimeError("ZeroDivisionError: division by zero")) is None


def _bad_line_file(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [f'{{"id": "{i}", "text": "document {i}"}}\n' for i in range(50)]
    lines[30] = '{"id": "30", "text": \n'  # cut: past the head the launcher checks, so a worker finds it
    path.write_text("".join(lines))
    return path


def test_a_bad_line_found_by_a_worker_process_is_one_line_naming_file_and_line(tmp_path):
    """The local default (multi_processing): Beam relayed each worker's traceback, 35 KB of stderr."""
    docs = _bad_line_file(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "deepcorpus", "dedup", "exact", "--input", str(docs), "--output", str(tmp_path / "out"),
         "--direct_num_workers", "2"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if " I " not in line[:12]]  # progress lines aside
    assert len(errors) == 1 and errors[0].startswith(f"deepcorpus dedup exact: error: {docs}:31: malformed JSON")
    assert "apitools" not in proc.stderr and "Logging handler" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_in_process_a_bad_line_is_the_same_one_line_error(tmp_path, capsys):
    from deepcorpus.cli import main

    docs = _bad_line_file(tmp_path)
    assert main(["dedup", "exact", "--input", str(docs), "--output", str(tmp_path / "out"),
                 "--direct_running_mode", "in_memory"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"deepcorpus dedup exact: error: {docs}:31: malformed JSON") and "while running" not in last


def test_jobs_that_build_the_sdist_are_submitted_one_at_a_time(tmp_path):
    # Beam's `setup.py sdist` builds its release tree in the project folder: two at once collide.
    import threading

    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.runner import one_sdist_at_a_time

    options = PipelineOptions(["--runner=PortableRunner", f"--setup_file={tmp_path}/setup.py"])
    inside, overlaps = [], []

    def submit():
        with one_sdist_at_a_time(options):
            inside.append(1)
            overlaps.append(len(inside) > 1)
            time.sleep(0.2)
            inside.pop()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [False, False, False]
