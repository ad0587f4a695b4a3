"""Reading repositories: git work trees (HEAD only), bare repositories, folders, archives, listings."""

import json
import os
import shutil
import subprocess
import tarfile
import zipfile

import pytest

from deepcorpus import samples
from deepcorpus.core.errors import UserError
from pipelines.code.licenses import detect_license, license_rank, normalize_license
from pipelines.code.sources import RepoUnit, discover, listing_record, read_unit

SAMPLE = samples.path("repos", "wordcount-rs")


def git(*args, cwd):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+00:00",
           "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+00:00"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture
def git_repo(tmp_path):
    """A git work tree made from a sample repository at test time (a nested .git cannot be shipped)."""
    repo = tmp_path / "wordcount"
    shutil.copytree(SAMPLE, repo)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    (repo / "scratch.rs").write_text("fn untracked() {}\n")  # not committed: not part of the repository
    (repo / "src" / "counter.rs").write_text("// edited, not committed\n")
    return repo


def paths(records):
    return sorted(r["path"] for r in records if r.get("path"))


def test_a_git_work_tree_is_read_from_head(git_repo):
    units = discover(str(git_repo))
    assert units == [RepoUnit("git", str(git_repo), "wordcount")]
    records = list(read_unit(units[0]))
    assert paths(records) == ["Cargo.toml", "src/counter.rs", "src/main.rs", "src/tokenize.rs"]
    counter = next(r for r in records if r["path"] == "src/counter.rs")
    assert counter["content"].startswith(b"use std::collections::HashMap;")  # HEAD's, not the edit
    assert counter["revision_date"].startswith("2024-05-01T12:00:00")


def test_a_bare_repository_is_read_too(git_repo, tmp_path):
    bare = tmp_path / "wordcount.git"
    git("clone", "-q", "--bare", str(git_repo), str(bare), cwd=tmp_path)
    [unit] = discover(str(bare))
    assert unit.kind == "bare" and unit.name == "wordcount"
    assert paths(read_unit(unit)) == ["Cargo.toml", "src/counter.rs", "src/main.rs", "src/tokenize.rs"]


def test_a_folder_of_repositories(tmp_path, git_repo):
    shutil.copytree(samples.path("repos", "ringbuf-c"), tmp_path / "ringbuf-c")
    kinds = {u.name: u.kind for u in discover(str(tmp_path))}
    assert kinds == {"wordcount": "git", "ringbuf-c": "folder"}


def test_a_plain_folder_with_loose_files_is_one_repository():
    [unit] = discover(samples.path("repos", "ringbuf-c"))
    assert unit.kind == "folder"
    records = list(read_unit(unit))
    assert "include/ringbuf.h" in paths(records)
    assert {r["license"] for r in records} == {"Apache-2.0"}


def test_a_github_style_tar_gz_loses_its_top_folder(tmp_path):
    archive = tmp_path / "wordcount-main.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(SAMPLE, arcname="wordcount-0a1b2c3")
    [unit] = discover(str(archive))
    assert unit == RepoUnit("archive", str(archive), "wordcount-main")
    assert paths(read_unit(unit)) == ["Cargo.toml", "src/counter.rs", "src/main.rs", "src/tokenize.rs"]


def test_an_archive_that_is_not_one_is_a_one_line_error(tmp_path):
    archive = tmp_path / "repo.tar.gz"
    archive.write_bytes(os.urandom(100))
    with pytest.raises(UserError) as e:
        list(read_unit(discover(str(archive))[0]))
    assert str(e.value) == f"{archive}: not a readable archive (not a tar archive, plain or compressed with gzip, bzip2 or xz)"


def test_a_zip_archive(tmp_path):
    archive = tmp_path / "wc.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("wc-main/src/main.rs", "fn main() {}\n")
        z.writestr("wc-main/README.md", "# wc\n")
    assert paths(read_unit(discover(str(archive))[0])) == ["README.md", "src/main.rs"]


