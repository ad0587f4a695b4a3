"""`code run` on the remote-like harness (tests/harness/remote_like.py): Beam's PortableRunner, a job
service and an external worker pool that sees the bucket and none of the launcher's files. The
repositories, a Parquet listing (read on the workers by ReadAllFromParquet) and the output are in the
bucket; the benchmark file is only on the launcher and is staged for the workers."""

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core.datasets import open_dataset

IN_MEMORY = ["--direct_running_mode", "in_memory"]


def _inputs(root):
    """Three sample repositories (one a fork of another, as an archive) and a two-repository listing."""
    repos = root / "repos"
    repos.mkdir()
    for name in ("pyshapes", "pyshapes-fork.tar.gz", "ringbuf-c"):
        src = samples.path("repos", name)
        (shutil.copytree if not name.endswith(".gz") else shutil.copy)(src, repos / name)
    rows = [{"repo": repo, "path": f"pkg/m{i}.py", "license": "mit", "stars": 3,
             "content": (f"from pkg import m{i - 1}\n" if i else "") + f"def f{i}_{repo[-1]}():\n    return {i}\n" * 30}
            for repo in ("octo/a", "octo/b") for i in range(4)]
    pq.write_table(pa.Table.from_pylist(rows), root / "listing.parquet")
    return [str(repos), str(root / "listing.parquet")]


def _run(inputs, out, bench, extra):
    argv = ["code", "run", *[a for i in inputs for a in ("--input", i)], "--output", str(out), "--benchmark", bench,
            "--max-doc-bytes", "1200", *extra]
    assert main(argv) == 0
    rows = open_dataset(str(out / "corpus")).read().to_pylist()
    summary = json.loads((out / "summary.json").read_text())
    return sorted((r["id"], r["text"]) for r in rows), summary


@pytest.mark.slow
def test_code_run_on_remote_workers_matches_the_local_run(remote_like, tmp_path, capsys):
    bench = tmp_path / "humaneval.jsonl"  # on the launcher only
    bench.write_text(json.dumps({"prompt": "def truncate_number(number: float) -> float:\n    return number % 1.0\n"})
                     + "\n")
    bucket = remote_like.dir("code-run")
    remote, summary = _run(_inputs(bucket), bucket / "out", str(bench), remote_like.beam_args)
    printed = capsys.readouterr().out
    local_in = tmp_path / "local"
    local_in.mkdir()
    local, local_summary = _run(_inputs(local_in), tmp_path / "out", str(bench), IN_MEMORY)
    assert remote == local and len(remote) == 13  # the split listing repositories and the sample repositories
    assert summary["conservation"] == local_summary["conservation"]
    assert "repositories: in 5 = kept 4 + near duplicate 1" in summary["conservation"]
    for line in summary["conservation"]:
        assert " = " in line and line in printed
    assert summary["counters"]["repo_dedup"]["dropped_near_duplicate"] == 1  # the fork, on signatures


def test_local_inputs_are_refused_for_remote_workers_in_one_line(tmp_path, capsys):
    # No harness needed: the check runs on the launcher before the pipeline starts.
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    remote = ["--runner", "PortableRunner", "--job_endpoint", "localhost:1", "--worker_visible_path", str(bucket)]
    src = samples.path("repos", "ringbuf-c")
    assert main(["code", "run", "--input", src, "--output", str(bucket / "out"), *remote]) == 2
    assert f"--input {src}: a path on this machine" in capsys.readouterr().err
    shutil.copytree(src, bucket / "ringbuf-c")
    assert main(["code", "run", "--input", str(bucket / "ringbuf-c"), "--output", str(tmp_path / "out"), *remote]) == 2
    assert f"--output {tmp_path / 'out'}: a path on this machine" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (bucket / "out").exists()
