"""Bad input, in every command that reads it: one line naming the file (and line) and the problem on
stderr, exit status 2, nothing written and the input untouched. Real files throughout: non-UTF-8
bytes, a JSON line cut short, a Parquet file cut in half, a dataset part with a corrupt page, a
`text` column of numbers, a bad metrics.jsonl, an empty and a non-gzip .warc.gz, bad benchmarks.

A bad line sits past the head the launcher checks (line 31), so where a command reads through Beam
the error is found by a worker (in-process here; tests/test_runner.py runs worker processes)."""

import hashlib
import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core import contracts, datasets, outputs

IN_PROCESS = ["--direct_running_mode", "in_memory"]
BAD_LINE = 31


def _texts(n: int) -> list[str]:
    return [f"Document {i} explains how the quick brown fox jumps over the lazy dog number {i * 7} "
            f"while {'math $x^2 + y^2 = z^2$' if i % 2 else 'a recipe with flour and sugar'} is discussed." * 2
            for i in range(n)]


def _jsonl(path, bad: bytes | None = None, n: int = 60):
    lines = [json.dumps({"id": f"d{i}", "text": t}).encode() + b"\n" for i, t in enumerate(_texts(n))]
    if bad is not None:
        lines[BAD_LINE - 1] = bad
    path.write_bytes(b"".join(lines))
    return path


NOT_UTF8 = b'{"id": "x", "text": "caf\xe9 au lait"}\n'  # Latin-1, not UTF-8


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    """A fastText model, a tokenizer and a benchmark file, made once for the commands that need them.
    The model is trained by the command in a fresh process: fastText in a pytest worker that has run
    other tests before reported NaN on every attempt."""
    from pipelines.tokenize.tokenizer import save_tokenizer, train_tokenizer

    root = tmp_path_factory.mktemp("tools")
    other = root / "other.jsonl"
    other.write_text("".join(json.dumps({"text": f"Recipe {i}: whisk {i % 5 + 2} eggs with sugar, fold in flour and "
                                                 f"bake for {20 + i} minutes until golden."}) + "\n" for i in range(40)))
    subprocess.run([sys.executable, "-m", "deepcorpus", "math", "train-classifier", "--positives",
                    samples.path("math_seed.jsonl"), "--negatives", str(other), "--dim", "32",
                    "--output", str(root / "model.bin")], check=True, capture_output=True, timeout=300)
    save_tokenizer(train_tokenizer(_texts(40) * 3, vocab_size=300, min_frequency=1), str(root / "tokenizer.json"))
    bench = root / "bench.jsonl"
    bench.write_text(json.dumps({"question": "What is the sum of the first ten prime numbers greater than two?"}) + "\n")
    return {"model": str(root / "model.bin"), "tokenizer": str(root / "tokenizer.json"), "bench": str(bench)}


# Every command that reads documents (datasets, or plain JSONL/Parquet with `text`): argv from
# (input, output, tools). Commands marked beam read the input in a pipeline.
READERS = {
    "dedup exact": lambda i, o, t: ["dedup", "exact", "--input", i, "--output", o, *IN_PROCESS],
    "dedup minhash": lambda i, o, t: ["dedup", "minhash", "--input", i, "--output", o, *IN_PROCESS],
    "dedup decontaminate": lambda i, o, t: ["dedup", "decontaminate", "--input", i, "--benchmark", t["bench"],
                                            "--output", o, *IN_PROCESS],
    "math score": lambda i, o, t: ["math", "score", "--input", i, "--model", t["model"], "--output", o, *IN_PROCESS],
    "math decontaminate": lambda i, o, t: ["math", "decontaminate", "--input", i, "--benchmark", t["bench"],
                                           "--output", o, *IN_PROCESS],
    "math train-classifier": lambda i, o, t: ["math", "train-classifier", "--positives", i, "--negatives", i,
                                              "--output", o + ".bin"],
    "math discover": lambda i, o, t: ["math", "discover", "--input", i, "--output", o + ".yaml"],
    "formal run": lambda i, o, t: ["formal", "run", "--problems", i, "--count", "2", "--lean-backend", "none",
                                   "--output", o, *IN_PROCESS],
    "tokenize train-tokenizer": lambda i, o, t: ["tokenize", "train-tokenizer", "--input", i, "--vocab-size", "300",
                                                 "--output", o + ".json"],
    "tokenize run": lambda i, o, t: ["tokenize", "run", "--input", i, "--tokenizer", t["tokenizer"], "--seq-len", "16",
                                     "--output", o, *IN_PROCESS],
}


