"""`deepcorpus dedup ...` end to end: datasets in, datasets (kept and removed) out."""

import json
import random

import pytest

from deepcorpus.cli import main
from deepcorpus.core import datasets
from deepcorpus.core.contracts import DOCUMENTS, WEB_DOC, contract

IN_MEMORY = ["--direct_running_mode=in_memory"]  # one process: quicker for tiny inputs


def words(seed, n=150):
    rng = random.Random(seed)
    return [f"w{rng.randrange(20000)}" for _ in range(n)]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_exact_on_jsonl_keeps_every_column_and_writes_removed(tmp_path, capsys):
    src = write_jsonl(tmp_path / "docs.jsonl", [
        {"id": 1, "text": "Same text", "lang": "en"},
        {"id": 2, "text": "same   TEXT", "lang": "fr"},
        {"id": 3, "text": "other", "lang": "en"},
    ])
    code = main(["dedup", "exact", "--input", src, "--output", str(tmp_path / "out"),
                 "--removed", str(tmp_path / "dups"), *IN_MEMORY])
    assert code == 0
    kept = datasets.open_dataset(str(tmp_path / "out"))
    assert kept.schema_name == "documents"
    assert sorted(kept.read().to_pylist(), key=lambda r: r["id"]) == [
        {"id": "1", "text": "Same text", "lang": "en"}, {"id": "3", "text": "other", "lang": "en"}]
    removed = datasets.open_dataset(str(tmp_path / "dups")).read().to_pylist()
    assert removed == [{"id": "2", "text": "same   TEXT", "lang": "fr", "duplicate_of": "1", "dedup_reason": "exact"}]
    out = capsys.readouterr().out
    assert "dropped_exact" in out and "kept: 2 rows" in out


def test_minhash_on_a_web_doc_dataset_keeps_the_contract(tmp_path):
    base = words(1)
    rows = [
        {"id": "a", "url": "http://x.org/a", "text": " ".join(base), "crawl_date": "2023-01-01", "score": 0.9},
        {"id": "b", "url": "http://y.org/b", "text": " ".join(base[:-1] + ["end"]), "crawl_date": "2024-01-01"},
        {"id": "c", "url": "http://z.org/c", "text": " ".join(words(2))},
    ]
    with datasets.DatasetWriter(str(tmp_path / "web"), WEB_DOC) as w:
        w.write_rows(rows)
    code = main(["dedup", "minhash", "--input", str(tmp_path / "web"), "--output", str(tmp_path / "near"),
                 "--removed", str(tmp_path / "near_dups"), "--verify", *IN_MEMORY])
    assert code == 0
    kept = datasets.open_dataset(str(tmp_path / "near"), expect=WEB_DOC)
    table = kept.read()
    assert table.schema.names == contract(WEB_DOC).schema.names
    assert sorted(table.column("id").to_pylist()) == ["a", "c"]
    assert kept.manifest["dedup"]["settings"]["bands"] == 20
    assert kept.manifest["dedup"]["counters"]["minhash"]["dropped_near_duplicate"] == 1
    removed = datasets.open_dataset(str(tmp_path / "near_dups")).read().to_pylist()
    assert [(r["id"], r["duplicate_of"], r["url"]) for r in removed] == [("b", "a", "http://y.org/b")]


def test_decontaminate_takes_a_directory_of_benchmarks(tmp_path):
    bench = tmp_path / "bench"
    bench.mkdir()
    write_jsonl(bench / "qa.jsonl", [{"question": "how many apples does the farmer have left after selling twelve of them"}])
    src = write_jsonl(tmp_path / "docs.jsonl", [
        {"id": "x", "text": "Q: How many apples does the farmer have left after selling twelve of them? A: 3"},
        {"id": "y", "text": "apples and farmers"},
    ])
    code = main(["dedup", "decontaminate", "--input", src, "--benchmark", str(bench), "--output",
                 str(tmp_path / "clean"), "--removed", str(tmp_path / "leaks"), *IN_MEMORY])
    assert code == 0
    assert datasets.open_dataset(str(tmp_path / "clean")).read().column("id").to_pylist() == ["y"]
    leak = datasets.open_dataset(str(tmp_path / "leaks")).read().to_pylist()[0]
    assert (leak["id"], leak["duplicate_of"]) == ("x", "bench/qa.jsonl#0")


def test_math_decontaminate_is_the_same_command_with_web_doc_out(tmp_path):
    bench = write_jsonl(tmp_path / "gsm8k.jsonl", [
        {"question": "how many apples does the farmer have left after selling twelve of them"}])
    src = write_jsonl(tmp_path / "docs.jsonl", [
        {"id": 1, "url": "https://www.x.org/q", "text": "How many apples does the farmer have left after selling "
                                                        "twelve of them? Three."},
        {"id": 2, "url": "https://y.org/a", "text": "apples and farmers"},
    ])
    removed = {}
    for command in ("math", "dedup"):
        out, leaks = tmp_path / f"{command}_clean", tmp_path / f"{command}_leaks"
        assert main([command, "decontaminate", "--input", src, "--benchmark", bench, "--output", str(out),
                     "--removed", str(leaks), *IN_MEMORY]) == 0
        kept = datasets.open_dataset(str(out))
        assert kept.read().column("id").to_pylist() == ["2"]
        assert kept.manifest["dedup"]["counters"]["decontaminate"]["dropped_benchmark"] == 1
        removed[command] = datasets.open_dataset(str(leaks), expect=DOCUMENTS).read().to_pylist()
    assert kept.schema_name == DOCUMENTS  # dedup keeps a plain file's own columns
    web = datasets.open_dataset(str(tmp_path / "math_clean"), expect=WEB_DOC).read().to_pylist()
    assert web[0]["domain"] == "y.org" and web[0]["token_count"] > 0 and web[0]["content_hash"]
    # The removed rows come in one format from both commands: the row, duplicate_of, dedup_reason.
    for rows in removed.values():
        assert [(r["id"], r["dedup_reason"]) for r in rows] == [("1", "benchmark")]
        assert rows[0]["duplicate_of"].endswith("/gsm8k.jsonl#0")
    assert removed["math"][0]["domain"] == "x.org" and "domain" not in removed["dedup"][0]


@pytest.mark.parametrize("argv, message", [
    (["decontaminate", "--benchmark", "missing.jsonl"], "missing.jsonl: no such benchmark file"),
    (["minhash", "--bands", "40", "--rows", "10", "--num-perm", "64"], "bands x rows"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, message):
    src = write_jsonl(tmp_path / "docs.jsonl", [{"id": "1", "text": "t"}])
    code = main(["dedup", argv[0], "--input", src, "--output", str(tmp_path / "o"), *argv[1:], *IN_MEMORY])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_inputs_of_two_kinds_are_refused(tmp_path, capsys):
    src = write_jsonl(tmp_path / "docs.jsonl", [{"id": "1", "text": "t"}])
    with datasets.DatasetWriter(str(tmp_path / "web"), WEB_DOC) as w:
        w.write_rows([{"id": "a", "text": "t"}])
    code = main(["dedup", "exact", "--input", src, "--input", str(tmp_path / "web"), "--output", str(tmp_path / "o")])
    assert code == 2 and "mixes datasets and plain" in capsys.readouterr().err
