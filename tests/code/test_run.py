"""`deepcorpus code run` end to end, the dependency order on a real multi-language repository, and
the quality-model hook."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifiers.code_language import LanguageIdentifier, skip_reason
from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core.datasets import open_dataset
from pipelines.code.dependencies import SourceFile, dependency_graph
from pipelines.code.filters import RULE_NAMES
from pipelines.code.toposort import dependency_order, strongly_connected_components

IN_MEMORY = ["--direct_running_mode", "in_memory"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo's exact command on the bundled repositories."""
    out = tmp_path_factory.mktemp("code") / "code"
    code = main(["code", "run", "--input", samples.path("repos"), "--output", str(out),
                 "--benchmark", samples.path("benchmarks", "code_benchmark.jsonl")])
    assert code == 0
    return out


@pytest.mark.slow
def test_the_demo_run_writes_repository_documents(demo_run):
    ds = open_dataset(str(demo_run / "corpus"), "code_repo")
    rows = {r["repo"]: r for r in ds.iter_rows()}
    # pyshapes-fork.tar.gz is a near-duplicate of pyshapes (which has the permissive license);
    # puzzles-py holds a benchmark problem word for word.
    assert set(rows) == {"pyshapes", "ringbuf-c", "inventory-jvm", "todo-web", "kvstore-go", "wordcount-rs",
                         "polyglot", "octo/shellkit", "octo/stats-jl"}
    go = [f["path"] for f in rows["kvstore-go"]["files"]]
    assert go.index("internal/codec/codec.go") < go.index("internal/store/store.go") < go.index("cmd/kv/main.go")
    c = [f["path"] for f in rows["ringbuf-c"]["files"]]
    assert c.index("include/config.h") < c.index("include/ringbuf.h") < c.index("src/ringbuf.c")
    assert rows["ringbuf-c"]["text"].startswith("// include/config.h\n#ifndef RINGBUF_CONFIG_H")
    assert all(r["order"] == "dependency" for r in rows.values())
    assert rows["octo/stats-jl"]["license"] == "GPL-3.0" and rows["octo/stats-jl"]["stars"] == 40
    assert rows["pyshapes"]["license"] == "MIT"
    web = {f["path"] for f in rows["todo-web"]["files"]}
    assert "node_modules/left-pad/index.js" not in web and "package-lock.json" not in web
    assert "config/to-html.xslt" in web and "config/app.xml" not in web
    assert dict(rows["polyglot"]["quality"])["n_languages"] == 5.0


@pytest.mark.slow
def test_the_summary_counts_every_rule(demo_run):
    summary = json.loads((demo_run / "summary.json").read_text())
    counters = summary["counters"]
    # The command as typed, even when run in-process (as the demo does)
    assert summary["command"] == ["deepcorpus", "code", "run", "--input", samples.path("repos"), "--output",
                                  str(demo_run), "--benchmark", samples.path("benchmarks", "code_benchmark.jsonl")]
    for rule in RULE_NAMES:
        assert counters["filter"][f"dropped_{rule}"] >= 1, rule  # the samples trip each rule once
    assert counters["langid"]["skipped_vendor"] >= 1 and counters["langid"]["skipped_binary"] == 1
    assert counters["repo_dedup"]["dropped_near_duplicate"] == 1
    assert counters["decontaminate"]["dropped_benchmark"] == 1
    assert counters["file_dedup"]["dropped_exact"] == 1  # puzzles-py vendored pyshapes' geometry.py
    assert summary["repos"] == 9 and summary["order"]["dependency"] == 10


