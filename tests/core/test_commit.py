"""The commit protocol on local disk: the manifest lists its parts, readers read exactly those,
clean-up removes only our unlisted files, and `deepcorpus commit` finishes a write whose launcher
died after its pipeline succeeded."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepcorpus.cli import main
from deepcorpus.core import contracts, datasets, locks
from deepcorpus.core.errors import DatasetError, UserError
from deepcorpus.inspect import Catalog
from pipelines.stage import Stage

IN_MEMORY = ["--direct_running_mode", "in_memory", "--direct_num_workers", "1"]


def docs(n: int, tag: str = "d") -> list[dict]:
    return [{"id": f"{tag}{i}", "text": f"{tag} text {i}"} for i in range(n)]


def write(path, rows, rows_per_part=4, **kw) -> str:
    with datasets.DatasetWriter(str(path), contracts.DOCUMENTS, rows_per_part=rows_per_part, **kw) as w:
        w.write_rows(rows)
    return str(path)


def test_the_manifest_lists_each_part_with_rows_bytes_and_checksum(tmp_path):
    path = write(tmp_path / "docs", docs(10), inputs=[__file__], options={"k": 1})
    m = datasets.read_manifest(path)
    assert m["num_parts"] == len(m["parts"]) == 3 and m["row_count"] == 10 == sum(p["rows"] for p in m["parts"])
    for part in m["parts"]:
        data = open(os.path.join(path, part["name"]), "rb").read()
        assert part["bytes"] == len(data) and part["sha256"] == hashlib.sha256(data).hexdigest()
        assert part["name"].startswith(f"part-{m['run_id']}-")
        assert pq.ParquetFile(os.path.join(path, part["name"])).metadata.num_rows == part["rows"]
    assert m["byte_size"] == sum(p["bytes"] for p in m["parts"])
    assert set(m["inputs"]) == {__file__} and m["options"] == {"k": 1} and m["code_fingerprint"]
    assert sorted(os.listdir(path)) == sorted([datasets.MANIFEST, *(p["name"] for p in m["parts"])])


def test_readers_ignore_unlisted_files_and_refuse_missing_or_resized_parts(tmp_path, capsys):
    path = write(tmp_path / "docs", docs(9), rows_per_part=5)
    ds = datasets.open_dataset(path)
    foreign = os.path.join(path, "part-99999.parquet")
    pq.write_table(pa.table({"id": ["x"], "text": ["foreign"]}), foreign)
    pq.write_table(pa.table({"id": ["y"], "text": ["stray"]}), os.path.join(path, "extra.parquet"))
    assert datasets.open_dataset(path).read().num_rows == 9
    assert Catalog([path]).query("SELECT count(*) FROM docs").fetchall()[0][0] == 9  # DuckDB opens the listed parts

    first, second = ds.files
    data = open(second, "rb").read()
    open(second, "wb").write(data[:-10])
    with pytest.raises(DatasetError, match="bytes, but the manifest lists") as e:
        datasets.open_dataset(path)
    assert "\n" not in str(e.value)
    os.remove(second)
    with pytest.raises(DatasetError, match=f"{os.path.basename(second)} is missing"):
        datasets.open_dataset(path)
    assert main(["inspect", path, "SELECT count(*) FROM docs"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is missing" in err

    # Every part gone: dedup refuses in one line instead of reporting "kept: 0 rows".
    os.remove(first)
    assert main(["dedup", "minhash", "--input", path, "--output", str(tmp_path / "near"), *IN_MEMORY]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is missing" in err and not (tmp_path / "near").exists()


def test_a_part_replaced_by_one_of_the_same_size_but_other_rows_is_refused_when_read(tmp_path):
    path = write(tmp_path / "docs", docs(4), rows_per_part=2)
    ds = datasets.open_dataset(path)
    m = json.load(open(os.path.join(path, datasets.MANIFEST)))
    m["parts"][0]["rows"] = 3
    m["row_count"] = 5
    json.dump(m, open(os.path.join(path, datasets.MANIFEST), "w"))
    with pytest.raises(DatasetError, match="holds 2 rows, but the manifest lists 3"):
        datasets.open_dataset(path).read()
    m["row_count"] = 99
    json.dump(m, open(os.path.join(path, datasets.MANIFEST), "w"))
    with pytest.raises(DatasetError, match="not the sum of its parts"):
        datasets.open_dataset(path)
    del ds


def test_an_old_reader_keeps_the_old_parts_until_the_new_manifest_lands(tmp_path):
    path = write(tmp_path / "docs", docs(6, "old"))
    old = datasets.open_dataset(path)
    with datasets.DatasetWriter(path, contracts.DOCUMENTS, rows_per_part=2) as w:
        w.write_rows(docs(5, "new"))
        w._flush()
        # New parts are on disk beside the old ones; both a new open and the old reader see the old data.
        assert sorted(datasets.open_dataset(path).read().column("id").to_pylist()) == sorted(
            r["id"] for r in docs(6, "old"))
        assert old.read().num_rows == 6
    new = datasets.open_dataset(path)
    assert sorted(new.read().column("id").to_pylist()) == sorted(r["id"] for r in docs(5, "new"))
    assert not any(os.path.exists(f) for f in old.files)  # the replaced parts were cleaned up after it


def test_clean_up_removes_only_our_unlisted_files(tmp_path):
    path = write(tmp_path / "docs", docs(3))
    ours = ["part-20240101T000000Z-0123abcd-00000.parquet", "part-20240101T000000Z-0123abcd-9f8e7d6c5b4a.parquet",
            "_pending-20240101T000000Z-0123abcd.json", "_parts-20240101T000000Z-0123abcd.json"]
    theirs = ["notes.txt", "my-part.parquet", "part-final.parquet", "_pending-notes.txt"]
    for name in ours + theirs:
        open(os.path.join(path, name), "w").write("x")
    stale_tmp = os.path.join(path, f".{datasets.MANIFEST}.tmp-999999999-abcdef")
    open(stale_tmp, "w").write("{")
    assert datasets.cleanup(path) == len(ours)
    left = set(os.listdir(path))
    assert not left & set(ours) and set(theirs) <= left and not os.path.exists(stale_tmp)
    assert datasets.open_dataset(path).row_count == 3


def test_a_failed_python_write_leaves_the_previous_dataset_as_it_was(tmp_path):
    path = write(tmp_path / "docs", docs(3))
    before = sorted(os.listdir(path))
    with pytest.raises(RuntimeError):
        with datasets.DatasetWriter(path, contracts.DOCUMENTS, rows_per_part=1) as w:
            w.write_rows(docs(5, "x"))
            raise RuntimeError("crash mid-write")
    assert sorted(os.listdir(path)) == before and datasets.open_dataset(path).row_count == 3


_LAUNCHER = textwrap.dedent("""
    import os, signal, sys
    import apache_beam as beam
    from deepcorpus.core import contracts
    from pipelines.stage import Stage
    stage = Stage("t", ["--direct_running_mode", "in_memory"], command=["deepcorpus", "dedup", "exact"])
    rows = [{{"id": str(i), "text": "t" * i}} for i in range({n})]
    _ = stage.pipeline | beam.Create(rows) | stage.write({path!r}, contracts.DOCUMENTS, replace=True)
    stage.run()
    print("pipeline finished", flush=True)
    {after}