def test_oversized_files_are_not_read_but_counted():
    unit = discover(samples.path("repos", "wordcount-rs"))[0]
    records = list(read_unit(unit, max_bytes=200))
    assert any(r.get("skip") == "too_large" for r in records)
    assert all(len(r["content"]) <= 200 for r in records if r.get("content") is not None)


def test_listing_rows_become_file_records():
    row = {"max_stars_repo_name": "octo/kit", "max_stars_repo_path": "/lib/a.sh", "content": "echo hi\n",
           "max_stars_repo_licenses": ["GPL-3.0", "mit"], "max_stars_count": 7}
    record = listing_record(row, "stack.parquet")
    assert record == {"repo": "octo/kit", "path": "lib/a.sh", "content": b"echo hi\n", "license": "MIT", "stars": 7,
                      "revision_date": None}
    with pytest.raises(UserError, match="stack.parquet: listing rows need 'repo', 'path' and 'content'"):
        listing_record({"text": "x"}, "stack.parquet")


def test_listings_and_archives_in_the_sample_folder_are_found():
    kinds = {u.name: u.kind for u in discover(samples.path("repos"))}
    assert kinds["stack_listing.jsonl"] == "listing"
    assert kinds["pyshapes-fork"] == "archive"
    assert kinds["pyshapes"] == "folder"


def test_bad_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="no such file or folder"):
        discover(str(tmp_path / "missing"))
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UserError, match="notes.txt: not a repository, archive"):
        discover(str(tmp_path / "notes.txt"))
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tarball")
    with pytest.raises(UserError, match="broken.tar.gz: not a readable archive"):
        list(read_unit(discover(str(broken))[0]))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="holds no repositories"):
        discover(str(empty))


def test_licenses_are_detected_and_ranked():
    mit = open(samples.path("repos", "pyshapes", "LICENSE")).read()
    assert detect_license(mit) == "MIT"
    assert detect_license("GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007") == "GPL-3.0"
    assert detect_license("All rights reserved.") is None
    assert [license_rank(x) for x in ("MIT", None, "GPL-3.0")] == [0, 1, 2]
    assert normalize_license("apache-2.0") == "Apache-2.0"
    assert normalize_license(json.loads('["none"]')) is None


def test_a_listing_without_the_needed_columns_is_refused_up_front(tmp_path):
    bad = tmp_path / "files.jsonl"
    bad.write_text(json.dumps({"text": "print(1)"}) + "\n")
    with pytest.raises(UserError, match=r"files.jsonl: listing lacks repo, path, content"):
        discover(str(bad))
    stack = tmp_path / "stack.jsonl"
    stack.write_text(json.dumps({"max_stars_repo_name": "o/r", "max_stars_repo_path": "a.py", "content": "x"}) + "\n")
    assert discover(str(stack))[0].kind == "listing"


def test_text_is_utf8_or_a_confidently_detected_charset():
    from pipelines.code.sources import decode_text

    assert decode_text("x = 'caf\u00e9'\n".encode()) == ("x = 'caf\u00e9'\n", "utf-8")
    comment = "# Пример программы: считает слова в тексте и печатает самые частые из них.\n" * 8
    text, encoding = decode_text((comment + "print('ok')\n").encode("cp1251"))
    assert text is not None and text.startswith("# Пример") and encoding != "utf-8"
    assert decode_text(b"\xff\xfe\xfa\x80") == (None, None)  # too little to tell


def test_many_git_blobs_stream_without_stalling(tmp_path):
    repo = tmp_path / "many"
    (repo / "pkg").mkdir(parents=True)
    for i in range(400):
        (repo / "pkg" / f"m{i:03d}.py").write_text(f"VALUE_{i} = {i}\n" * (1 + i % 50))
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "many", cwd=repo)
    records = list(read_unit(discover(str(repo))[0]))
    assert len(records) == 400
    assert records[7]["content"] == b"VALUE_7 = 7\n" * 8