def _digest(path) -> str:
    if os.path.isdir(path):
        return "".join(_digest(os.path.join(path, f)) for f in sorted(os.listdir(path)))
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _fails(argv: list[str], capsys, out) -> str:
    """Run; assert exit 2, an error that is one line, and nothing at `out`. Returns the error line."""
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    errors = [line for line in err if ": error: " in line]
    assert len(errors) == 1 and err[-1] == errors[0], err
    assert "Traceback" not in "\n".join(err)
    written = [str(out) + suffix for suffix in ("", ".bin", ".yaml", ".json") if os.path.exists(str(out) + suffix)]
    # A run directory the command claimed for itself holds its marker only: no data, nothing half-written.
    assert written in ([], [str(out)]) and (not written or os.listdir(out) == [outputs.RUN_MARKER]), written
    return errors[0].split(": error: ", 1)[1]


@pytest.mark.parametrize("command", list(READERS))
@pytest.mark.parametrize("where", [1, BAD_LINE], ids=["first line", "past the head"])
def test_non_utf8_jsonl(command, where, tools, tmp_path, capsys):
    lines = [json.dumps({"id": f"d{i}", "text": t}).encode() + b"\n" for i, t in enumerate(_texts(60))]
    lines[where - 1] = NOT_UTF8
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(b"".join(lines))
    before = _digest(docs)
    message = _fails(READERS[command](str(docs), str(tmp_path / "out"), tools), capsys, tmp_path / "out")
    assert message == f"{docs}:{where}: not UTF-8 text (byte 0xe9 at column 25)"
    assert _digest(docs) == before


@pytest.mark.parametrize("command", ["dedup exact", "tokenize run", "math decontaminate", "tokenize train-tokenizer"])
def test_a_malformed_json_line(command, tools, tmp_path, capsys):
    docs = _jsonl(tmp_path / "docs.jsonl", bad=b'{"id": "x", "text": "cut\n')
    message = _fails(READERS[command](str(docs), str(tmp_path / "out"), tools), capsys, tmp_path / "out")
    assert message.startswith(f"{docs}:{BAD_LINE}: malformed JSON (Unterminated string")


@pytest.mark.parametrize("command", list(READERS))
def test_a_truncated_parquet_input(command, tools, tmp_path, capsys):
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(60)], "text": _texts(60)}), whole)
    cut = tmp_path / "docs.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    message = _fails(READERS[command](str(cut), str(tmp_path / "out"), tools), capsys, tmp_path / "out")
    assert message.startswith(f"{cut}: not a readable Parquet file (")


@pytest.mark.parametrize("command", list(READERS))
def test_a_text_column_of_the_wrong_type(command, tools, tmp_path, capsys):
    numbers = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": [1, 2]}), numbers)
    message = _fails(READERS[command](str(numbers), str(tmp_path / "out"), tools), capsys, tmp_path / "out")
    assert message == f"{numbers}: Parquet column 'text' is int64, not a string"


@pytest.mark.parametrize("command", ["tokenize run", "math decontaminate", "tokenize train-tokenizer", "formal run",
                                     "math train-classifier"])
def test_a_jsonl_text_of_the_wrong_type_past_the_head(command, tools, tmp_path, capsys):
    docs = _jsonl(tmp_path / "docs.jsonl", bad=b'{"id": "x", "text": 12}\n')
    message = _fails(READERS[command](str(docs), str(tmp_path / "out"), tools), capsys, tmp_path / "out")
    assert message == f"{docs}:{BAD_LINE}: 'text' is int, not a string"


def _web_doc_dataset(path, parts: int = 3, rows_per_part: int = 200):
    texts = _texts(parts * rows_per_part)
    rows = [{"id": f"d{i}", "url": f"https://example.org/{i}", "domain": "example.org", "text": t, "language": "en",
             "token_count": 40} for i, t in enumerate(texts)]
    with datasets.DatasetWriter(str(path), contracts.WEB_DOC, rows_per_part=rows_per_part) as w:
        w.write_rows(rows)
    return path


def _corrupt_a_page(part):
    """Garbage over a stretch in the middle of a part: same size and footer, a page that does not decode."""
    data = bytearray(part.read_bytes())
    middle = len(data) // 3
    data[middle:middle + 256] = bytes((i * 37 + 11) % 256 for i in range(256))
    part.write_bytes(bytes(data))


@pytest.mark.parametrize("command", ["dedup exact", "math score", "math decontaminate", "math train-classifier",
                                     "tokenize train-tokenizer", "tokenize run"])