""")


def _launch(path: str, n: int, after: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _LAUNCHER.format(path=path, n=n, after=after)], capture_output=True,
                          text=True, timeout=300)


def test_deepcorpus_commit_finishes_a_write_whose_launcher_died(tmp_path, capsys):
    path = str(tmp_path / "docs")
    write(path, docs(2, "old"))
    proc = _launch(path, 12, "os.kill(os.getpid(), signal.SIGKILL)")
    assert proc.returncode == -signal.SIGKILL and "pipeline finished" in proc.stdout, proc.stderr[-2000:]
    assert datasets.open_dataset(path).row_count == 2  # until the commit, the old dataset
    assert main(["commit", path]) == 0
    assert "committed run" in capsys.readouterr().out
    m = datasets.read_manifest(path)
    assert m["row_count"] == 12 and m["command"] == ["deepcorpus", "dedup", "exact"] and "committed_by" in m
    assert sorted(os.listdir(path)) == sorted([datasets.MANIFEST, *(p["name"] for p in m["parts"])])
    snapshot = {n: open(os.path.join(path, n), "rb").read() for n in os.listdir(path)}
    assert main(["commit", path]) == 0  # idempotent: a second call changes nothing
    assert "nothing to commit" in capsys.readouterr().out
    assert {n: open(os.path.join(path, n), "rb").read() for n in os.listdir(path)} == snapshot
    # A run directory: every dataset below it with a pending write.
    run = tmp_path / "run"
    proc = _launch(str(run / "a" / "collected"), 3, "os.kill(os.getpid(), signal.SIGKILL)")
    assert proc.returncode == -signal.SIGKILL
    assert main(["commit", str(run)]) == 0
    assert datasets.open_dataset(str(run / "a" / "collected")).row_count == 3


def test_deepcorpus_commit_waits_for_a_live_writer_and_says_when_a_pipeline_did_not_finish(tmp_path, capsys):
    path = str(tmp_path / "docs")
    write(path, docs(2))
    target = datasets.Target(path, datasets.new_run_id(), contracts.DOCUMENTS, contracts.DOCUMENTS_SCHEMA)
    datasets.write_pending(target, datasets.draft_manifest(target, command=["x"]))
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from deepcorpus.core import locks
        locks.Lock({path!r}, command=["deepcorpus", "tokenize", "run"]).acquire()
        print("held", flush=True)
        time.sleep(300)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["commit", path]) == 2
        assert "being written by" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert main(["commit", path]) == 0  # the writer is gone: its pending write had no part list
    out = capsys.readouterr().out
    assert "nothing to commit" in out and f"run {target.run_id} had not finished" in out
    assert sorted(os.listdir(path)) == sorted([datasets.MANIFEST, *(p["name"] for p in datasets.open_dataset(path).parts)])


def test_a_stage_that_fails_after_its_pipeline_removes_its_parts_records_and_lock(tmp_path):
    path = str(tmp_path / "docs")
    write(path, docs(2))
    before = sorted(os.listdir(path))
    with pytest.raises(RuntimeError):
        with Stage("t", IN_MEMORY, command=["t"]) as stage:
            _ = stage.pipeline | beam.Create(docs(30, "n")) | stage.write(path, contracts.DOCUMENTS, replace=True)
            stage.run()
            assert len(os.listdir(path)) > len(before)  # parts, the pending record, the part list, the lock
            raise RuntimeError("a check after the run failed")
    assert sorted(os.listdir(path)) == before
    assert locks.read_lease(path) is None


def test_a_stage_that_stops_before_running_leaves_no_beam_temp_dir(tmp_path):
    path = str(tmp_path / "docs")
    write(path, docs(2))
    with pytest.raises(UserError, match="already there"):
        with Stage("t", IN_MEMORY, command=["t"]) as stage:
            beam_temp = stage.pipeline.local_tempdir
            assert os.path.isdir(beam_temp)
            stage.write(path, contracts.DOCUMENTS)  # there already: refused without --force
    assert not os.path.exists(beam_temp)


def test_a_retried_bundles_orphan_part_is_never_listed_and_is_removed_at_the_commit(tmp_path):
    path = str(tmp_path / "docs")
    with Stage("t", IN_MEMORY, command=["t"]) as stage:
        _ = stage.pipeline | beam.Create(docs(20)) | stage.write(path, contracts.DOCUMENTS)
        stage.run()
        target = stage._targets[path][0]
        orphan = target.part_path()  # what a bundle that failed and was retried leaves
        datasets.write_part(pa.table({"id": ["ghost"], "text": ["from a failed attempt"]}), orphan)
        manifest = stage.commit(path)
    assert os.path.basename(orphan) not in {p["name"] for p in manifest["parts"]}
    assert not os.path.exists(orphan) and manifest["row_count"] == 20


def test_a_commit_removes_its_own_records_without_reporting_them(tmp_path, caplog):
    """The pending record and part list of the run just committed are bookkeeping, not leftovers: a
    fresh write must not say it 'removed 2 files'. Another run's leftovers are still reported."""
    import logging

    with caplog.at_level(logging.INFO, logger="deepcorpus.core.datasets"):
        path = write(tmp_path / "docs", docs(3))
    assert not [r for r in caplog.records if "removed" in r.getMessage()]
    assert sorted(os.listdir(path)) == sorted([datasets.MANIFEST, *(p["name"] for p in datasets.read_manifest(path)["parts"])])
    open(os.path.join(path, "part-20240101T000000Z-0123abcd-00000.parquet"), "w").write("x")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="deepcorpus.core.datasets"):
        assert datasets.cleanup(path) == 1
    assert any("removed 1 file(s) no manifest lists" in r.getMessage() for r in caplog.records)


