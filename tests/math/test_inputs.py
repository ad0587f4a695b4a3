"""inputs.py: Common Crawl's listings and --input-list, resolved against --crawl-base, read inside
the pipeline; the launcher checks only their first lines."""

import gzip
import shutil

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from deepcorpus import samples
from deepcorpus.core.errors import UserError
from pipelines.math import inputs

CRAWL = sorted(__import__("glob").glob(samples.path("crawl", "*.warc.gz")))


@pytest.fixture
def mirror(tmp_path):
    """A Common Crawl-like tree and its warc.paths.gz (relative lines, as Common Crawl writes them)."""
    lines = []
    for i, f in enumerate(CRAWL):
        rel = f"crawl-data/CC-MAIN-2024-10/segments/{i}/warc/{i:05d}.warc.gz"
        (tmp_path / rel).parent.mkdir(parents=True)
        shutil.copy(f, tmp_path / rel)
        lines.append(rel)
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return tmp_path, listing, lines


def test_kinds_and_resolution():
    assert inputs.classify("https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-10/warc.paths.gz").kind == "listing"
    assert inputs.classify("crawl/*.warc.gz").kind == "glob"
    assert inputs.classify("https://x.org/a.warc.gz").kind == "url"
    assert inputs.classify("files.txt", from_list=True).kind == "list"
    assert inputs.resolve("crawl-data/a.warc.gz", inputs.CC_BASE) == "https://data.commoncrawl.org/crawl-data/a.warc.gz"
    assert inputs.resolve("crawl-data/a.warc.gz", "s3://mirror/cc/") == "s3://mirror/cc/crawl-data/a.warc.gz"
    assert inputs.resolve("gs://b/a.warc.gz", "s3://mirror") == "gs://b/a.warc.gz"
    assert inputs.resolve("/abs/a.warc.gz", "/base") == "/abs/a.warc.gz"


def test_a_listing_is_expanded_inside_the_pipeline(mirror):
    base, listing, lines = mirror
    specs = [inputs.classify(str(listing))]
    assert inputs.check(specs, str(base)) == [str(listing)]  # the launcher names the listing, not its files
    with BeamTestPipeline(runner="FnApiRunner") as p:
        files = p | beam.Create(specs) | beam.ParDo(inputs.ExpandInputs(str(base)))
        assert_that(files, equal_to([str(base / line) for line in lines]))


def test_input_list_any_number_of_files_with_comments(tmp_path):
    lst = tmp_path / "files.txt"
    lst.write_text("# my crawl\n\n" + "\n".join(CRAWL) + "\n")
    specs = [inputs.classify(str(lst), from_list=True)]
    assert inputs.check(specs, inputs.CC_BASE) == [str(lst)]
    assert list(inputs.iter_listing(str(lst), inputs.CC_BASE)) == CRAWL


def test_bad_listings_are_one_line_errors(tmp_path):
    missing = inputs.classify(str(tmp_path / "warc.paths.gz"))
    with pytest.raises(UserError, match="no such file"):
        inputs.check([missing], inputs.CC_BASE)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(UserError, match="lists no crawl files"):
        inputs.check([inputs.classify(str(empty), from_list=True)], inputs.CC_BASE)
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("a.warc.gz\nnotes.pdf\n")
    with pytest.raises(UserError, match=r"wrong.txt: .*notes.pdf: not a WARC/WET file"):
        inputs.check([inputs.classify(str(wrong), from_list=True)], str(tmp_path))
    with pytest.raises(UserError, match="not a WARC/WET file"):
        inputs.check([inputs.classify(str(empty))], inputs.CC_BASE)


def test_a_file_listed_twice_is_read_once_and_counted(tmp_path):
    from deepcorpus.cli import main

    lst = tmp_path / "files.txt"
    lst.write_text("\n".join(CRAWL + CRAWL[:1]) + "\n")
    out = tmp_path / "math"
    assert main(["math", "run", "--input-list", str(lst), "--input", CRAWL[0], "--seed", samples.path("math_seed.jsonl"),
                 "--output", str(out), "--iterations", "1", "--direct_running_mode", "in_memory"]) == 0
    summary = __import__("json").loads((out / "summary.json").read_text())
    read = summary["counters"]["read"]
    assert read["files_listed"] == 5 and read["files_read"] == 3 and read["duplicate_files"] == 2
    assert read["html"] == 342
    assert "read files: in 5 = read 3 + corrupt_files 0 + truncated_files 0 + failed_files 0 + duplicate_files 2" \
        in summary["conservation"]


def test_records_repeating_an_id_are_deduplicated_row_by_row(tmp_path):
    """A copy of a crawl file under another name repeats every record id (and URL): URL dedup keeps
    one of each, and the decision removes that row, not every row sharing the id."""
    import json

    from deepcorpus.cli import main

    copy = tmp_path / "again.warc.gz"
    shutil.copy(CRAWL[0], copy)
    out = tmp_path / "math"
    assert main(["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--input", str(copy),
                 "--seed", samples.path("math_seed.jsonl"), "--output", str(out), "--iterations", "1",
                 "--direct_running_mode", "in_memory"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counters"]["candidates"]["rows_out"] == 318  # as without the copy
    assert all(" != " not in line for line in summary["conservation"])