def test_a_corrupt_part_inside_a_dataset(command, tools, tmp_path, capsys):
    ds = _web_doc_dataset(tmp_path / "docs")
    part = tmp_path / "docs" / sorted(f for f in os.listdir(ds) if f.endswith(".parquet"))[1]
    _corrupt_a_page(part)
    before = _digest(ds)
    message = _fails(READERS[command](str(ds), str(tmp_path / "out"), tools), capsys, tmp_path / "out")
    assert message.startswith(f"{part}: not a readable Parquet file (")
    assert _digest(ds) == before


def test_inspect_names_a_corrupt_part(tmp_path, capsys):
    ds = _web_doc_dataset(tmp_path / "docs")
    part = tmp_path / "docs" / sorted(f for f in os.listdir(ds) if f.endswith(".parquet"))[1]
    _corrupt_a_page(part)
    message = _fails(["inspect", str(ds), "SELECT sum(length(text)) FROM docs"], capsys, tmp_path / "out")
    # Whether DuckDB names the part or pyarrow finds it, the message is the readers' one.
    assert message.startswith(f"{part}: not a readable Parquet file (")


def _listing(path, bad: bytes | None = None):
    lines = [json.dumps({"repo": f"r{i % 3}", "path": f"src/m{i}.py", "content": f"def f{i}():\n    return {i}\n"})
             .encode() + b"\n" for i in range(60)]
    if bad is not None:
        lines[BAD_LINE - 1] = bad
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize("bad, problem", [
    (b'{"repo": "r1", "path": "x.py", "content": "caf\xe9"}\n', "not UTF-8 text (byte 0xe9 at column 47)"),
    (b'{"repo": "r1", "path":\n', "malformed JSON (Expecting value at column 23)"),
])
def test_code_run_on_a_bad_listing_line(bad, problem, tmp_path, capsys):
    listing = _listing(tmp_path / "listing.jsonl", bad)
    message = _fails(["code", "run", "--input", str(listing), "--output", str(tmp_path / "out"), *IN_PROCESS],
                     capsys, tmp_path / "out")
    assert message == f"{listing}:{BAD_LINE}: {problem}"


def test_math_run_on_a_non_utf8_seed(tmp_path, capsys):
    seed = tmp_path / "seed.jsonl"
    seed.write_bytes(NOT_UTF8)
    message = _fails(["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--seed", str(seed),
                      "--output", str(tmp_path / "out"), *IN_PROCESS], capsys, tmp_path / "out")
    assert message == f"{seed}:1: not UTF-8 text (byte 0xe9 at column 25)"


# --- benchmarks: every one is read before the first pipeline starts ------------------------------


BENCHMARK_USERS = {
    "math run": lambda b, o: ["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--seed",
                              samples.path("math_seed.jsonl"), "--benchmark", b, "--output", o, *IN_PROCESS],
    "code run": lambda b, o: ["code", "run", "--input", samples.path("repos"), "--benchmark", b, "--output", o,
                              *IN_PROCESS],
    "dedup decontaminate": lambda b, o: ["dedup", "decontaminate", "--input", samples.path("math_seed.jsonl"),
                                         "--benchmark", b, "--output", o, *IN_PROCESS],
    "math decontaminate": lambda b, o: ["math", "decontaminate", "--input", samples.path("math_seed.jsonl"),
                                        "--benchmark", b, "--output", o, *IN_PROCESS],
}


@pytest.mark.parametrize("command", list(BENCHMARK_USERS))
@pytest.mark.parametrize("content, problem", [
    (b"", "no benchmark text (an empty file, or rows without string fields)"),
    (b'{"question": "What is 2 + 2?"}\n{"question": "cut\n', "2: malformed JSON (Unterminated string"),
    (b'{"question": "caf\xe9?"}\n', "1: not UTF-8 text (byte 0xe9 at column 18)"),
], ids=["empty", "malformed", "not UTF-8"])
def test_a_bad_benchmark_is_found_before_any_pipeline(command, content, problem, tmp_path, capsys):
    bench = tmp_path / "bench.jsonl"
    bench.write_bytes(content)
    message = _fails(BENCHMARK_USERS[command](str(bench), str(tmp_path / "out")), capsys, tmp_path / "out")
    assert message.startswith(f"{bench}: {problem}" if problem.startswith("no ") else f"{bench}:{problem}")


# --- crawl files and training metrics ------------------------------------------------------------


@pytest.mark.parametrize("content, problem", [
    (b"", "empty file"),
    # Not gzip despite the name: the reader sniffs the compression, so it is read as plain WARC.
    (b"WARC/1.0 but not compressed at all\r\n", "unreadable (Invalid WARC header)"),
], ids=["empty", "not gzip"])
def test_a_crawl_file_alone_that_cannot_be_read_says_why(content, problem, tmp_path, capsys):
    crawl = tmp_path / "crawl.warc.gz"
    crawl.write_bytes(content)
    out = tmp_path / "out"
    assert main(["math", "run", "--input", str(crawl), "--seed", samples.path("math_seed.jsonl"),
                 "--output", str(out), *IN_PROCESS]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"deepcorpus math run: error: {crawl}: {problem}")
    assert not os.path.exists(out / "candidates")  # nothing committed: a rerun does not reuse it


