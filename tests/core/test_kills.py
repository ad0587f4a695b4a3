"""SIGKILL at random moments during a write: a reader then sees the old dataset or the new one,
never a mix, and the rerun completes and matches an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from deepcorpus.core import datasets

pytestmark = pytest.mark.slow


def _rows(path: str) -> list[tuple]:
    table = datasets.open_dataset(path).read()
    return sorted(tuple(sorted(r.items())) for r in table.to_pylist())


def _write_jsonl(path, tag: str, n: int) -> str:
    path.write_text("".join(json.dumps({"id": f"{tag}{i}", "text": f"{tag} {i} " + "lorem ipsum " * (i % 7)}) + "\n"
                            for i in range(n)))
    return str(path)


def _dedup(src: str, out: str) -> list[str]:
    return [sys.executable, "-m", "deepcorpus", "dedup", "exact", "--input", src, "--output", out, "--force",
            "--direct_running_mode", "in_memory", "--direct_num_workers", "1"]


def _ours_only(path: str) -> bool:
    listed = {p["name"] for p in datasets.read_manifest(path)["parts"]}
    return set(os.listdir(path)) == listed | {datasets.MANIFEST}


def _lease_pid(lock: str) -> int | None:
    try:
        return json.load(open(lock)).get("pid")
    except (OSError, ValueError):
        return None


def _run_watching(argv: list[str], out: str, kill_after: float | None = None) -> tuple[float, float]:
    """Run `argv`; (seconds until its lease appeared in `out`, seconds from then to its end). With
    `kill_after`, SIGKILL it that many seconds after its lease appeared (the write under way)."""
    lock = os.path.join(out, "_lock.json")
    start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and _lease_pid(lock) != proc.pid:  # a dead writer's lease may be there
        time.sleep(0.005)
    began = time.time()
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=300)
    if kill_after is None:
        assert proc.returncode == 0
    return began - start, time.time() - began


def test_a_command_killed_at_random_moments_leaves_the_old_or_the_new_dataset(tmp_path):
    a = _write_jsonl(tmp_path / "a.jsonl", "a", 3000)
    b = _write_jsonl(tmp_path / "b.jsonl", "b", 4000)
    out, ref_a, ref_b = str(tmp_path / "out"), str(tmp_path / "ref_a"), str(tmp_path / "ref_b")
    _, writing = _run_watching(_dedup(b, ref_b), ref_b)  # how long the write itself takes
    subprocess.run(_dedup(a, ref_a), check=True, capture_output=True, timeout=300)
    subprocess.run(_dedup(a, out), check=True, capture_output=True, timeout=300)
    expected = {"a": _rows(ref_a), "b": _rows(ref_b)}
    current, leftovers_seen = "a", 0
    rng = random.Random(15)
    for _ in range(5):
        other = "b" if current == "a" else "a"
        _run_watching(_dedup(b if other == "b" else a, out), out, kill_after=rng.uniform(0.0, 1.05) * writing)
        seen = _rows(out)
        assert seen in (expected["a"], expected["b"]), "a mix after a kill"
        current = "a" if seen == expected["a"] else "b"
        leftovers_seen += not _ours_only(out)
    # The rerun takes over the dead writer's lock, removes what it left, and matches a clean run.
    subprocess.run(_dedup(b, out), check=True, capture_output=True, timeout=300)
    assert _rows(out) == expected["b"] and _ours_only(out)
    assert leftovers_seen  # some kill landed mid-write (the check above is not vacuous)


_SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from deepcorpus.core import contracts, datasets
    tag, n = sys.argv[2], int(sys.argv[3])
    with datasets.DatasetWriter(sys.argv[1], contracts.DOCUMENTS, rows_per_part=10) as w:
        for i in range(n):
            w.write_rows([{"id": f"{tag}{i}", "text": f"{tag} {i}"}])
            if i % 10 == 0:
                time.sleep(0.01)
    print("done", flush=True)
""")


def test_a_python_writer_killed_at_random_moments_leaves_the_old_or_the_new_dataset(tmp_path):
    out = str(tmp_path / "out")
    argv = [sys.executable, "-c", _SLOW_WRITER, out]
    subprocess.run([*argv, "old", "200"], check=True, timeout=120)
    old = _rows(out)
    start = time.time()
    subprocess.run([*argv, "new", "300"], check=True, timeout=120, cwd=tmp_path, capture_output=True)
    duration = time.time() - start
    new = _rows(out)
    subprocess.run([*argv, "old", "200"], check=True, timeout=120)
    rng = random.Random(7)
    for _ in range(6):
        current = _rows(out)
        write = ("new", "300") if current == old else ("old", "200")
        proc = subprocess.Popen([*argv, *write], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _rows(out) in (old, new)
    subprocess.run([*argv, "new", "300"], check=True, timeout=120)
    assert _rows(out) == new and _ours_only(out)
