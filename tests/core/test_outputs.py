"""Never delete or replace anything that is not ours: the current directory, a plain file, a
directory without our manifest; `--force` replaces an existing dataset, and only that."""

from __future__ import annotations

import json
import os

import pytest

from deepcorpus import samples
from deepcorpus.cli import main as cli_main
from deepcorpus.core import contracts, datasets


def main(argv: list[str]) -> int:
    """The exit status: an output of the wrong kind is refused while the options are parsed
    (argparse's SystemExit 2), other refusals when the command runs (the status returned)."""
    try:
        return cli_main(argv)
    except SystemExit as e:
        return e.code

IN_MEMORY = ["--direct_running_mode", "in_memory", "--direct_num_workers", "1"]


def snapshot(path) -> dict:
    """Every file under `path` with its bytes (what 'nothing touched' means)."""
    if os.path.isfile(path):
        return {str(path): open(path, "rb").read()}
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            out[full] = open(full, "rb").read() if os.path.isfile(full) else None
    return out


@pytest.fixture
def docs(tmp_path):
    path = tmp_path / "in" / "docs.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps({"id": str(i), "text": f"document {i} " * 4}) + "\n" for i in range(8)))
    return str(path)


def _one_line(capsys, *expected) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for word in expected:
        assert word in err[0], err[0]
    return err[0]


def _not_ours(tmp_path):
    """A plain file, a directory of someone's files, and the current directory with files in it."""
    plain = tmp_path / "plain.txt"
    plain.write_text("keep me")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"\xff\xd8")
    (folder / "part-00000.parquet").write_bytes(b"PAR1 not ours")
    return {"file": plain, "directory": folder}


@pytest.mark.parametrize("kind", ["file", "directory", "cwd"])
@pytest.mark.parametrize("method", ["exact", "minhash", "decontaminate"])
def test_dedup_refuses_what_is_not_a_dataset_even_with_force(kind, method, tmp_path, docs, capsys, monkeypatch):
    targets = _not_ours(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "important.txt").write_text("do not delete")
    monkeypatch.chdir(work)
    out = "." if kind == "cwd" else str(targets[kind])
    watched = work if kind == "cwd" else targets[kind]
    before = snapshot(tmp_path)
    extra = ["--benchmark", docs] if method == "decontaminate" else []
    for force in ([], ["--force"]):
        assert main(["dedup", method, "--input", docs, "--output", out, *extra, *force, *IN_MEMORY]) == 2
        _one_line(capsys, out if kind != "cwd" else "current directory")
        assert snapshot(tmp_path) == before, watched


def test_an_existing_dataset_is_replaced_with_force_only(tmp_path, docs, capsys):
    out = str(tmp_path / "kept")
    assert main(["dedup", "exact", "--input", docs, "--output", out, *IN_MEMORY]) == 0
    first = datasets.read_manifest(out)
    assert main(["dedup", "exact", "--input", docs, "--output", out, *IN_MEMORY]) == 2
    _one_line(capsys, out, "--force replaces it")
    assert datasets.read_manifest(out) == first
    (tmp_path / "kept" / "README.txt").write_text("a note beside the dataset")
    assert main(["dedup", "exact", "--input", docs, "--output", out, "--force", *IN_MEMORY]) == 0
    second = datasets.read_manifest(out)
    assert second["run_id"] != first["run_id"] and second["row_count"] == 8
    listed = {p["name"] for p in second["parts"]}
    assert set(os.listdir(out)) == listed | {datasets.MANIFEST, "README.txt"}  # only our old parts went