@pytest.mark.parametrize("content, problem", [
    (b'{"step": 1, "loss": 3.0}\n{"step": 2, "loss": \xff}\n{"step": 3, "loss": 1.0}\n',
     "2: not UTF-8 text (byte 0xff at column 21)"),
    (b'{"step": 1, "loss": 3.0}\n{"step": 2, "lo\n{"step": 3, "loss": 1.0}\n', "2: malformed JSON"),
    (b'{"step": 1, "loss": 3.0}\n[1, 2]\n', "2: expected a JSON object per line"),
], ids=["not UTF-8", "malformed", "not an object"])
def test_report_on_a_bad_metrics_jsonl(content, problem, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_bytes(content)
    message = _fails(["report", str(run), "--output", str(tmp_path / "out")], capsys, tmp_path / "out")
    assert message.startswith(f"{run / 'metrics.jsonl'}:{problem}")


@pytest.mark.parametrize("command", [["report", "{}", "--output", "r.html"], ["commit", "{}"]])
def test_a_file_where_a_directory_is_read_says_so(command, tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    argv = [a.replace("{}", str(tmp_path / "f")).replace("r.html", str(tmp_path / "r.html")) for a in command]
    message = _fails(argv, capsys, tmp_path / "r.html")
    assert message.startswith(f"{tmp_path / 'f'}: a file, not a ")


def test_a_last_metrics_line_cut_by_an_interrupted_run_is_skipped(tmp_path):
    from deepcorpus.core.metrics import read_metrics

    (tmp_path / "metrics.jsonl").write_bytes(b'{"step": 1, "loss": 3.0}\n{"step": 2, "lo')
    assert read_metrics(str(tmp_path)) == [{"step": 1, "loss": 3.0}]


# --- the other files a user names: models, headers, annotation and mixture files -----------------


def test_a_file_that_is_not_a_fasttext_model_is_refused_before_the_workers_load_it(tools, tmp_path, capsys):
    fake = tmp_path / "model.bin"
    fake.write_bytes(b"not a model at all")
    docs = _jsonl(tmp_path / "docs.jsonl")
    message = _fails(["math", "score", "--input", str(docs), "--model", str(fake), "--output", str(tmp_path / "out"),
                      *IN_PROCESS], capsys, tmp_path / "out")
    assert message == f"{fake}: not a fastText model (fastText's binary .bin or .ftz format)"
    message = _fails(["code", "run", "--input", samples.path("repos"), "--quality-model", str(fake),
                      "--output", str(tmp_path / "out"), *IN_PROCESS], capsys, tmp_path / "out")
    assert message.startswith(f"{fake}: not a fastText quality model")
    assert main(["math", "score", "--input", str(docs), "--model", tools["model"], "--output", str(tmp_path / "ok"),
                 *IN_PROCESS]) == 0  # a real one passes the check


def test_a_non_utf8_header_or_annotation_file(tmp_path, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"approved:\n  - caf\xe9.example.org/math\n")
    message = _fails(["formal", "run", "--header", str(bad), "--count", "2", "--lean-backend", "none",
                      "--output", str(tmp_path / "out"), *IN_PROCESS], capsys, tmp_path / "out")
    assert message == f"{bad}:2: not UTF-8 text (byte 0xe9 at column 8)"
    message = _fails(["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--seed",
                      samples.path("math_seed.jsonl"), "--approved", str(bad), "--output", str(tmp_path / "out"),
                      *IN_PROCESS], capsys, tmp_path / "out")
    assert message == f"{bad}:2: not UTF-8 text (byte 0xe9 at column 8)"


@pytest.mark.parametrize("weight, problem", [(".nan", "got nan"), ("-1", "got -1"), ("lots", "got 'lots'")])
def test_a_mixture_weight_out_of_range(weight, problem, tools, tmp_path, capsys):
    mix = tmp_path / "mix.yaml"
    mix.write_text(f"sources:\n  - {{path: {_jsonl(tmp_path / 'docs.jsonl')}, weight: {weight}}}\n")
    message = _fails(["tokenize", "run", "--mixture", str(mix), "--tokenizer", tools["tokenizer"], "--seq-len", "16",
                      "--output", str(tmp_path / "out"), *IN_PROCESS], capsys, tmp_path / "out")
    assert message == f"{mix}: source 0 weight: expected a number >= 0, {problem}"
