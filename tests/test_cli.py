"""The command line: every --help works and shows an example; bad input is one line and exit 2."""

import subprocess
import sys

import pytest

from deepcorpus.cli import COMMANDS, main

STEPS = {
    "math": ["run"],
    "code": ["run"],
    "formal": ["run"],
    "dedup": ["exact", "url", "minhash", "decontaminate"],
    "tokenize": ["train-tokenizer", "run"],
}


def _help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_lists_every_command(capsys):
    out = _help([], capsys)
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_help_shows_an_example(command, capsys):
    out = _help([command], capsys)
    assert "examples:" in out and f"deepcorpus {command}" in out


@pytest.mark.parametrize("command, step", [(c, s) for c, steps in STEPS.items() for s in steps])
def test_every_step_help_shows_an_example(command, step, capsys):
    out = _help([command, step], capsys)
    assert "examples:" in out
    if step == "run" and command != "tokenize" or command == "dedup":
        assert "--runner DataflowRunner" in out  # Beam options pass through


def test_bad_option_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["inspect", "x", "--format", "xml"])
    assert e.value.code == 2


def test_unknown_option_on_a_non_beam_command_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", "x", "--output", "r.html", "--bogus"])
    assert e.value.code == 2
    assert "--bogus" in capsys.readouterr().err


def test_user_error_is_one_line_exit_2_without_traceback(tmp_path):
    missing = tmp_path / "nope"
    proc = subprocess.run(
        [sys.executable, "-m", "deepcorpus", "tokenize", "train-tokenizer", "--input", str(missing),
         "--vocab-size", "300", "--output", str(tmp_path / "t.json")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "no such file" in lines[0]
    assert "Traceback" not in proc.stderr


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("deepcorpus ")
