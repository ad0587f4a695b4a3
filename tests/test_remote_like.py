"""The remote-like harness itself: its workers see the bucket and none of the launcher's files, and
the worker-read check accepts exactly what they can read."""

import json
import os

import apache_beam as beam
import pytest

from deepcorpus.core.errors import UserError
from pipelines import runner, summary, worker_paths


def _what_a_worker_sees(path: str) -> str:
    return json.dumps({"path": path, "exists": os.path.exists(path), "cwd": os.getcwd(),
                       "tmp": sorted(os.listdir("/tmp"))})


@pytest.mark.slow
def test_workers_see_the_bucket_and_none_of_the_launchers_files(remote_like, tmp_path):
    shared = remote_like.dir("sees")
    (shared / "in.txt").write_text("in the bucket")
    private = tmp_path / "launcher_only.txt"
    private.write_text("only the launcher has this")
    checkout = os.path.abspath(__file__)
    p = runner.new_pipeline(remote_like.beam_args)
    _ = (p | beam.Create([str(shared / "in.txt"), str(private), checkout])
         | beam.Map(_what_a_worker_sees)
         | beam.io.WriteToText(str(shared / "seen"), shard_name_template="", num_shards=1))
    result = runner.run(p, "remote-like probe")
    seen = {r["path"]: r for r in map(json.loads, (shared / "seen").read_text().splitlines())}
    assert seen[str(shared / "in.txt")]["exists"]
    assert not seen[str(private)]["exists"] and not seen[checkout]["exists"]
    for r in seen.values():  # another working directory, a /tmp of their own
        assert r["cwd"] != os.getcwd() and not set(r["tmp"]) & set(os.listdir("/tmp"))
    assert summary.counters_from_result(result) == {}  # the metrics API answers (no counters here)


def test_worker_read_check_accepts_what_workers_can_read(tmp_path):
    bucket = tmp_path / "bucket"
    remote = runner.pipeline_options(["--runner", "PortableRunner", "--worker_visible_path", str(bucket),
                                      "--temp_location", str(bucket / "tmp")])
    local = runner.pipeline_options([])
    for path in ("gs://b/x.warc.gz", "s3://b/x", "https://data.commoncrawl.org/x", str(bucket / "x")):
        assert worker_paths.readable(remote, path)
    assert not worker_paths.readable(remote, str(tmp_path / "x")) and worker_paths.readable(local, str(tmp_path / "x"))
    with pytest.raises(UserError, match=r"--seed .*x.jsonl: a path on this machine.*PortableRunner"):
        worker_paths.require(remote, [("--seed", str(tmp_path / "x.jsonl"))])
    small = tmp_path / "bench.jsonl"
    small.write_text('{"question": "1+1"}\n')
    staged = worker_paths.stage(remote, str(small), "--benchmark")
    assert staged.startswith(str(bucket / "tmp" / worker_paths.STAGED)) and open(staged).read() == small.read_text()
    assert worker_paths.stage(remote, str(small), "--benchmark") == staged  # content-addressed: once
    nowhere = runner.pipeline_options(["--runner", "PortableRunner"])
    with pytest.raises(UserError, match="no --temp_location"):
        worker_paths.stage(nowhere, str(small), "--benchmark")
