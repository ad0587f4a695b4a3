"""The sandbox kills an infinite loop and a fork bomb, refuses the network, and takes children with it."""

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from evaluation.benchmarks import load_benchmark
from evaluation.code_tasks import humaneval_program, mbpp_program, run_programs
from evaluation.sandbox import FAILED, PASSED, TIMEOUT, SandboxConfig, run_python

LAYER_SETS = {"namespaces+seccomp": ("namespaces", "seccomp"), "seccomp": ("seccomp",),
              "namespaces": ("namespaces",), "audit hook only": ()}


def processes_mentioning(text: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                continue
    return found


def test_a_program_runs_in_a_fresh_directory_with_an_empty_environment():
    r = run_python("import os, sys\nprint(os.getcwd() == os.environ['HOME'], sorted(os.listdir('.')), 'PWD' in os.environ)\n"
                   "sys.exit(0)")
    assert r.status == PASSED, r.stderr
    assert r.stdout.split()[0] == "True" and "program.py" in r.stdout and r.stdout.split()[-1] == "False"
    assert not os.path.exists(r.workdir)  # removed afterwards
    assert run_python("assert 1 + 1 == 3").status == FAILED
    assert "AssertionError" in run_python("assert 1 + 1 == 3").stderr


def test_an_infinite_loop_is_killed_at_the_time_limit():
    start = time.monotonic()
    r = run_python("while True:\n    pass\n", SandboxConfig(timeout_s=1.5))
    assert r.status == TIMEOUT and r.returncode is None
    assert time.monotonic() - start < 5
    assert processes_mentioning(r.workdir) == []


def test_a_fork_bomb_is_contained_and_killed():
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    start = time.monotonic()
    r = run_python(bomb, SandboxConfig(timeout_s=2))
    assert r.status == TIMEOUT
    assert time.monotonic() - start < 6
    assert processes_mentioning(r.workdir) == []  # nothing it started outlives it
    # Without the try, the first refused fork ends it at once.
    r = run_python("import os\nwhile True:\n    os.fork()\n", SandboxConfig(timeout_s=5))
    assert r.status == FAILED and ("BlockingIOError" in r.stderr or "PermissionError" in r.stderr), r.stderr
    assert r.elapsed_ms < 4000
    # A thread is not a process: threads still work.
    assert run_python("import threading\nt = threading.Thread(target=print, args=(1,))\nt.start(); t.join()").passed


def test_children_die_with_the_program():
    # With processes allowed, a child that would sleep for ever is killed when the program ends.
    code = ("import os, time\npid = os.fork()\nif pid == 0:\n    os.execv('/bin/sleep', ['sleep', '987654'])\n"
            "time.sleep(0.5)\nprint('parent done')\n")
    r = run_python(code, SandboxConfig(timeout_s=10, max_processes=4))
    assert r.status == PASSED and "parent done" in r.stdout, r.stderr
    time.sleep(0.2)
    assert processes_mentioning("987654") == []


@pytest.fixture
def tcp_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.sendall(b"hello")
                conn.close()
            except OSError:
                continue

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield server.getsockname()[1]
    stop.set()
    t.join()
    server.close()


@pytest.mark.parametrize("layers", LAYER_SETS)
def test_the_network_is_refused(tcp_server, layers):
    code = (f"import socket\ns = socket.create_connection(('127.0.0.1', {tcp_server}), timeout=3)\n"
            "print('received', s.recv(5))\n")
    # The same program outside the sandbox reaches the server: the refusal is the sandbox's doing.
    outside = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "received b'hello'" in outside.stdout
    r = run_python(code, SandboxConfig(timeout_s=10, layers=LAYER_SETS[layers]))
    if layers == "namespaces" and not r.layers.get("namespaces"):
        pytest.skip("this machine does not allow network namespaces (no root, no user namespaces)")
    if "seccomp" in layers and not r.layers.get("seccomp"):
        pytest.skip(f"seccomp filters are not available here ({os.uname().machine})")
    assert r.status == FAILED and "received" not in r.stdout, r.stdout
    assert any(e in r.stderr for e in ("PermissionError", "Network is unreachable", "refused")), r.stderr
    assert r.layers["audit_hook"] == (layers == "audit hook only")


def test_memory_and_output_are_limited():
    r = run_python("x = bytearray(2 << 30)\n", SandboxConfig(memory_mb=256))
    assert r.status == FAILED and "MemoryError" in r.stderr
    r = run_python("import sys\nsys.stdout.write('x' * (4 << 20))\n", SandboxConfig(max_file_bytes=1 << 20))
    assert r.status == FAILED and len(r.stdout) <= 4000


def test_humaneval_canonical_solutions_pass_and_wrong_ones_fail(shared_data):
    bench = load_benchmark(os.path.join(shared_data, "benchmarks", "humaneval", "HumanEval.jsonl.gz"))
    items = bench.items[:12]
    right = run_programs([humaneval_program(it, it.row["canonical_solution"]) for it in items], SandboxConfig(), 2)
    wrong = run_programs([humaneval_program(it, "    return None\n") for it in items], SandboxConfig(), 2)
    assert [r.status for r in right] == [PASSED] * len(items), [r.stderr[-300:] for r in right if not r.passed]
    assert all(r.status == FAILED for r in wrong)
    with gzip.open(os.path.join(shared_data, "benchmarks", "humaneval", "HumanEval.jsonl.gz"), "rt") as f:
        assert len([json.loads(line) for line in f]) == len(bench.items) == 164


def test_mbpp_reference_code_passes_its_tests(shared_data):
    bench = load_benchmark(os.path.join(shared_data, "benchmarks", "mbpp", "mbpp.jsonl"))
    assert len(bench.items) == 500 and bench.items[0].id == "11" and [it.id for it in bench.few_shot] == ["2", "3", "4"]
    results = run_programs([mbpp_program(it, it.row["code"]) for it in bench.items[:10]], SandboxConfig(), 2)
    assert all(r.passed for r in results), [r.stderr[-300:] for r in results if not r.passed]
