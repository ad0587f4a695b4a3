"""Each Beam step of `code run` on its own, with TestPipeline and assert_that."""

import apache_beam as beam
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from deepcorpus import samples
from pipelines.code.sources import discover
from pipelines.code.transforms import AssembleFn, FilterFn, IdentifyFn, ListingRowFn, ReadRepoFn, repo_candidate


def file_record(path, content, repo="r"):
    return {"repo": repo, "path": path, "content": content, "license": None, "stars": None, "revision_date": None}


def test_read_repo_yields_one_record_per_file():
    [unit] = discover(samples.path("repos", "wordcount-rs"))
    with test_pipeline.TestPipeline() as p:
        paths = p | beam.Create([unit]) | beam.ParDo(ReadRepoFn()) | beam.Map(lambda r: (r["repo"], r["path"]))
        assert_that(paths, equal_to([("wordcount-rs", "Cargo.toml"), ("wordcount-rs", "src/counter.rs"),
                                     ("wordcount-rs", "src/main.rs"), ("wordcount-rs", "src/tokenize.rs")]))


def test_listing_rows_from_json_lines():
    line = '{"repo": "octo/a", "path": "x.py", "content": "print(1)\\n", "stars": 3}'
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create([("l.jsonl", line), ("l.jsonl", "")]) | beam.ParDo(ListingRowFn()) | beam.Map(lambda r: (r["path"], r["stars"]))
        assert_that(out, equal_to([("x.py", 3)]))


def test_identify_names_languages_and_skips_the_rest():
    records = [
        file_record("a.py", b"import os\n"),
        file_record("README.md", b"# readme\n"),
        file_record("logo.png", b"\x89PNG\x00\x00"),
        file_record("node_modules/x/index.js", b"module.exports = 1;\n"),
    ]
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(records) | beam.ParDo(IdentifyFn()) | beam.Map(lambda r: (r["id"], r["language"], r["text"]))
        assert_that(out, equal_to([("r/a.py", "Python", "import os\n")]))


def test_filter_drops_by_rule():
    keep = {"text": "def f():\n    return 1\n", "language": "Python"}
    drop = {"text": '{"a": 1}', "language": "JSON"}
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create([keep, drop]) | beam.ParDo(FilterFn()) | beam.Map(lambda r: r["language"])
        assert_that(out, equal_to(["Python"]))


def test_assemble_builds_one_document_per_repository():
    files = [
        {"repo": "r", "path": "main.go", "language": "Go", "text": 'package main\nimport "example.com/r/util"\n'},
        {"repo": "r", "path": "util/util.go", "language": "Go", "text": "package util\n"},
    ]
    with test_pipeline.TestPipeline() as p:
        out = (p | beam.Create([("r", files)]) | beam.ParDo(AssembleFn())
               | beam.Map(lambda d: (d["repo"], d["order"], [f["path"] for f in d["files"]])))
        assert_that(out, equal_to([("r", "dependency", ["util/util.go", "main.go"])]))


def test_repo_candidate_carries_records_and_ranking_fields():
    files = [{"path": "b.py", "text": "b", "license": "MIT", "stars": 2, "revision_date": "2024"},
             {"path": "a.py", "text": "a", "license": None, "stars": None, "revision_date": None}]
    row = repo_candidate(("octo/r", files))
    assert (row["id"], row["text"], row["license"], row["stars"]) == ("octo/r", "a\nb", "MIT", 2)
    assert [r["path"] for r in row["records"]] == ["a.py", "b.py"]