def test_a_beam_writer_cuts_row_groups_by_size_and_keeps_every_row(tmp_path, monkeypatch):
    """Row groups are what a reader decodes at once, so a writer bounds them in bytes (and holds the
    group as Arrow chunks, not Python rows); the rows come back whole and in order."""
    from pipelines import io

    monkeypatch.setattr(datasets, "ROW_GROUP_BYTES", 64 << 10)
    monkeypatch.setattr(io, "CHUNK_ROWS", 7)
    path = str(tmp_path / "docs")
    rows = [{"id": f"d{i:04d}", "text": f"{i} " + "x" * 1000} for i in range(300)]  # ~300 KB of text
    with Stage("t", IN_MEMORY, command=["t"]) as stage:
        _ = stage.pipeline | beam.Create(rows, reshuffle=False) | stage.write(path, contracts.DOCUMENTS)
        stage.run()
        stage.commit(path)
    ds = datasets.open_dataset(path)
    groups = [pq.ParquetFile(os.path.join(path, p["name"])).metadata for p in ds.parts]
    sizes = [m.row_group(i).num_rows for m in groups for i in range(m.num_row_groups)]
    assert len(sizes) >= 4 and max(sizes) <= (64 << 10) // 1000 + 1, sizes
    assert sorted((r["id"], r["text"]) for r in ds.iter_rows(["id", "text"])) == [(r["id"], r["text"]) for r in rows]
