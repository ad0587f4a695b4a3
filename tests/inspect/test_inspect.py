"""`deepcorpus inspect`: views named after the contract, ready views, SQL output formats, samples."""

import json
import os

import pytest

from deepcorpus.cli import main
from deepcorpus.core import contracts, datasets
from deepcorpus.core.errors import UserError
from deepcorpus.inspect import Catalog


def _write_docs(path, iteration, n, domain="math.example.org"):
    rows = [
        {"id": f"{iteration}-{i}", "url": f"https://{domain}/q/{i}", "domain": domain,
         "text": f"Let $x^{i}$ be a number.\nThen $x = {i}$.", "language": "en", "score": i / n,
         "iteration": iteration, "token_count": 10 + i}
        for i in range(n)
    ]
    with datasets.DatasetWriter(str(path), contracts.WEB_DOC) as w:
        w.write_rows(rows)
        w.extra["stats"] = {"extract": {"in": n + 3, "dropped_empty": 3}}
    return rows


@pytest.fixture
def two_iterations(tmp_path):
    _write_docs(tmp_path / "iter_1", 1, 4)
    _write_docs(tmp_path / "iter_2", 2, 6, domain="mathoverflow.net")
    return [str(tmp_path / "iter_1"), str(tmp_path / "iter_2")]


def test_several_datasets_union_into_one_docs_view(two_iterations):
    cat = Catalog(two_iterations)
    rows = cat.query("SELECT * FROM docs_by_iteration").fetchall()
    assert rows == [(1, 4, sum(10 + i for i in range(4))), (2, 6, sum(10 + i for i in range(6)))]
    by_dataset = dict(cat.query("SELECT dataset, count(*) FROM docs GROUP BY 1").fetchall())
    assert by_dataset == {two_iterations[0]: 4, two_iterations[1]: 6}


def test_ready_views_and_manifest_counters(two_iterations):
    cat = Catalog(two_iterations)
    hist = cat.query("SELECT sum(docs) FROM score_histogram").fetchall()[0][0]
    assert hist == 10
    assert cat.query("SELECT count(*) FROM docs_sample").fetchall()[0][0] == 10  # fewer rows than the sample size
    drops = cat.query("SELECT rule, dropped FROM dropped_by_rule").fetchall()
    assert drops == [("dropped_empty", 3), ("dropped_empty", 3)]
    assert cat.query("SELECT sum(row_count) FROM manifests").fetchall()[0][0] == 10


