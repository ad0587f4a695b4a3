"""`dedup minhash` and `dedup decontaminate` on the remote-like harness (tests/harness/remote_like.py):
Beam's PortableRunner, a job service and an external worker pool that sees the bucket and none of the
launcher's files. Inputs and outputs live in the bucket; the benchmark file lives only on the
launcher and must be staged for the workers; a launcher-only input is refused before any job runs."""

import json

import pyarrow.parquet as pq
import pytest

from deepcorpus.cli import main
from tests.dedup.test_conservation import expected_removals, hub_corpus


def _write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.mark.slow
def test_minhash_on_remote_workers_finds_the_union_find_clusters(remote_like, capsys):
    docs = hub_corpus(n_distinct=120, n_hub=80, seed=11)
    expected = expected_removals(docs)
    assert sum(k.startswith("h") for k in expected) >= 75
    bucket = remote_like.dir("dedup-minhash")
    src = _write_jsonl(bucket / "docs.jsonl", docs)
    code = main(["dedup", "minhash", "--input", src, "--output", str(bucket / "kept"),
                 "--removed", str(bucket / "removed"), *remote_like.beam_args])
    out = capsys.readouterr().out
    assert code == 0
    assert f"dedup: in {len(docs):,} = kept {len(docs) - len(expected):,} + removed {len(expected):,}" in out
    assert "connected components: converged" in out
    removed = pq.read_table(str(bucket / "removed")).to_pylist()
    assert {r["id"]: r["duplicate_of"] for r in removed} == expected
    assert set(pq.read_table(str(bucket / "kept")).column("id").to_pylist()) == {d["id"] for d in docs} - set(expected)


@pytest.mark.slow
def test_decontaminate_on_remote_workers_stages_the_launchers_benchmark(remote_like, tmp_path, capsys):
    question = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips "
                "in May. How many clips did Natalia sell altogether in April and May?")
    bench = _write_jsonl(tmp_path / "gsm8k_test.jsonl", [{"question": question, "answer": "72"}])  # launcher only
    docs = [{"id": f"d{i}", "text": f"Document {i} talks about gardening, tomatoes and the weather in spring."}
            for i in range(30)]
    docs.append({"id": "leak", "text": "Homework help! " + question + " Answer: 72."})
    bucket = remote_like.dir("dedup-decontaminate")
    src = _write_jsonl(bucket / "docs.jsonl", docs)
    code = main(["dedup", "decontaminate", "--input", src, "--benchmark", bench, "--output", str(bucket / "clean"),
                 "--removed", str(bucket / "leaks"), *remote_like.beam_args])
    out = capsys.readouterr().out
    assert code == 0 and "dedup: in 31 = kept 30 + removed 1" in out
    leaks = pq.read_table(str(bucket / "leaks")).to_pylist()
    assert [(r["id"], r["dedup_reason"]) for r in leaks] == [("leak", "benchmark")]
    assert len(pq.read_table(str(bucket / "clean"))) == 30


def test_an_input_the_workers_cannot_see_is_refused_in_one_line(tmp_path, capsys):
    # No harness needed: the check runs on the launcher before the pipeline starts.
    src = _write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "x"}])
    bucket = tmp_path / "bucket"
    remote = ["--runner", "PortableRunner", "--job_endpoint", "localhost:1", "--worker_visible_path", str(bucket)]
    code = main(["dedup", "minhash", "--input", src, "--output", str(bucket / "kept"), *remote])
    err = capsys.readouterr().err
    assert code == 2
    assert f"--input {src}: a path on this machine" in err and "PortableRunner" in err
    bucket.mkdir()
    visible = _write_jsonl(bucket / "docs.jsonl", [{"id": "a", "text": "x"}])
    code = main(["dedup", "exact", "--input", visible, "--output", str(tmp_path / "kept"), *remote])
    assert code == 2 and f"--output {tmp_path / 'kept'}: a path on this machine" in capsys.readouterr().err
    assert not (tmp_path / "kept").exists() and not (bucket / "kept").exists()
