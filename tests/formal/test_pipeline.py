"""`deepcorpus formal run` end to end, and its Beam step, with no Lean and with the STAND-IN REPL."""

import json
import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core import datasets
from formal.backends import LeanConfig
from formal.generators import TemplateGenerator
from formal.prover import ProveConfig
from pipelines.formal.transforms import ProveCandidates

STANDIN = f"{sys.executable} {os.path.join(os.path.dirname(__file__), 'standin_repl.py')}"
FAST = ["--direct_running_mode", "in_memory"]  # one process: quicker for tiny test inputs


@pytest.fixture
def no_lean(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.delenv("DEEPCORPUS_LEAN_SERVER", raising=False)


@pytest.fixture
def standin_rules(monkeypatch):
    # The stand-in fails every negation and every attempt at False, and proves the rest.
    monkeypatch.setenv("STANDIN_FAIL", "¬\n: False")


def candidates(n):
    cands, _ = TemplateGenerator().formalize([], n, 1, "set_option maxHeartbeats 400000")
    return [c.to_dict() for c in cands]


def test_prove_step_without_lean_marks_rows_unverified():
    cands = candidates(4)
    with TestPipeline(runner="FnApiRunner") as p:
        rows = p | beam.Create(cands) | ProveCandidates(lean_config=None)
        assert_that(rows | beam.Map(lambda r: (r["name"], r["status"], r["verified"])),
                    equal_to([(c["name"], "unverified", False) for c in cands]))


def test_prove_step_with_a_pool_per_worker(standin_rules):
    cands = candidates(6)
    config = LeanConfig(backend="repl", repl_command=STANDIN, workers=2, memory_mb=None, toolchain="stand-in")
    with TestPipeline(runner="FnApiRunner") as p:
        rows = p | beam.Create(cands) | ProveCandidates(config, ProveConfig(attempts=2), batch_size=4)
        assert_that(rows | beam.Map(lambda r: (r["name"], r["status"], r["toolchain"])),
                    equal_to([(c["name"], "verified", "stand-in") for c in cands]))


@pytest.mark.slow
def test_run_without_lean_writes_unverified_statements(no_lean, tmp_path, capsys):
    """The demo's command, exactly."""
    out = tmp_path / "formal"
    code = main(["formal", "run", "--generator", "template", "--count", "60",
                 "--problems", samples.path("problems.jsonl"), "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "verification skipped: no Lean runner" in printed and "elan" in printed
    ds = datasets.open_dataset(str(out / "corpus"), "formal_proof")
    rows = list(ds.iter_rows())
    assert len(rows) == 60 and {r["status"] for r in rows} == {"unverified"} and not any(r["verified"] for r in rows)
    first = next(r for r in rows if r["name"] == "p_arith_001")
    assert first["formal_statement"] == "theorem p_arith_001 : (17 * 23 + 4 : ℕ) = 395"
    assert first["text"] == "/-- Show that 17 × 23 + 4 = 395. -/\ntheorem p_arith_001 : (17 * 23 + 4 : ℕ) = 395 := by decide"
    assert all(r[c] is not None for r in rows for c in ("id", "header", "toolchain", "attempts", "elapsed_ms", "round"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verification"]["skipped"] and "elan" in summary["verification"]["skipped_reason"]
    assert summary["counters"]["formalize"] == {"problems": 36, "from_problems": 33, "dropped_unparsed": 3,
                                                "from_families": 27, "out": 60}  # 3 open problems are not templates
    assert summary["counters"]["corpus"]["status_unverified"] == 60
    assert summary["conservation"] == ["round 1: statements: in 60 = rows 60", "corpus statements: in 60 = unverified 60"]
    assert "round 1: statements: in 60 = rows 60" in printed
    manifest = datasets.read_manifest(str(out / "rounds" / "round_1"))
    assert manifest["conservation"] == ["statements: in 60 = rows 60"]
    assert len((out / "proofs.jsonl").read_text().splitlines()) == 60
    assert (out / "sft.jsonl").read_text() == ""


def test_a_round_that_lost_statements_fails():
    from deepcorpus.core.errors import ConservationError
    from pipelines.formal.run import round_balance

    assert round_balance(3, {"prove": {"rows": 3}}).ok
    with pytest.raises(ConservationError, match="statements: in 3 != rows 2"):
        round_balance(3, {"prove": {"rows": 2}}).check()


def test_require_verification_without_lean_is_one_line_exit_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DEEPCORPUS_LEAN_SERVER"}
    env["PATH"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "deepcorpus", "formal", "run", "--count", "5", "--output",
                           str(tmp_path / "f"), "--require-verification"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--require-verification: no Lean runner" in lines[0] and "--lean-server" in lines[0]
    assert "Traceback" not in proc.stderr and not (tmp_path / "f" / "corpus").exists()


@pytest.mark.slow
def test_run_with_the_standin_repl_verifies_iterates_and_caches(standin_rules, tmp_path):
    out = tmp_path / "formal"
    argv = ["formal", "run", "--count", "20", "--problems", samples.path("problems.jsonl"), "--output", str(out),
            "--repl-command", STANDIN, "--toolchain", "stand-in", "--rounds", "2", "--workers", "2",
            "--require-verification", "--memory-mb", "0", *FAST]
    assert main(argv) == 0
    rows = list(datasets.open_dataset(str(out / "corpus"), "formal_proof").iter_rows())
    assert len(rows) == 40  # 20 new statements per round; the stand-in proves them all in round 1
    assert all(r["verified"] and r["status"] == "verified" and r["toolchain"] == "stand-in" for r in rows)
    assert {r["round"] for r in rows} == {1, 2}
    sft = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    assert len(sft) == 40 and sft[0]["prompt"].startswith("Complete the following Lean 4 code:")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verification"] == {"backend": "auto", "runner": "repl", "toolchain": "stand-in",
                                       "skipped": False, "skipped_reason": None}
    assert [r["round"] for r in summary["rounds"]] == [1, 2]
    assert summary["rounds"][0]["learned"]["verified_pairs"] == 20
    assert summary["counters"]["lean"]["verified"] == 40
    assert summary["conservation"] == ["round 1: statements: in 20 = rows 20", "round 2: statements: in 20 = rows 20",
                                       "corpus statements: in 40 = verified 40"]
    assert os.path.exists(out / "rounds" / "round_2" / "_manifest.json")
    # A rerun with other settings asks Lean nothing it was asked before: the answers come from the cache.
    assert main([*argv, "--attempts", "5"]) == 0
    again = json.loads((out / "summary.json").read_text())
    assert again["counters"]["lean"]["cached"] == sum(v for k, v in again["counters"]["lean"].items() if k != "cached")
    # A rerun with the same settings resumes: the committed rounds are reused as they are.
    committed = (out / "rounds" / "round_1" / "_manifest.json").stat().st_mtime_ns
    assert main([*argv, "--attempts", "5"]) == 0
    assert (out / "rounds" / "round_1" / "_manifest.json").stat().st_mtime_ns == committed


def test_leandojo_is_not_a_backend_for_free_standing_code():
    from formal.backends import NoLeanRunner, detect

    with pytest.raises(NoLeanRunner, match="LeanDojo"):
        detect(LeanConfig(backend="leandojo"))


def test_on_dataflow_the_workers_find_the_repl(no_lean):
    from pipelines.formal.run import find_runner

    class Args:
        lean_backend, lean_server, repl_command, lean_project = "repl", None, "lake env repl", "/opt/mathlib4"
        workers, memory_mb, max_uses, toolchain, require_verification = 4, 8192, 200, None, True

    config, skipped = find_runner(Args(), ["--runner", "DataflowRunner", "--project", "p"])
    assert skipped == "" and config.repl_command == "lake env repl" and config.toolchain is None


@pytest.mark.slow
def test_unproved_statements_are_retried_in_the_next_round(monkeypatch, tmp_path):
    # The stand-in fails every proof of the `sum_` family (and every negation and attempt at False).
    monkeypatch.setenv("STANDIN_FAIL", "¬\n: False\ntheorem sum_\\d+ [^\\n]*:= (?!by sorry)")
    out = tmp_path / "formal"
    assert main(["formal", "run", "--count", "9", "--output", str(out), "--repl-command", STANDIN,
                 "--toolchain", "stand-in", "--rounds", "2", "--attempts", "3", "--memory-mb", "0", *FAST]) == 0
    summary = json.loads((out / "summary.json").read_text())
    first, second = summary["rounds"]
    assert first["statuses"] == {"verified": 8, "error": 1}
    assert second["statements"] == 9 + 1 and second["new"] == 9  # the failed one is tried again
    rows = {r["name"]: r for r in datasets.open_dataset(str(out / "corpus"), "formal_proof").iter_rows()}
    assert len(rows) == 18
    assert rows["sum_3"]["status"] == "error" and rows["sum_3"]["round"] == 2 and rows["sum_3"]["attempts"] == 3
    assert rows["arith_0"]["round"] == 1 and rows["arith_0"]["verified"]
