"""What each contract contributes as text, which rows are code, and how sources are named and sized."""

import json

from deepcorpus.core import contracts, datasets
from pipelines.tokenize import documents

from .conftest import formal_rows, web_rows, write


def test_text_per_contract():
    assert documents.document_text({"text": "page"}, contracts.WEB_DOC) == "page"
    assert documents.document_text({"text": "repo"}, contracts.CODE_REPO) == "repo"
    assert documents.document_text({"text": ""}, None) is None
    row = formal_rows(1)[0]
    assert documents.document_text(row, contracts.FORMAL_PROOF) == row["text"]


def test_formal_text_is_rebuilt_from_its_parts():
    row = {"informal": "Show it.", "formal_statement": "theorem t : 1 = 1 := by\n", "proof": "  rfl\n", "text": None}
    assert documents.document_text(row, contracts.FORMAL_PROOF) == "Show it.\n\ntheorem t : 1 = 1 := by\n  rfl\n"


def test_which_formal_proofs_train():
    verified = {"verified": True, "status": "verified"}
    unchecked = {"verified": False, "status": "unverified"}  # e.g. a run without Lean
    failed = {"verified": False, "status": "error"}
    assert [documents.proof_kept(r) for r in (verified, unchecked, failed)] == [True, True, False]
    assert [documents.proof_kept(r, "verified") for r in (verified, unchecked, failed)] == [True, False, False]
    assert all(documents.proof_kept(r, "all") for r in (verified, unchecked, failed))
    assert not documents.proof_kept({"verified": False})  # no status: a False verdict counts as failed


def test_code_is_code_repo_rows_or_rows_that_name_a_programming_language():
    assert documents.is_code({}, contracts.CODE_REPO)
    assert not documents.is_code({"language": "en"}, contracts.WEB_DOC)
    assert documents.is_code({"language": "Python"}, None)
    assert documents.is_code({"lang": "rust"}, None)
    assert documents.is_code({"languages": ["C++"]}, None)
    assert not documents.is_code({"language": "en"}, None)
    assert not documents.is_code({}, None)


def test_run_directories_are_named_after_their_stage(tmp_path):
    math = write(tmp_path / "math" / "corpus", contracts.WEB_DOC, web_rows(3))
    web = tmp_path / "web.jsonl"
    web.write_text(json.dumps({"text": "x"}) + "\n")
    sources = datasets.resolve_inputs([math, str(tmp_path / "math"), str(web)])
    assert documents.source_names(sources) == ["math", "math-2", "web"]


def test_text_size_comes_from_parquet_metadata(tmp_path):
    rows = web_rows(40)
    path = write(tmp_path / "c", contracts.WEB_DOC, rows)
    (source,) = datasets.resolve_inputs([path])
    text_bytes = sum(len(r["text"].encode()) for r in rows)
    assert text_bytes <= documents.estimate_text_bytes(source) < text_bytes * 1.5


def test_a_documents_dataset_is_read_as_the_plain_files_it_was_made_from(tmp_path):
    """`dedup` run on plain JSONL/Parquet commits a `documents` dataset: it tokenizes like those files
    (their columns, and a row naming a programming language is code)."""
    import pyarrow as pa

    schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("language", pa.string())])
    with datasets.DatasetWriter(str(tmp_path / "d"), contracts.DOCUMENTS, schema=schema) as w:
        w.write_rows([{"id": "1", "text": "def f(): pass", "language": "Python"},
                      {"id": "2", "text": "a page", "language": "en"}])
    (source,) = datasets.resolve_inputs([str(tmp_path / "d")])
    documents.check_readable(source)
    assert documents.columns_for(source) == ["id", "text", "language"]
    rows = list(datasets.iter_source_rows(source, documents.columns_for(source)))
    assert [documents.is_code(r, source.schema_name) for r in rows] == [True, False]
    assert [documents.document_text(r, source.schema_name) for r in rows] == ["def f(): pass", "a page"]


def test_dedups_output_of_plain_files_trains_a_tokenizer(tmp_path):
    from deepcorpus.cli import main

    path = write(tmp_path / "d", contracts.DOCUMENTS, [{"id": str(i), "text": r["text"]} for i, r in enumerate(web_rows(30))])
    out = tmp_path / "tok.json"
    assert main(["tokenize", "train-tokenizer", "--input", path, "--vocab-size", "300", "--output", str(out)]) == 0
    assert json.loads(out.read_text())["model"]["type"] == "BPE"
