"""`formal run` on the remote-like harness (tests/harness/remote_like.py): Beam's PortableRunner, a job
service and an external worker pool that sees the bucket and none of the launcher's files. The run
directory is in the bucket: the workers read each round's statements from it (nothing is embedded in
the job graph) and start their own REPLs (the STAND-IN, from the image's copy of the tests)."""

import json

import pytest

from deepcorpus.cli import main
from deepcorpus.core import datasets

REPL = "python -m tests.formal.standin_repl"  # resolves in the checkout and in the workers' /opt/code
FAST = ["--direct_running_mode", "in_memory"]


def _formal(out, extra):
    assert main(["formal", "run", "--count", "12", "--output", str(out), "--repl-command", REPL, "--toolchain",
                 "stand-in", "--rounds", "2", "--workers", "2", "--memory-mb", "0", *extra]) == 0
    rows = list(datasets.open_dataset(str(out / "corpus"), "formal_proof").iter_rows())
    return sorted((r["id"], r["status"], r["proof"], r["round"]) for r in rows), \
        json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_formal_on_remote_workers_gives_the_local_runs_rows(remote_like, tmp_path, capsys):
    bucket = remote_like.dir("formal")
    remote, summary = _formal(bucket / "formal", remote_like.beam_args)
    printed = capsys.readouterr().out
    local, local_summary = _formal(tmp_path / "formal", FAST)
    assert remote == local and len(remote) == 24
    assert summary["conservation"] == local_summary["conservation"]
    assert summary["conservation"][-1].startswith("corpus statements: in 24 = ")
    assert all(line.split(": ", 1)[1] in printed for line in summary["conservation"])
    assert (bucket / "formal" / "rounds" / "round_1.candidates.jsonl").exists()
    # The workers' verification cache is a dataset in the bucket (no SQLite file on their machines)...
    assert list((bucket / "formal" / "verify_cache").glob("*.jsonl")) and not (bucket / "formal" /
                                                                               "verify_cache.sqlite").exists()
    first = summary["counters"]["lean"]
    assert first["cache_added"] > 0 and first.get("cache_hits", 0) == 0
    # ...that a rerun joins against: another --timeout redoes both rounds, and Lean is asked nothing.
    again_rows, again = _formal(bucket / "formal", [*remote_like.beam_args, "--timeout", "77"])
    lean = again["counters"]["lean"]
    assert again_rows == remote
    assert lean["cache_hits"] >= first["cache_added"] and lean.get("cache_misses", 0) == 0
    assert lean.get("cache_added", 0) == 0


def test_a_run_directory_the_workers_cannot_see_is_refused(tmp_path, capsys):
    remote = ["--runner", "PortableRunner", "--job_endpoint", "localhost:1", "--worker_visible_path",
              str(tmp_path / "bucket")]
    out = tmp_path / "formal"
    assert main(["formal", "run", "--count", "3", "--output", str(out), "--repl-command", REPL, *remote]) == 2
    assert f"--output {out}: a path on this machine" in capsys.readouterr().err
    assert not (out / "corpus").exists()