@pytest.mark.slow
def test_a_parquet_listing_with_random_order(tmp_path):
    rows = [
        {"repo": "octo/a", "path": "main.py", "content": "from util import helper\nprint(helper())\n", "stars": 5,
         "license": "mit"},
        {"repo": "octo/a", "path": "util.py", "content": "def helper():\n    return 42\n", "stars": 5, "license": "mit"},
    ]
    listing = tmp_path / "stack.parquet"
    pq.write_table(pa.Table.from_pylist(rows), listing)
    out = tmp_path / "out"
    assert main(["code", "run", "--input", str(listing), "--output", str(out), "--order", "random", "--seed", "3",
                 *IN_MEMORY]) == 0
    [row] = open_dataset(str(out / "corpus")).iter_rows()
    assert row["order"] == "random" and row["license"] == "MIT" and row["stars"] == 5
    assert sorted(f["path"] for f in row["files"]) == ["main.py", "util.py"]


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    assert main(["code", "run", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope: no such file or folder" in err
    assert not (tmp_path / "o" / "corpus").exists()


def test_a_real_multi_language_repository_is_ordered_imports_first():
    """pyarrow as installed: Python, Cython and C++ headers that include each other. Every file
    comes after the files it imports, except between files of the same import cycle."""
    root = os.path.dirname(pa.__file__)
    ident = LanguageIdentifier()
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            full = os.path.join(folder, name)
            rel = "pyarrow/" + os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as f:
                data = f.read()
            language = None if skip_reason(rel, data) else ident.identify(rel, data)
            if language:
                files.append(SourceFile(rel, language, data.decode("utf-8", "replace")))
    languages = {f.language for f in files}
    assert {"Python", "Cython", "C++"} <= languages
    graph = dependency_graph(files)
    edges = [(a, b) for a, bs in graph.items() for b in bs]
    assert len(edges) > 500
    # Spot checks of resolution across families.
    assert "pyarrow/include/arrow/array.h" in graph["pyarrow/include/arrow/api.h"]
    assert any(b.endswith(".pxd") for a, b in edges if a.endswith(".pyx"))
    order = dependency_order(graph, seed=0, key="pyarrow")
    assert sorted(order) == sorted(graph)
    position = {p: i for i, p in enumerate(order)}
    cycle = strongly_connected_components({a: sorted(bs) for a, bs in graph.items()})
    backwards = [(a, b) for a, b in edges if position[b] > position[a]]
    assert all(cycle[a] == cycle[b] for a, b in backwards)
    assert len(backwards) < 0.01 * len(edges)


def test_dataflow_refuses_local_inputs_before_starting(tmp_path, capsys):
    argv = ["code", "run", "--input", samples.path("repos", "wordcount-rs"), "--output", "gs://bucket/code",
            "--runner", "DataflowRunner", "--project", "p", "--region", "r", "--temp_location", "gs://bucket/tmp"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--input {samples.path('repos', 'wordcount-rs')}: a path on this machine" in err and "DataflowRunner" in err


@pytest.mark.slow
def test_git_work_trees_and_bare_repositories_through_the_pipeline(tmp_path):
    import shutil
    import subprocess

    def git(*args, cwd):
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@e"}
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)

    repos = tmp_path / "repos"
    work = repos / "ringbuf"
    shutil.copytree(samples.path("repos", "ringbuf-c"), work)
    git("init", "-q", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "init", cwd=work)
    (work / "src" / "scratch.c").write_text("int untracked_scratch_file(void) { return 1; }\n")
    shutil.copytree(samples.path("repos", "wordcount-rs"), tmp_path / "wc")
    git("init", "-q", cwd=tmp_path / "wc")
    git("add", ".", cwd=tmp_path / "wc")
    git("commit", "-q", "-m", "init", cwd=tmp_path / "wc")
    git("clone", "-q", "--bare", str(tmp_path / "wc"), str(repos / "wordcount.git"), cwd=tmp_path)
    out = tmp_path / "out"
    assert main(["code", "run", "--input", str(repos), "--output", str(out), *IN_MEMORY]) == 0
    rows = {r["repo"]: r for r in open_dataset(str(out / "corpus")).iter_rows()}
    assert set(rows) == {"ringbuf", "wordcount"}
    assert "src/scratch.c" not in {f["path"] for f in rows["ringbuf"]["files"]}
    rust = [f["path"] for f in rows["wordcount"]["files"]]
    assert rust.index("src/tokenize.rs") < rust.index("src/counter.rs") < rust.index("src/main.rs")


@pytest.mark.slow
def test_extra_languages_keep_code_related_text(tmp_path):
    repo = tmp_path / "tool"
    (repo / "src").mkdir(parents=True)
    (repo / "README.md").write_text("# tool\n\nA small command line tool that prints a friendly greeting.\n")
    (repo / "src" / "tool.py").write_text("def greet(name):\n    return f'hello {name}'\n")
    (repo / "ci.yml").write_text("on: push\n")  # under 50 characters: the YAML size rule drops it
    (repo / "settings.yml").write_text("greeting:\n  language: en\n  punctuation: exclamation\n  repeat: 1\n")
    out = tmp_path / "out"
    assert main(["code", "run", "--input", str(repo), "--output", str(out), "--extra-language", "markdown",
                 "--extra-language", "YAML", *IN_MEMORY]) == 0
    [row] = open_dataset(str(out / "corpus")).iter_rows()
    assert sorted((f["path"], f["language"]) for f in row["files"]) == [
        ("README.md", "Markdown"), ("settings.yml", "YAML"), ("src/tool.py", "Python")]
    assert "<!-- README.md -->\n# tool\n" in row["text"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counters"]["filter"]["dropped_json_yaml_size"] == 1


def test_an_unknown_extra_language_is_refused(tmp_path, capsys):
    assert main(["code", "run", "--input", samples.path("repos", "wordcount-rs"), "--output", str(tmp_path / "o"),
                 "--extra-language", "Klingon"]) == 2
    assert "--extra-language Klingon: neither Linguist (enry) nor Pygments knows" in capsys.readouterr().err


@pytest.mark.slow
def test_code_run_stores_the_model_score(tmp_path):
    from classifiers.code_quality import train_quality_model
    from tests.classifiers.test_code_quality import BAD, GOOD

    path = str(tmp_path / "q.bin")
    train_quality_model(GOOD, BAD, path)
    out = tmp_path / "out"
    assert main(["code", "run", "--input", samples.path("repos", "wordcount-rs"), "--input",
                 samples.path("repos", "kvstore-go"), "--output", str(out), "--quality-model", path,
                 "--direct_running_mode", "in_memory"]) == 0
    rows = list(open_dataset(str(out / "corpus")).iter_rows())
    assert len(rows) == 2
    for row in rows:
        score = dict(row["quality"])["model_score"]
        assert 0.0 <= score <= 1.0
    assert json.loads((out / "summary.json").read_text())["counters"]["quality"]["scored"] == 2


def test_a_missing_model_is_a_one_line_error(tmp_path, capsys):
    assert main(["code", "run", "--input", samples.path("repos", "wordcount-rs"), "--output", str(tmp_path / "o"),
                 "--quality-model", str(tmp_path / "none.bin")]) == 2
    assert "none.bin: no such quality model file" in capsys.readouterr().err
