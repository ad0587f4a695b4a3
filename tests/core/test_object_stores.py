"""The commit protocol and the lease on gs:// and s3://, against local stand-ins for the services
(moto's S3 server, gcp-storage-emulator; see conftest.py) through pyarrow's filesystems. The
filesystem is wrapped so that any move or copy fails: the protocol never renames there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import apache_beam as beam
import pytest

from deepcorpus.cli import main
from deepcorpus.core import contracts, datasets, locks, storage
from deepcorpus.core.errors import DatasetError
from pipelines.stage import Stage
from tests.core.conftest import env_for

IN_MEMORY = ["--direct_running_mode", "in_memory", "--direct_num_workers", "1"]


def _docs(n: int, tag: str) -> list[dict]:
    return [{"id": f"{tag}{i}", "text": f"{tag} document {i}"} for i in range(n)]


def _ids(path: str) -> list[str]:
    return sorted(datasets.open_dataset(path).read(["id"]).column("id").to_pylist())


def _names(path: str) -> set[str]:
    return set(storage.entries(path))


def test_a_python_write_commits_and_replaces_without_renaming(object_root, no_renames):
    path = f"{object_root}/docs"
    with datasets.DatasetWriter(path, contracts.DOCUMENTS, rows_per_part=4) as w:
        w.write_rows(_docs(10, "a"))
    first = datasets.open_dataset(path)
    assert first.row_count == 10 and first.manifest["num_parts"] == 3
    assert {p["name"] for p in first.parts} | {datasets.MANIFEST} == _names(path)

    with datasets.DatasetWriter(path, contracts.DOCUMENTS, rows_per_part=4) as w:
        w.write_rows(_docs(6, "b"))
        # The new parts are in place, the manifest is not: readers still see the old dataset whole.
        assert len(_names(path)) > 4
        assert _ids(path) == sorted(f"a{i}" for i in range(10))
        assert sorted(first.read(["id"]).column("id").to_pylist()) == _ids(path)
    assert _ids(path) == sorted(f"b{i}" for i in range(6))
    # The replaced parts, the lock and the records are gone: the manifest and its parts remain.
    assert _names(path) == {p["name"] for p in datasets.open_dataset(path).parts} | {datasets.MANIFEST}


def test_a_beam_write_lists_its_parts_and_the_commit_reads_none(object_root, no_renames, monkeypatch):
    path = f"{object_root}/kept"
    with Stage("test", IN_MEMORY, command=["test"]) as stage:
        _ = stage.pipeline | beam.Create(_docs(50, "d")) | stage.write(path, contracts.DOCUMENTS, inputs=[])
        stage.run()
        assert datasets.PENDING_PREFIX + stage._targets[path][0].run_id + ".json" in _names(path)

        def no_part_reads(p, *a, **k):
            raise AssertionError(f"the commit read {p}")

        with monkeypatch.context() as m:
            m.setattr(datasets.storage, "open_random", no_part_reads)
            m.setattr(datasets, "read_parquet", no_part_reads)
            manifest = stage.commit(path)
    assert manifest["row_count"] == 50 == sum(p["rows"] for p in manifest["parts"])
    assert _ids(path) == sorted(f"d{i}" for i in range(50))
    assert _names(path) == {p["name"] for p in manifest["parts"]} | {datasets.MANIFEST}


def test_readers_refuse_a_missing_part_and_ignore_unlisted_files(object_root, no_renames):
    path = f"{object_root}/docs"
    with datasets.DatasetWriter(path, contracts.DOCUMENTS, rows_per_part=5) as w:
        w.write_rows(_docs(10, "a"))
    with storage.open_write(f"{path}/part-foreign.parquet") as f:
        f.write(storage.read_bytes(datasets.open_dataset(path).files[0]))
    assert _ids(path) == sorted(f"a{i}" for i in range(10))  # the foreign part is not read
    storage.remove_file(datasets.open_dataset(path).files[1])
    with pytest.raises(DatasetError, match="is missing") as e:
        datasets.open_dataset(path)
    assert path in str(e.value) and "\n" not in str(e.value)


_KILLED_LAUNCHER = textwrap.dedent("""
    import os, signal, sys
    import apache_beam as beam
    from deepcorpus.core import contracts
    from pipelines.stage import Stage
    sys.path.insert(0, {root!r})
    import pyarrow.fs as pafs
    from deepcorpus.core import storage
    from tests.core.conftest import NoRenameHandler
    real = storage.filesystem
    def wrapped(path):
        fs, p = real(path)
        return (pafs.PyFileSystem(NoRenameHandler(fs, [])), p) if storage.is_remote(path) else (fs, p)
    storage.filesystem = wrapped
    stage = Stage("t", ["--direct_running_mode", "in_memory"], command=["deepcorpus", "dedup", "exact"])
    _ = stage.pipeline | beam.Create([{{"id": str(i), "text": "t"}} for i in range(7)]) | stage.write(
        {path!r}, contracts.DOCUMENTS)
    stage.run()
    os.kill(os.getpid(), signal.SIGKILL)  # the launcher dies after the pipeline succeeded
