"""Finding a Lean runner: the order of the options, the toolchain probe, the one-line refusal."""

import os
import stat
import sys

import pytest

from formal.backends import LeanConfig, NoLeanRunner, detect, repl_command

STANDIN = f"{sys.executable} {os.path.join(os.path.dirname(__file__), 'standin_repl.py')}"


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    d = tmp_path / "bin"
    d.mkdir()
    monkeypatch.setenv("PATH", str(d))
    for var in ("DEEPCORPUS_LEAN_SERVER", "DEEPCORPUS_REPL_COMMAND", "DEEPCORPUS_LEAN_PROJECT"):
        monkeypatch.delenv(var, raising=False)

    def add(name):
        p = d / name
        p.write_text("#!/bin/sh\nexit 0\n")
        p.chmod(p.stat().st_mode | stat.S_IXUSR)
        return str(p)

    return add


def test_nothing_found_says_how_to_get_lean(bin_dir):
    with pytest.raises(NoLeanRunner) as e:
        detect(LeanConfig())
    msg = str(e.value)
    assert "\n" not in msg and "elan" in msg and "--lean-server" in msg and "DEEPCORPUS_LEAN_SERVER" in msg


def test_lean_without_the_repl_checks_one_file_per_proof(bin_dir):
    bin_dir("lean")
    with pytest.raises(NoLeanRunner, match="found `lean` at .* but no `repl`"):
        detect(LeanConfig(backend="repl"))
    v = detect(LeanConfig(toolchain="4.24.0"))
    assert v.name == "lean-file" and v.command == [os.path.join(os.environ["PATH"], "lean")]


def test_order_of_the_options(bin_dir, monkeypatch, tmp_path):
    assert repl_command(LeanConfig()) is None
    repl = bin_dir("repl")
    assert repl_command(LeanConfig()) == [repl]
    bin_dir("lake")
    project = tmp_path / "mathlib4"
    project.mkdir()
    monkeypatch.setenv("DEEPCORPUS_LEAN_PROJECT", str(project))
    assert repl_command(LeanConfig()) == ["lake", "env", repl]  # inside the project, with its packages
    monkeypatch.setenv("DEEPCORPUS_REPL_COMMAND", "my-repl --flag")
    assert repl_command(LeanConfig()) == ["my-repl", "--flag"]
    assert repl_command(LeanConfig(repl_command="lake exe repl")) == ["lake", "exe", "repl"]


def test_detect_starts_the_repl_and_asks_its_version(bin_dir):
    v = detect(LeanConfig(repl_command=STANDIN, memory_mb=None))
    try:
        assert v.name == "repl" and v.toolchain == "0.0.0-standin"
    finally:
        v.close()
    v = detect(LeanConfig(repl_command=STANDIN, memory_mb=None, toolchain="4.24.0"))
    assert v.toolchain == "4.24.0"
    v.close()


def test_backend_none_and_unknown_server(bin_dir):
    with pytest.raises(NoLeanRunner, match="turned off"):
        detect(LeanConfig(backend="none"))
    with pytest.raises(NoLeanRunner, match="does not answer"):
        detect(LeanConfig(lean_server="http://127.0.0.1:9"))
