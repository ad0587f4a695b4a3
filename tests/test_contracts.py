"""The data contracts: round trip, version refusal, unfinished-write refusal, user inputs."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepcorpus.core import contracts, datasets
from deepcorpus.core.errors import DatasetError, UserError


def _web_rows(n):
    return [
        {"id": f"d{i}", "url": f"https://example.org/{i}", "domain": "example.org", "text": f"x = {i}",
         "language": "en", "score": 0.5, "iteration": 1, "token_count": 3,
         "extraction": {"extractor": "test", "math_formats": ["mathjax"], "n_formulas": 1, "encoding": "utf-8"}}
        for i in range(n)
    ]


def test_round_trip_keeps_rows_and_writes_manifest(tmp_path):
    out = str(tmp_path / "docs")
    command = ["deepcorpus", "math", "score", "--output", out]
    with datasets.DatasetWriter(out, contracts.WEB_DOC, rows_per_part=4, inputs=[__file__], command=command) as w:
        w.write_rows(_web_rows(10))
        w.extra["stats"] = {"extract": {"in": 10}}
    ds = datasets.open_dataset(out, expect=contracts.WEB_DOC)
    assert ds.row_count == 10
    assert len(ds.files) == 3  # 4 + 4 + 2
    table = ds.read()
    assert table.schema.equals(contracts.WEB_DOC_SCHEMA)
    assert table.column("id").to_pylist() == [f"d{i}" for i in range(10)]
    assert table.column("language_score").null_count == 10  # absent keys become nulls
    m = ds.manifest
    for key in ("schema", "schema_version", "row_count", "byte_size", "created", "command", "code_version", "inputs"):
        assert key in m
    assert m["stats"] == {"extract": {"in": 10}} and m["command"] == command  # as given, not sys.argv
    assert __file__ in m["inputs"]
    assert pq.ParquetFile(ds.files[0]).metadata.row_group(0).column(0).compression == "ZSTD"
    # nothing but the committed dataset is left beside it
    assert sorted(os.listdir(tmp_path)) == ["docs"]


def test_every_contract_round_trips_an_empty_dataset(tmp_path):
    for name in (contracts.WEB_DOC, contracts.CODE_REPO, contracts.FORMAL_PROOF):
        out = str(tmp_path / name)
        with datasets.DatasetWriter(out, name):
            pass
        ds = datasets.open_dataset(out)
        assert ds.row_count == 0 and ds.read().schema.equals(contracts.contract(name).schema)


def test_token_shard_schema_types_by_vocabulary():
    small = contracts.token_shard_schema(8, 50_000)
    assert small.field("tokens").type == pa.list_(pa.int32(), 9)
    assert contracts.token_shard_schema(8, 2**32 - 1).field("tokens").type.value_type == pa.uint32()


def test_refuses_other_schema_version(tmp_path):
    out = str(tmp_path / "docs")
    with datasets.DatasetWriter(out, contracts.WEB_DOC) as w:
        w.write_rows(_web_rows(1))
    mpath = os.path.join(out, datasets.MANIFEST)
    m = json.load(open(mpath))
    m["schema_version"] = 99
    json.dump(m, open(mpath, "w"))
    with pytest.raises(DatasetError, match="version 99"):
        datasets.open_dataset(out)


def test_refuses_unfinished_write(tmp_path):
    out = str(tmp_path / "docs")
    with pytest.raises(RuntimeError):
        with datasets.DatasetWriter(out, contracts.WEB_DOC) as w:
            w.write_rows(_web_rows(1))
            raise RuntimeError("crash mid-write")
    assert os.listdir(tmp_path) == []  # the staging directory is gone, nothing looks whole
    # a directory of parts without a manifest (e.g. killed before commit) is refused
    os.makedirs(out)
    pq.write_table(contracts.conform(_web_rows(1), contracts.WEB_DOC_SCHEMA), os.path.join(out, "part-00000.parquet"))
    with pytest.raises(DatasetError, match="unfinished write"):
        datasets.open_dataset(out)
    with pytest.raises(DatasetError, match="unfinished write"):
        datasets.resolve_input(out)


def test_refuses_wrong_kind(tmp_path):
    out = str(tmp_path / "docs")
    with datasets.DatasetWriter(out, contracts.WEB_DOC):
        pass
    with pytest.raises(DatasetError, match="token_shard dataset is needed"):
        datasets.open_dataset(out, expect=contracts.TOKEN_SHARD)


def test_commit_replaces_previous_dataset(tmp_path):
    out = str(tmp_path / "docs")
    for n in (5, 2):
        with datasets.DatasetWriter(out, contracts.WEB_DOC) as w:
            w.write_rows(_web_rows(n))
    assert datasets.open_dataset(out).row_count == 2


def test_plain_jsonl_and_parquet_inputs(tmp_path):
    jl = tmp_path / "a.jsonl"
    jl.write_text('{"text": "hello"}\n\n{"text": "world", "id": "w"}\n')
    src = datasets.resolve_input(str(jl))
    assert src.kind == "jsonl"
    assert [r["id"] for r in datasets.iter_source_rows(src)] == ["a.jsonl:0", "w"]
    pq.write_table(pa.table({"text": ["t"]}), tmp_path / "b.parquet")
    src = datasets.resolve_input(str(tmp_path / "*.parquet"))
    assert src.kind == "parquet" and [r["text"] for r in datasets.iter_source_rows(src)] == ["t"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty file"),
        ('{"body": "x"}\n', "no 'text' field"),
        ('{"text": "ok"}\n{broken\n', "malformed JSON"),
    ],
)
def test_bad_jsonl_inputs_name_the_file(tmp_path, content, message):
    jl = tmp_path / "bad.jsonl"
    jl.write_text(content)
    with pytest.raises(UserError, match=message) as e:
        src = datasets.resolve_input(str(jl))
        list(datasets.iter_source_rows(src))
    assert str(jl) in str(e.value)


def test_missing_input_and_parquet_without_text(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        datasets.resolve_input(str(tmp_path / "nope.jsonl"))
    pq.write_table(pa.table({"body": ["t"]}), tmp_path / "b.parquet")
    with pytest.raises(UserError, match="no 'text' column"):
        datasets.resolve_input(str(tmp_path / "b.parquet"))
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(UserError, match="not a dataset, JSONL or Parquet"):
        datasets.resolve_input(str(tmp_path / "x.csv"))


def test_parquet_schema_reads_only_the_footer(tmp_path, monkeypatch):
    import io

    path = tmp_path / "big.parquet"
    texts = [os.urandom(512).hex() for _ in range(4000)]  # ~4 MB that compresses poorly
    pq.write_table(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}), path)
    read = []

    class Counting(io.FileIO):
        """A seekable file that counts the bytes asked of it, as a remote object store would."""

        def readinto(self, b):
            n = super().readinto(b)
            read.append(n or 0)
            return n

        def read(self, n=-1):
            data = super().read(n)
            read.append(len(data))
            return data

    monkeypatch.setattr(datasets.storage, "open_random", lambda p: Counting(p, "rb"))
    assert datasets.parquet_schema(str(path)).names == ["id", "text"]
    # Arrow fetches the last 64 KiB at most (its speculative footer read), of a ~4 MB file.
    assert 0 < sum(read) <= 64 * 1024 < os.path.getsize(path) // 32
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DatasetError, match="bad.parquet: not a readable Parquet file"):
        datasets.parquet_schema(str(tmp_path / "bad.parquet"))