""")


def test_deepcorpus_commit_finishes_a_remote_write_whose_launcher_died(object_root, no_renames, capsys):
    path = f"{object_root}/tokens"
    script = _KILLED_LAUNCHER.format(root=os.getcwd(), path=path)
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, **env_for(object_root)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    with pytest.raises(DatasetError, match="no _manifest.json"):
        datasets.open_dataset(path)
    assert main(["commit", path]) == 0
    assert "committed run" in capsys.readouterr().out
    manifest = datasets.read_manifest(path)
    assert manifest["row_count"] == 7 and "deepcorpus commit" in manifest["committed_by"]
    assert _names(path) == {p["name"] for p in manifest["parts"]} | {datasets.MANIFEST}
    assert main(["commit", path]) == 0  # again: nothing changes
    assert "nothing to commit" in capsys.readouterr().out
    assert datasets.read_manifest(path) == manifest


def test_a_live_remote_lease_refuses_a_second_writer_and_a_dead_one_is_taken_over(object_root, no_renames, caplog):
    path = f"{object_root}/out"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from deepcorpus.core import locks
            lock = locks.Lock({path!r}, command=["deepcorpus", "tokenize", "run"]).acquire()
            print("held", flush=True)
            time.sleep(300)
        """)], env={**os.environ, **env_for(object_root)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(locks.LockedError) as e:
            locks.Lock(path, command=["second"]).acquire()
        assert f"pid {holder.pid}" in str(e.value) and "tokenize run" in str(e.value) and "\n" not in str(e.value)
    finally:
        holder.kill()
        holder.wait()
    caplog.set_level("WARNING")
    with locks.Lock(path, command=["third"]) as lock:
        assert lock.lease["command"] == ["third"]
    assert "taking over the lock" in caplog.text and "its process is gone" in caplog.text


def test_remote_leases_expire_and_the_read_back_settles_a_race(object_root, no_renames, monkeypatch):
    path = f"{object_root}/out"
    other = {"owner": "bob", "host": "another-host", "pid": 1, "command": ["x"], "token": "t", "acquired": "earlier"}
    storage.write_bytes_atomic(f"{path}/{locks.LOCK}", json.dumps({**other, "expires": 4e9}).encode())
    with pytest.raises(locks.LockedError, match="bob@another-host"):
        locks.Lock(path).acquire()
    storage.write_bytes_atomic(f"{path}/{locks.LOCK}", json.dumps({**other, "expires": 1.0}).encode())
    with locks.Lock(path) as lock:  # expired: taken over
        assert storage.read_bytes(f"{path}/{locks.LOCK}").decode().count(lock.token) == 1
    assert locks.LOCK not in _names(path)  # released

    # Another writer's lease lands between our write and our read-back: it wins, we refuse.
    real_sleep = locks.time.sleep

    def competitor_writes(seconds):
        storage.write_bytes_atomic(f"{path}/{locks.LOCK}", json.dumps({**other, "expires": 4e9}).encode())
        real_sleep(0)

    monkeypatch.setattr(locks.time, "sleep", competitor_writes)
    with pytest.raises(locks.LockedError, match="bob@another-host"):
        locks.Lock(path).acquire()
