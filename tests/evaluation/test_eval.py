"""`deepcorpus eval` end to end on a real tiny run and the real benchmark files."""

import json
import os
import sys

import pytest

from deepcorpus.cli import main
from deepcorpus.inspect import Catalog
from evaluation.benchmarks import load_benchmark
from tests.evaluation.conftest import write_text_benchmark

STANDIN = f"{sys.executable} {os.path.join(os.path.dirname(__file__), '..', 'formal', 'standin_repl.py')}"
FILES = {"gsm8k": ("gsm8k", "test.jsonl"), "math": ("math", "math500_test.jsonl"),
         "humaneval": ("humaneval", "HumanEval.jsonl.gz"), "mbpp": ("mbpp", "mbpp.jsonl"),
         "minif2f": ("minif2f", "minif2f_deepseek_prover_v1_5.jsonl"),
         "minif2f_lean": ("minif2f", "minif2f_lean4_yangky11.jsonl")}


def bench(shared_data, name):
    return os.path.join(shared_data, "benchmarks", *FILES[name])


def test_every_shared_benchmark_file_is_read_as_its_kind(shared_data):
    expected = {"gsm8k": ("gsm8k", 1319), "math": ("math", 500), "humaneval": ("humaneval", 164),
                "mbpp": ("mbpp", 500), "minif2f": ("minif2f", 244), "minif2f_lean": ("minif2f", 244)}
    for name, (kind, n) in expected.items():
        b = load_benchmark(bench(shared_data, name))
        assert (b.kind, len(b.items)) == (kind, n), name
        assert all(it.reference_text.strip() for it in b.items)
    minif2f = load_benchmark(bench(shared_data, "minif2f_lean")).items[0]
    assert minif2f.prompt.startswith("theorem ") and minif2f.prompt.rstrip().endswith(":= by")
    gsm = load_benchmark(bench(shared_data, "gsm8k")).items[0]
    assert "<<" not in gsm.reference_text and gsm.answer == "18"


@pytest.mark.slow
def test_eval_writes_scores_with_intervals_and_a_queryable_items_dataset(tiny_run, shared_data, tmp_path, capsys,
                                                                         one_torch_thread):
    heldout = write_text_benchmark(tmp_path / "heldout.jsonl", ["1 + 1 = 2. The farmer sold apples.", "9 * 9 = 81."])
    out = tmp_path / "eval"
    args = [tiny_run["run"], "--output", str(out), "--limit", "3", "--max-new-tokens", "12", "--workers", "2",
            "--benchmark", f"web={heldout}"] + [a for n in FILES for a in ("--benchmark", bench(shared_data, n))]
    assert main(["eval", *args]) == 0
    printed = capsys.readouterr().out
    assert "score [95% CI]" in printed and "unverified" in printed
    results = json.loads((out / "results.json").read_text())
    b = results["benchmarks"]
    assert set(b) == {"web", "gsm8k_test", "math500_test", "HumanEval", "mbpp", "minif2f_deepseek_prover_v1_5",
                      "minif2f_lean4_yangky11"}
    for name, summary in b.items():
        bpb = summary["scores"]["bpb"]
        assert bpb["n"] == (2 if name == "web" else 3) and 0 < bpb["value"] < 20
        assert bpb["ci95"][0] <= bpb["value"] <= bpb["ci95"][1]
    assert set(b["gsm8k_test"]["scores"]) == {"bpb", "accuracy"} and b["gsm8k_test"]["shots"] >= 0
    assert b["HumanEval"]["scores"]["pass@1"]["n"] == 3 and "seccomp" in b["HumanEval"]["sandbox"]
    minif2f = b["minif2f_deepseek_prover_v1_5"]["scores"]["pass@1"]
    assert minif2f["value"] is None and minif2f["status"] == "unverified" and "Lean" in minif2f["reason"]
    assert set(b["web"]["scores"]) == {"bpb"}  # plain text: bits per byte only

    catalog = Catalog([str(out / "items")])
    rows = catalog.query("SELECT benchmark, bpb_items, samples, bpb FROM evals_by_benchmark ORDER BY benchmark").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == sorted(
        [(n, 2 if n == "web" else 3, 0 if n == "web" else 3) for n in b])
    for name, _, _, value in rows:
        assert value == pytest.approx(b[name]["scores"]["bpb"]["value"])
    statuses = dict(catalog.query("SELECT status, sum(n) FROM evals_by_status GROUP BY 1").fetchall())
    assert statuses["unverified"] == 6 and statuses.get("passed", 0) + statuses.get("failed", 0) == 6
    assert not (out / "partial").exists()


