"""code run at scale: listings read by pattern, repositories capped and split along the order,
near-dedup on signatures, and every file accounted for."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepcorpus.cli import main
from deepcorpus.core.datasets import open_dataset
from deepcorpus.core.errors import ConservationError
from pipelines.code.assemble import AssembleConfig, assemble_documents, split_order
from pipelines.code.run import conservation
from pipelines.code.sources import discover

IN_MEMORY = ["--direct_running_mode", "in_memory"]


def _listing(path, repo, n, body):
    rows = [{"repo": repo, "path": f"pkg/m{i}.py", "license": "mit", "stars": 3,
             "content": (f"from pkg import m{i - 1}\n" if i else "") + body(i)} for i in range(n)]
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_split_order_cuts_between_files_and_keeps_a_large_file_whole():
    sizes = {"a": 40, "b": 40, "c": 100, "d": 10}
    assert split_order(["a", "b", "c", "d"], sizes, 90) == [["a", "b"], ["c"], ["d"]]
    assert split_order(["a", "b"], sizes, 10**6) == [["a", "b"]]


def test_a_large_repository_becomes_documents_along_its_dependency_order():
    records = [{"path": f"pkg/m{i}.py", "language": "Python",
                "text": (f"from pkg import m{i - 1}\n" if i else "") + f"X{i} = {i}\n" * 50} for i in range(12)]
    rows = assemble_documents("octo/big", records, AssembleConfig(max_doc_bytes=2000))
    assert len(rows) == 3  # ~470 bytes a file: four files a document
    paths = [f["path"] for r in rows for f in r["files"]]
    assert paths == [f"pkg/m{i}.py" for i in range(12)]  # the dependency chain, cut between files
    assert all(len(r["text"].encode()) <= 2000 for r in rows)
    for k, r in enumerate(rows):
        q = dict(r["quality"])
        assert q["repo_part"] == k and q["repo_parts"] == len(rows)
        assert q["dependency_edges_respected"] == 1.0 and q["acyclic_edges_respected"] == 1.0
    assert len({r["id"] for r in rows}) == len(rows)


@pytest.mark.slow
def test_a_glob_of_listings_is_one_read_and_the_summary_balances(tmp_path, capsys):
    _listing(tmp_path / "a.parquet", "octo/a", 6, lambda i: f"def f{i}():\n    return {i} * {i}\n" * 20)
    _listing(tmp_path / "b.parquet", "octo/b", 3, lambda i: f"def g{i}():\n    return 'b{i}'\n" * 20)
    units = discover(str(tmp_path / "*.parquet"))
    assert len(units) == 1 and units[0].pattern.endswith("*.parquet")
    out = tmp_path / "out"
    assert main(["code", "run", "--input", str(tmp_path / "*.parquet"), "--output", str(out),
                 "--max-doc-bytes", "1500", *IN_MEMORY]) == 0
    rows = list(open_dataset(str(out / "corpus")).iter_rows())
    assert {r["repo"] for r in rows} == {"octo/a", "octo/b"}
    assert sum(len(r["files"]) for r in rows) == 9
    assert len(rows) > 2  # octo/a was split
    printed = capsys.readouterr().out
    assert "files: in 9 = in documents 9" in printed and "documents: in " in printed


@pytest.mark.slow
def test_a_fork_is_removed_on_signatures_and_its_files_counted(tmp_path, capsys):
    def body(i):
        return "".join(f"def handler_{i}_{k}(request):\n    return render(request, 'page_{i}_{k}.html')\n"
                                 for k in range(30))
    _listing(tmp_path / "orig.parquet", "octo/orig", 5, body)
    rows = pq.read_table(tmp_path / "orig.parquet").to_pylist()
    for r in rows:
        r.update(repo="fork/orig", stars=0, license=None)
    rows[0]["content"] += "# a fork's own change\n"
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "fork.parquet")
    out = tmp_path / "out"
    assert main(["code", "run", "--input", str(tmp_path / "orig.parquet"), "--input", str(tmp_path / "fork.parquet"),
                 "--output", str(out), *IN_MEMORY]) == 0
    kept = list(open_dataset(str(out / "corpus")).iter_rows())
    assert {r["repo"] for r in kept} == {"octo/orig"}  # the permissive, starred original
    printed = capsys.readouterr().out
    assert "repositories: in 2 = kept 1 + near duplicate 1" in printed
    assert "near-duplicate repositories' files 5" in printed


def test_rows_that_do_not_add_up_fail_the_command():
    counters = {"read": {"files": 10}, "langid": {"out": 9, "skipped_binary": 1}, "filter": {"out": 9},
                "repo_dedup": {"in": 2, "kept": 2}, "assemble": {"files_out": 8, "docs": 2},
                "write": {"docs": 2}}
    files, repos, docs = conservation(counters)
    assert not files.ok and repos.ok and docs.ok
    with pytest.raises(ConservationError, match="files: in 10 != in documents 8"):
        files.check()


def test_repository_signatures_are_the_minimum_over_files():
    from dedup.minhash import MinHasher
    from pipelines.code.repo_dedup import CONFIG, RepoFactsFn, file_facts, file_signature

    hasher = MinHasher(CONFIG)
    texts = ["alpha beta gamma delta epsilon zeta eta theta", "one two three four five six seven eight"]
    records = [{"path": f"f{i}.py", "license": "mit" if i else None, "stars": i, "revision_date": None}
               for i in range(2)]
    fn = RepoFactsFn()
    acc = fn.create_accumulator()
    for r, t in zip(records, texts):
        acc = fn.add_input(acc, file_facts(r, file_signature(hasher, t)))
    facts = fn.extract_output(acc)
    assert np.array_equal(facts["signature"], np.minimum(*[hasher.signature(t) for t in texts]))
    assert facts["license"] == ("f1.py", "mit") and facts["stars"] == 1 and facts["files"] == 2
    assert file_signature(hasher, "") is None