def test_tokenize_refuses_what_is_not_ours_and_another_kind_of_dataset(tmp_path, docs, capsys):
    tok = tmp_path / "tokenizer.json"
    assert main(["tokenize", "train-tokenizer", "--input", docs, "--vocab-size", "300", "--output", str(tok)]) == 0
    targets = _not_ours(tmp_path)
    before = snapshot(tmp_path)
    for target in targets.values():
        assert main(["tokenize", "run", "--input", docs, "--tokenizer", str(tok), "--seq-len", "8",
                     "--output", str(target), "--force", *IN_MEMORY]) == 2
        _one_line(capsys, str(target))
    assert snapshot(tmp_path) == before
    web = str(tmp_path / "web")
    with datasets.DatasetWriter(web, contracts.DOCUMENTS) as w:
        w.write_rows([{"id": "1", "text": "x"}])
    argv = ["tokenize", "run", "--input", docs, "--tokenizer", str(tok), "--seq-len", "8", "--output", web, *IN_MEMORY]
    assert main(argv) == 2
    _one_line(capsys, "documents dataset", "--force")
    assert main([*argv, "--force"]) == 0
    assert datasets.read_manifest(web)["schema"] == contracts.TOKEN_SHARD


@pytest.mark.parametrize("command", ["math run", "code run", "formal run", "demo"])
def test_run_directories_refuse_what_is_not_theirs(command, tmp_path, capsys, monkeypatch):
    targets = _not_ours(tmp_path)
    dataset = str(tmp_path / "dataset")
    with datasets.DatasetWriter(dataset, contracts.DOCUMENTS) as w:
        w.write_rows([{"id": "1", "text": "x"}])
    work = tmp_path / "work"
    work.mkdir()
    (work / "important.txt").write_text("do not delete")
    monkeypatch.chdir(work)
    argv = {
        "math run": ["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--seed",
                     samples.path("math_seed.jsonl"), *IN_MEMORY, "--output"],
        "code run": ["code", "run", "--input", samples.path("repos", "wordcount-rs"), *IN_MEMORY, "--output"],
        "formal run": ["formal", "run", "--generator", "template", "--count", "3", *IN_MEMORY, "--output"],
        "demo": ["demo", "--output"],
    }[command]
    before = snapshot(tmp_path)
    for out in (str(targets["file"]), str(targets["directory"]), dataset, ".", str(tmp_path)):
        assert main([*argv, out]) == 2, out
        _one_line(capsys)
    assert snapshot(tmp_path) == before


def test_file_outputs_are_never_a_directory_nor_inside_a_dataset(tmp_path, docs, capsys):
    dataset = str(tmp_path / "dataset")
    with datasets.DatasetWriter(dataset, contracts.DOCUMENTS) as w:
        w.write_rows([{"id": "1", "text": "x"}])
    before = snapshot(tmp_path)
    inside = os.path.join(dataset, "result.csv")
    assert main(["inspect", dataset, "SELECT * FROM docs", "--format", "csv", "--output", inside]) == 2
    _one_line(capsys, "inside the dataset")
    assert main(["inspect", dataset, "SELECT * FROM docs", "--format", "csv", "--output", str(tmp_path)]) == 2
    _one_line(capsys, "is a directory")
    assert main(["report", dataset, "--output", os.path.join(dataset, "report.html")]) == 2
    _one_line(capsys, "inside the dataset")
    assert main(["tokenize", "train-tokenizer", "--input", docs, "--vocab-size", "300", "--output", dataset]) == 2
    _one_line(capsys, "is a directory")
    assert snapshot(tmp_path) == before
    out = tmp_path / "result.csv"
    out.write_text("an older result")
    assert main(["inspect", dataset, "SELECT id FROM docs", "--format", "csv", "--output", str(out)]) == 0
    assert out.read_text().splitlines()[0].strip('"') == "id"  # a plain file of that name is replaced: that is what --output asks


def test_the_demo_replaces_only_its_own_earlier_output(tmp_path, monkeypatch):
    from deepcorpus.core import outputs

    out = tmp_path / "demo-out"
    out.mkdir()
    outputs.mark_run_output(str(out), "demo", None)
    (out / "old.txt").write_text("from an earlier demo")
    import deepcorpus.demo as demo

    monkeypatch.setattr(demo, "demo_steps", lambda out, steps: [])
    assert demo.run_demo(str(out)) == 0
    assert sorted(os.listdir(out)) == [outputs.RUN_MARKER]