@pytest.mark.slow
def test_minif2f_through_the_lean_runner(tiny_run, shared_data, tmp_path, monkeypatch, one_torch_thread):
    # The stand-in speaks the REPL's protocol but is not Lean; told to fail every theorem, every proof fails.
    monkeypatch.setenv("STANDIN_FAIL", "theorem")
    out = tmp_path / "eval"
    assert main(["eval", tiny_run["run"], "--benchmark", bench(shared_data, "minif2f"), "--output", str(out),
                 "--limit", "2", "--max-new-tokens", "8", "--repl-command", STANDIN, "--metrics", "generate"]) == 0
    summary = json.loads((out / "results.json").read_text())["benchmarks"]["minif2f_deepseek_prover_v1_5"]
    assert summary["scores"]["pass@1"]["value"] == 0.0 and summary["lean"].startswith("repl")
    rows = Catalog([str(out / "items")]).query("SELECT status, detail FROM evals").fetchall()
    assert [r[0] for r in rows] == ["error", "error"] and all("stand-in" in r[1] for r in rows)


@pytest.mark.slow
def test_bad_inputs_are_one_line_errors(tiny_run, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "#### 1"}\n{not json\n')
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    cases = [
        (["--benchmark", str(tmp_path / "missing.jsonl")], "missing.jsonl: no such benchmark file"),
        (["--benchmark", str(bad)], "bad.jsonl:2: malformed JSON"),
        (["--benchmark", str(bad), "--samples", "3"], "--samples above 1 needs --temperature"),
        (["--benchmark", str(bad), "--k", "1,10", "--samples", "4", "--temperature", "0.8"], "pass@10 needs --samples 10"),
    ]
    for extra, message in cases:
        assert main(["eval", tiny_run["run"], "--output", str(tmp_path / "o"), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    good = write_text_benchmark(tmp_path / "t.jsonl", ["some text"])
    assert main(["eval", tiny_run["run"], "--benchmark", good, "--output", str(foreign)]) == 2
    assert "not an evaluation's output" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_an_interrupted_evaluation_keeps_the_benchmarks_it_finished(tiny_run, tmp_path, monkeypatch, one_torch_thread):
    from evaluation import run as eval_run

    specs = [write_text_benchmark(tmp_path / "first.jsonl", ["1 + 2 = 3.", "The children built a sandcastle."]),
             write_text_benchmark(tmp_path / "second.jsonl", ["4 * 4 = 16."])]
    out = tmp_path / "eval"
    real = eval_run.evaluate_benchmark
    calls = []

    def counted(lm, bench, *args):
        calls.append(bench.name)
        return real(lm, bench, *args)

    def interrupted(lm, bench, *args):  # fault injection: Ctrl-C during the second benchmark
        if bench.name == "second":
            raise KeyboardInterrupt
        return counted(lm, bench, *args)

    def run(fn, config):
        calls.clear()
        monkeypatch.setattr(eval_run, "evaluate_benchmark", fn)
        return eval_run.evaluate(tiny_run["run"], specs, str(out), config)

    bpb, bpb_first_item = eval_run.EvalConfig(metrics=("bpb",)), eval_run.EvalConfig(metrics=("bpb",), limit=1)
    with pytest.raises(KeyboardInterrupt):
        run(interrupted, bpb)
    assert (out / "partial" / "first.json").exists() and not (out / "results.json").exists()
    run(counted, bpb_first_item)  # other settings: nothing is taken from the partial results
    assert calls == ["first", "second"]
    with pytest.raises(KeyboardInterrupt):
        run(interrupted, bpb)
    results = run(counted, bpb)  # the same command again: only the unfinished benchmark runs
    assert calls == ["second"] and set(results["benchmarks"]) == {"first", "second"}
    assert results["benchmarks"]["first"]["items"] == 2 and not (out / "partial").exists()
