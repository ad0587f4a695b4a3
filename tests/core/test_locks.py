"""The writer's lease: a second writer of the same output refuses in one line naming the first, in
every command that writes; a dead writer's lease is taken over, saying so; leases are refreshed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core import datasets, locks

IN_MEMORY = ["--direct_running_mode", "in_memory", "--direct_num_workers", "1"]


class Holder:
    """Another process holding the lease on `path` until stopped."""

    def __init__(self, path, command=("deepcorpus", "tokenize", "run", "--output", "X")):
        script = textwrap.dedent(f"""
            import time
            from deepcorpus.core import locks
            locks.Lock({str(path)!r}, command={list(command)!r}).acquire()
            print("held", flush=True)
            time.sleep(600)
        """)
        self.proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "held"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    docs = root / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": str(i), "text": f"some words number {i} " * 5}) + "\n"
                            for i in range(20)))
    bench = root / "bench.jsonl"
    bench.write_text(json.dumps({"question": "what is one plus one and why is it two"}) + "\n")
    model = root / "model.bin"
    from classifiers.fasttext_binary import MAGIC

    # Its head is checked before the lock (inputs first); the rest is never read: the lock refuses.
    model.write_bytes(MAGIC.to_bytes(4, "little") + b"not used: the lock is refused first")
    return {"docs": str(docs), "bench": str(bench), "model": str(model)}


def _commands(out: str, i: dict) -> dict[str, list[str]]:
    crawl = samples.path("crawl", "*.warc.gz")
    return {
        "dedup exact": ["dedup", "exact", "--input", i["docs"], "--output", out, *IN_MEMORY],
        "dedup decontaminate": ["dedup", "decontaminate", "--input", i["docs"], "--benchmark", i["bench"],
                                "--output", out, *IN_MEMORY],
        "tokenize run": ["tokenize", "run", "--input", i["docs"], "--tokenizer", samples.path("math_seed.jsonl"),
                         "--seq-len", "8", "--output", out, *IN_MEMORY],
        "math run": ["math", "run", "--input", crawl, "--seed", samples.path("math_seed.jsonl"), "--output", out,
                     *IN_MEMORY],
        "math score": ["math", "score", "--input", i["docs"], "--model", i["model"], "--output", out, *IN_MEMORY],
        "math decontaminate": ["math", "decontaminate", "--input", i["docs"], "--benchmark", i["bench"],
                               "--output", out, *IN_MEMORY],
        "code run": ["code", "run", "--input", samples.path("repos", "wordcount-rs"), "--output", out, *IN_MEMORY],
        "formal run": ["formal", "run", "--generator", "template", "--count", "3", "--output", out,
                       "--lean-backend", "repl", "--repl-command", "/nonexistent/repl", *IN_MEMORY],
        "commit": ["commit", out],
    }


@pytest.mark.parametrize("name", ["dedup exact", "dedup decontaminate", "math run", "math score",
                                  "math decontaminate", "code run", "formal run", "commit"])
def test_every_command_that_writes_refuses_an_output_another_writer_holds(name, tmp_path, inputs, capsys):
    out = tmp_path / "out"
    holder = Holder(out)
    try:
        argv = _commands(str(out), inputs)[name]
        if name == "commit":
            target = datasets.Target(str(out), datasets.new_run_id(), "documents",
                                     datasets.contract("documents").schema)
            datasets.write_pending(target, datasets.draft_manifest(target, command=["x"]))
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "being written by" in err[0] and f"pid {holder.proc.pid}" in err[0], err
        assert str(out) in err[0] and "tokenize run" in err[0]
    finally:
        holder.stop()


def test_tokenize_run_honours_the_lock(tmp_path, capsys):
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"text {i} " * 20}) + "\n" for i in range(50)))
    tok = tmp_path / "tokenizer.json"
    assert main(["tokenize", "train-tokenizer", "--input", str(corpus), "--vocab-size", "300",
                 "--output", str(tok)]) == 0
    out = tmp_path / "tokens"
    holder = Holder(out)
    try:
        assert main(["tokenize", "run", "--input", str(corpus), "--tokenizer", str(tok), "--seq-len", "8",
                     "--output", str(out), *IN_MEMORY]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"pid {holder.proc.pid}" in err[0]
    finally:
        holder.stop()
    assert main(["tokenize", "run", "--input", str(corpus), "--tokenizer", str(tok), "--seq-len", "8",
                 "--output", str(out), *IN_MEMORY]) == 0
    assert datasets.open_dataset(str(out)).row_count > 0


def test_a_killed_writers_lease_is_taken_over_saying_so(tmp_path, inputs, caplog, capsys):
    out = tmp_path / "out"
    holder = Holder(out)
    holder.stop()  # SIGKILL: its lease file stays behind, and its flock goes with it
    assert json.loads((out / locks.LOCK).read_text())["pid"] == holder.proc.pid
    caplog.set_level("WARNING", logger="deepcorpus.core.locks")
    assert main(_commands(str(out), inputs)["dedup exact"]) == 0
    assert "taking over the lock" in caplog.text and f"pid {holder.proc.pid}" in caplog.text
    assert not (out / locks.LOCK).exists()  # released at the end
    assert datasets.open_dataset(str(out)).row_count == 20


def test_a_lease_from_another_machine_holds_until_it_expires(tmp_path, caplog):
    path = tmp_path / "out"
    path.mkdir()
    lease = {"owner": "bob", "host": "not-" + socket.gethostname(), "pid": 1, "command": ["deepcorpus", "x"],
             "token": "t", "acquired": "2024-01-01T00:00:00+00:00"}
    (path / locks.LOCK).write_text(json.dumps({**lease, "expires": time.time() + 600}))
    with pytest.raises(locks.LockedError, match=r"bob@not-.* pid 1 \(deepcorpus x"):
        locks.Lock(str(path)).acquire()
    (path / locks.LOCK).write_text(json.dumps({**lease, "expires": time.time() - 1}))
    caplog.set_level("WARNING")
    with locks.Lock(str(path), command=["mine"]) as lock:
        assert lock.lease["command"] == ["mine"]
    assert "its lease expired" in caplog.text


def test_a_held_lease_is_refreshed_and_a_nested_writer_shares_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCORPUS_LOCK_TTL_S", "0.6")
    path = tmp_path / "out"
    with locks.Lock(str(path), command=["outer"]) as lock:
        def lease():  # the holder rewrites its flocked file in place: a read may see it half-written
            while True:
                try:
                    return json.loads((path / locks.LOCK).read_text())
                except json.JSONDecodeError:
                    time.sleep(0.01)

        first = lease()["expires"]
        deadline = time.monotonic() + 60  # the refresher runs every fraction of the TTL; a busy machine delays it
        while (second := lease())["expires"] == first:
            assert time.monotonic() < deadline, "the lease was never refreshed"
            time.sleep(0.05)
        assert second["expires"] > first and second["token"] == lock.token
        assert second["owner"] and second["host"] == socket.gethostname() and second["pid"] == os.getpid()
        with locks.Lock(str(path), command=["inner"]) as inner:  # the same process: shared, not refused
            assert inner.token == lock.token
        assert (path / locks.LOCK).exists()  # the inner release keeps the outer lease
    assert not (path / locks.LOCK).exists()