def test_sql_from_the_command_line_in_each_format(two_iterations, tmp_path, capsys):
    sql = "SELECT domain, count(*) AS n FROM docs GROUP BY 1 ORDER BY n DESC"
    assert main(["inspect", *two_iterations, sql]) == 0
    out = capsys.readouterr().out
    assert "mathoverflow.net" in out and "(2 rows)" in out
    assert main(["inspect", *two_iterations, sql, "--format", "json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[0]) == {"domain": "mathoverflow.net", "n": 6}
    assert main(["inspect", *two_iterations, sql, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == '"domain","n"'
    out_file = tmp_path / "r.parquet"
    assert main(["inspect", *two_iterations, "--sql", sql, "--format", "parquet", "--output", str(out_file)]) == 0
    import pyarrow.parquet as pq

    assert pq.read_table(out_file).num_rows == 2


def test_sample_prints_documents_readably(two_iterations, capsys):
    assert main(["inspect", *two_iterations, "--sample", "2", "--where", "iteration = 2", "--width", "60"]) == 0
    out = capsys.readouterr().out
    assert out.count("iteration=2") == 2 and "iteration=1" not in out
    assert "$x = " in out  # math is printed as it is


def test_without_sql_and_without_a_terminal_lists_the_views(two_iterations, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["inspect", two_iterations[0]]) == 0
    out = capsys.readouterr().out
    for view in ("docs", "docs_by_domain", "score_histogram", "dropped_by_rule"):
        assert f"  {view} (" in out


def test_bad_sql_and_unfinished_dataset_are_one_line_errors(two_iterations, tmp_path, capsys):
    assert main(["inspect", two_iterations[0], "SELECT nope FROM docs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SQL error" in err[0]
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "part-00000.parquet").write_bytes(b"PAR1")
    assert main(["inspect", str(tmp_path / "half")]) == 2
    assert "unfinished write" in capsys.readouterr().err
    with pytest.raises(UserError):
        Catalog([str(tmp_path / "missing")])


def test_token_shards_view(tmp_path):
    schema = contracts.token_shard_schema(4, 1000)
    with datasets.DatasetWriter(str(tmp_path / "tok"), contracts.TOKEN_SHARD, schema=schema) as w:
        w.write_rows([{"tokens": [1, 2, 3, 4, 5], "doc_starts": [0, 3], "source": "math"},
                      {"tokens": [6, 7, 8, 9, 0], "doc_starts": [], "source": "code"}])
        w.extra.update(seq_len=4, vocab_size=1000)
    cat = Catalog([str(tmp_path / "tok")])
    assert sorted(cat.query("SELECT source, tokens FROM tokens_by_source").fetchall()) == [("code", 5), ("math", 5)]


def test_plain_documents_share_the_docs_view_with_web_docs(two_iterations, tmp_path):
    import pyarrow as pa

    with datasets.DatasetWriter(str(tmp_path / "plain"), contracts.DOCUMENTS,
                                schema=pa.schema([("id", pa.string()), ("text", pa.string())])) as w:
        w.write_rows([{"id": "p1", "text": "plain text"}])
    cat = Catalog([two_iterations[0], str(tmp_path / "plain")])
    assert cat.query("SELECT count(*), count(iteration) FROM docs").fetchall()[0] == (5, 4)


def test_interactive_prompt_runs_statements_until_quit(two_iterations, capsys, monkeypatch):
    lines = iter([".views", "SELECT count(*) AS n", "FROM docs;", "SELECT nope FROM docs", "", ".quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    assert main(["inspect", *two_iterations]) == 0
    out = capsys.readouterr().out
    assert out.count("docs_by_domain (") == 2  # listed at start and by .views
    assert "n \n--\n10\n(1 row)" in out  # the two lines ran as one statement
    assert "error: SQL error" in out  # a bad statement is reported and the prompt goes on


# --- one statement, reads only, and the --read-only mode -------------------------------------------


def _error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_one_statement_per_query(two_iterations, capsys):
    line = _error(["inspect", two_iterations[0], "SELECT 1; DROP VIEW docs"], capsys)
    assert "one statement per query, not 2" in line
    with pytest.raises(UserError, match="one statement"):
        Catalog(two_iterations).query("SELECT 1; SELECT 2")


def test_statements_that_write_files_are_refused(two_iterations, tmp_path, capsys):
    part = datasets.open_dataset(two_iterations[0]).files[0]
    before = open(part, "rb").read()
    for sql in (f"COPY (SELECT 1 AS x) TO '{part}' (FORMAT parquet)",
                f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{part}' (FORMAT parquet)",
                f"EXPORT DATABASE '{tmp_path / 'export'}'",
                f"ATTACH '{tmp_path / 'x.db'}'"):
        line = _error(["inspect", *two_iterations, sql], capsys)
        assert "statements are refused: inspect only reads" in line and "--output FILE" in line
    assert open(part, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["iter_1", "iter_2"]


def test_a_result_file_never_lands_inside_a_dataset(two_iterations, capsys):
    inside = os.path.join(two_iterations[0], "result.csv")
    line = _error(["inspect", *two_iterations, "SELECT 1", "--format", "csv", "--output", inside], capsys)
    assert f"{inside}: inside the dataset {two_iterations[0]}" in line
    assert not os.path.exists(inside)


def test_where_is_one_expression_and_cannot_add_a_statement(two_iterations, capsys):
    for where in ("1=1) ; DROP VIEW docs; SELECT (1", "iteration = 2; SELECT 1"):
        line = _error(["inspect", *two_iterations, "--sample", "1", "--where", where], capsys)
        assert "--where: not an SQL expression" in line
    assert main(["inspect", *two_iterations, "--sample", "3", "--where", "iteration = 1 AND score < 0.5"]) == 0
    out = capsys.readouterr().out
    assert out.count("iteration=1") == 2 and "iteration=2" not in out  # scores 0 and 0.25 of iteration 1
    assert "--where filters --sample" in _error(["inspect", two_iterations[0], "SELECT 1", "--where", "1=1"], capsys)


def test_the_default_mode_reads_other_files_the_read_only_mode_does_not(two_iterations, tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    sql = f"SELECT count(*) AS n FROM read_csv('{other}')"
    assert main(["inspect", two_iterations[0], sql]) == 0  # a local analyst's tool
    assert "1 row" in capsys.readouterr().out
    line = _error(["inspect", two_iterations[0], sql, "--read-only"], capsys)
    assert "file system operations are disabled" in line


@pytest.mark.parametrize("sql, refusal", [
    ("SET enable_external_access = true", "the configuration has been locked"),
    ("SET lock_configuration = false", "the configuration has been locked"),
    ("INSTALL httpfs", "file system operations are disabled"),
    ("LOAD httpfs", "disabled"),
    ("SELECT * FROM read_parquet('/etc/hostname')", "file system operations are disabled"),
])
def test_read_only_mode_cannot_be_undone_or_widened(two_iterations, sql, refusal, capsys):
    assert refusal in _error(["inspect", *two_iterations, sql, "--read-only"], capsys)


def test_read_only_mode_still_reads_every_view(two_iterations, capsys):
    cat = Catalog(two_iterations, read_only=True)
    assert cat.query("SELECT count(*) FROM docs").fetchall()[0][0] == 10
    assert cat.query("SELECT sum(docs) FROM docs_by_iteration").fetchall()[0][0] == 10
    assert cat.query("SELECT count(*) FROM manifests").fetchall()[0][0] == 2
    assert main(["inspect", *two_iterations, "--sample", "2", "--where", "iteration = 2", "--read-only"]) == 0


def test_csv_and_json_end_with_one_newline_and_no_warning(two_iterations, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # DuckDB's UserWarning about DB-API Arrow output was printed
        assert main(["inspect", two_iterations[0], "SELECT id FROM docs ORDER BY id LIMIT 2", "--format", "csv"]) == 0
        assert capsys.readouterr().out == '"id"\n"1-0"\n"1-1"\n'
        assert main(["inspect", two_iterations[0], "SELECT id FROM docs ORDER BY id LIMIT 1", "--format", "json"]) == 0
        assert capsys.readouterr().out == '{"id": "1-0"}\n'
        assert main(["inspect", two_iterations[0], "SELECT id FROM docs WHERE false", "--format", "json"]) == 0
        assert capsys.readouterr().out == ""


def test_interactive_prompt_runs_each_statement_of_a_line(two_iterations, capsys, monkeypatch):
    lines = iter(["SELECT 1 AS a; SELECT 2 AS b;", ".quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    assert main(["inspect", two_iterations[0]]) == 0
    out = capsys.readouterr().out
    assert "a\n-\n1\n(1 row)" in out and "b\n-\n2\n(1 row)" in out
