"""Repository documents: dependency order, path comments in each language's syntax, metadata."""

from classifiers.code_language import coder_v2_languages
from deepcorpus.core.contracts import CODE_REPO_SCHEMA
from pipelines.code.assemble import AssembleConfig, assemble_repo, comment_syntax, keep_rank, path_comment


def record(path, language, text, **meta):
    return {"path": path, "language": language, "text": text, **meta}


def test_every_language_has_a_comment_syntax():
    assert set(coder_v2_languages()) <= set(comment_syntax())
    assert comment_syntax()["Markdown"] == ("<!--", " -->")  # an extra, for --extra-language


def test_path_comments_use_the_language_syntax():
    assert path_comment("pkg/a.py", "Python") == "# pkg/a.py"
    assert path_comment("src/a.c", "C") == "// src/a.c"
    assert path_comment("web/index.html", "HTML") == "<!-- web/index.html -->"
    assert path_comment("lib/M.hs", "Haskell") == "-- lib/M.hs"
    assert path_comment("src/a.ml", "OCaml") == "(* src/a.ml *)"
    assert path_comment("s.css", "CSS") == "/* s.css */"


def test_files_come_after_what_they_import():
    records = [
        record("app/main.py", "Python", "from app import models\nprint(models.User)\n", license="MIT", stars=5),
        record("app/models.py", "Python", "from app.db import Base\nclass User(Base): pass\n"),
        record("app/db.py", "Python", "class Base: pass\n", revision_date="2024-03-01T00:00:00+00:00"),
        record("README.txt", "Text", "not code"),
    ]
    row = assemble_repo("octo/app", records)
    assert [f["path"] for f in row["files"]][:3] == ["app/db.py", "app/models.py", "app/main.py"]
    assert row["order"] == "dependency"
    assert row["text"].startswith("# app/db.py\nclass Base: pass\n")
    assert "\n# app/models.py\nfrom app.db import Base\n" in row["text"]
    assert row["license"] == "MIT" and row["stars"] == 5 and row["revision_date"].startswith("2024-03-01")
    assert row["quality"]["dependency_edges"] == 2.0
    assert row["quality"]["order_violations"] == 0.0
    assert set(row) - {"revision_date"} == set(CODE_REPO_SCHEMA.names)


def test_without_dependencies_the_order_is_seeded_random():
    records = [record(f"s{i}.sql", "SQL", f"SELECT {i};\n") for i in range(8)]
    a = assemble_repo("octo/sql", records, AssembleConfig(seed=1))
    b = assemble_repo("octo/sql", list(reversed(records)), AssembleConfig(seed=1))
    c = assemble_repo("octo/sql", records, AssembleConfig(seed=2))
    assert a["order"] == "random"
    assert a["files"] == b["files"]  # input order does not matter
    assert a["files"] != c["files"]  # the seed does
    forced = assemble_repo("octo/app", [record("a.py", "Python", "import b\n"), record("b.py", "Python", "")],
                           AssembleConfig(ordering="random"))
    assert forced["order"] == "random"


def test_the_kept_copy_is_permissive_then_starred_then_latest():
    rows = [
        {"id": "gpl", "license": "GPL-3.0", "stars": 900, "revision_date": "2024-01-01"},
        {"id": "none", "license": None, "stars": 900, "revision_date": "2024-01-01"},
        {"id": "mit-old", "license": "MIT", "stars": 10, "revision_date": "2020-01-01"},
        {"id": "mit-new", "license": "MIT", "stars": 10, "revision_date": "2023-01-01"},
        {"id": "mit-popular", "license": "MIT", "stars": 11, "revision_date": None},
    ]
    ranked = [r["id"] for r in sorted(rows, key=keep_rank)]
    assert ranked == ["mit-popular", "mit-new", "mit-old", "none", "gpl"]


def test_quality_signals():
    from pipelines.code.quality import letter_count, quality_signals

    records = [
        record("src/app.py", "Python", "# entry point\nimport util\n\nprint(util.VALUE)\nprint(util.VALUE)\n"),
        record("src/util.py", "Python", "VALUE = 1\n"),
        record("tests/test_app.py", "Python", "def test_it():\n    assert True\n"),
    ]
    q = quality_signals(records, {"src/app.py": {"src/util.py"}, "src/util.py": set(), "tests/test_app.py": set()})
    assert q["n_files"] == 3 and q["n_lines"] == 8 and q["max_line_length"] == len("print(util.VALUE)")
    assert q["comment_line_fraction"] == 1 / 7  # one comment among seven non-blank lines
    assert q["duplicate_line_fraction"] == 1 / 7  # the second print repeats the first
    assert q["test_file_fraction"] == 1 / 3
    assert q["dependency_edges"] == 1 and q["dependency_coverage"] == 2 / 3
    assert letter_count("é1 a_b") == sum(ch.isalpha() for ch in "é1 a_b") == 3
