"""Dataflow packaging: workers install what the pipelines import and nothing of the launcher's."""

import os
import subprocess
import sys

import tomllib
from apache_beam.options.pipeline_options import SetupOptions

from pipelines import runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER_ONLY = ("torch", "triton", "duckdb", "matplotlib", "sympy", "datatrove")
# Every module a Beam worker imports when it runs a pipeline's steps.
WORKER_MODULES = [
    "pipelines.io", "pipelines.stage", "pipelines.worker", "pipelines.code.run", "pipelines.code.transforms",
    "pipelines.code.repo_dedup", "pipelines.tokenize.run", "pipelines.tokenize.transforms",
    "pipelines.tokenize.windows", "pipelines.worker_paths",
    "pipelines.formal.run", "pipelines.formal.transforms", "formal.prover", "formal.backends", "formal.cache",
    "pipelines.math.run", "pipelines.math.steps", "pipelines.dedup.run", "dedup.beam", "classifiers.code_language",
    "classifiers.math_classifier", "classifiers.langid", "classifiers.code_quality",
]


def _pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _names(requirements):
    return {r.split("==")[0].split("[")[0].lower() for r in requirements}


def test_the_worker_set_holds_none_of_the_launchers_packages():
    project = _pyproject()
    workers, launcher = _names(project["dependencies"]), _names(project["optional-dependencies"]["launcher"])
    assert not workers & set(LAUNCHER_ONLY)
    assert set(LAUNCHER_ONLY) <= launcher
    assert "apache-beam" in workers and "tokenizers" in workers


def test_worker_modules_import_without_the_launchers_packages():
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in LAUNCHER_ONLY)
    code = f"import sys; {blocked}\n" + "\n".join(f"import {m}" for m in WORKER_MODULES)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_any_remote_runner_gets_the_project_shipped():
    for args in (["--runner", "PortableRunner", "--job_endpoint", "localhost:8099"],
                 ["--runner", "FlinkRunner"],
                 ["--runner", "DataflowRunner", "--project", "p", "--region", "r", "--temp_location", "gs://b/t"]):
        setup = runner.pipeline_options(args).view_as(SetupOptions)
        assert setup.setup_file == os.path.join(ROOT, "setup.py"), args


def test_a_container_is_used_as_given_and_a_foreign_tag_is_warned_about(caplog):
    args = ["--runner", "PortableRunner", "--job_endpoint", "localhost:8099", "--sdk_container_image", "img:old"]
    with caplog.at_level("WARNING"):
        setup = runner.pipeline_options(args).view_as(SetupOptions)
    assert setup.setup_file is None
    assert "its tag is not this code's" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        runner.pipeline_options([*args[:-1], f"img:{runner.image_tag()}"])
    assert "its tag is not this code's" not in caplog.text
    assert "+" not in runner.image_tag() and runner.image_tag().startswith("0.")
