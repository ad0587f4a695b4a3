"""Run untrusted Python (a model's code and a benchmark's tests) in a confined subprocess.

    result = run_python("assert add(1, 2) == 3", SandboxConfig(timeout_s=10))
    result.status     # passed | failed | timeout | error

Each run gets a fresh temporary directory (its working directory and HOME, removed afterwards), an
empty environment, limits on time, memory, file size and processes, and no network. How it is
confined is the launcher's job (evaluation/sandbox_launch.py): network and PID namespaces where the
machine allows them, seccomp (no sockets; no new processes unless `max_processes` > 0), resource
limits, and a Python audit hook when neither namespaces nor seccomp are available. `result.layers`
says which were in force. Everything the program started dies with it: the launcher runs in a session
of its own that is killed as a whole, and under a PID namespace the kernel kills the rest when its
first process ends.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_launch.py")
LAYERS = ("namespaces", "seccomp")
PASSED, FAILED, TIMEOUT, ERROR = "passed", "failed", "timeout", "error"
TAIL = 2000  # characters of stdout/stderr kept per run
LAUNCH_FAILED = 127


@dataclass
class SandboxConfig:
    timeout_s: float = 10.0  # wall clock; CPU time is capped at the same number of seconds
    memory_mb: int = 1024  # address space (RLIMIT_AS)
    max_processes: int = 0  # processes the code may start: 0 refuses fork at the kernel (seccomp)
    max_file_bytes: int = 16 << 20  # any file it writes, stdout and stderr included
    layers: tuple = LAYERS  # isolation to try; () leaves only limits and the audit hook
    python: str = sys.executable


@dataclass
class ExecResult:
    status: str
    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    elapsed_ms: float = 0.0
    layers: dict = field(default_factory=dict)  # what the launcher managed: namespaces, seccomp, audit_hook
    workdir: str = ""  # where it ran (removed afterwards); part of every command line it started

    @property
    def passed(self) -> bool:
        return self.status == PASSED


def run_python(code: str, config: SandboxConfig | None = None) -> ExecResult:
    """Run `code` as a Python program in the sandbox; exit status 0 means it passed."""
    config = config or SandboxConfig()
    workdir = tempfile.mkdtemp(prefix="deepcorpus-sandbox-")
    try:
        return _run(code, config, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(code: str, config: SandboxConfig, workdir: str) -> ExecResult:
    program = os.path.join(workdir, "program.py")
    with open(program, "w", encoding="utf-8") as f:
        f.write(code)
    spec_path = os.path.join(workdir, ".sandbox-spec.json")
    report_path = os.path.join(workdir, ".sandbox-layers.json")
    env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    spec = {"workdir": workdir, "program": program, "report": report_path, "python": config.python,
            "memory_mb": config.memory_mb, "cpu_s": config.timeout_s, "max_processes": config.max_processes,
            "max_file_bytes": config.max_file_bytes, "layers": list(config.layers), "env": env}
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    out_path, err_path = os.path.join(workdir, ".stdout"), os.path.join(workdir, ".stderr")
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-B", LAUNCHER, spec_path], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, cwd=workdir, env=env, start_new_session=True)
    finished = _wait_unreaped(proc.pid, config.timeout_s)
    # The group is killed while its leader is still a zombie, so its id cannot have been reused.
    _kill_group(proc.pid)
    returncode = proc.wait()
    _wait_group_gone(proc.pid)
    elapsed = (time.monotonic() - start) * 1000
    stdout, stderr = _tail(out_path), _tail(err_path)
    layers = _read_json(report_path)
    if not finished:
        status = TIMEOUT
    elif returncode == 0:
        status = PASSED
    elif returncode == LAUNCH_FAILED or not layers:
        status = ERROR
    elif returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        status = TIMEOUT
    else:
        status = FAILED
    return ExecResult(status, returncode if finished else None, stdout, stderr, elapsed, layers, workdir)


def _wait_unreaped(pid: int, timeout_s: float) -> bool:
    """Wait for `pid` to exit without reaping it; False on timeout."""
    deadline = time.monotonic() + timeout_s
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    try:
        while True:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if info is not None:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if fd is not None:
                select.select([fd], [], [], left)
            else:
                time.sleep(min(left, 0.01))
    finally:
        if fd is not None:
            os.close(fd)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_group_gone(pgid: int, timeout_s: float = 2.0) -> None:
    """Return once the killed group's last process is gone (SIGKILL is delivered, not instant); signal 0
    only asks whether any member is left."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.005)


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4 * TAIL))
            return f.read().decode("utf-8", "replace")[-TAIL:]
    except OSError:
        return ""


def _read_json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}


def describe_layers(layers: dict) -> str:
    """One line for the results: how network and processes were refused."""
    if not layers:
        return "sandbox did not start"
    parts = []
    if layers.get("namespaces"):
        parts.append(f"{layers['namespaces']} namespaces")
    if layers.get("seccomp"):
        parts.append("seccomp (no sockets, no new processes)" if not layers.get("allow_processes")
                     else "seccomp (no sockets)")
    if layers.get("audit_hook"):
        parts.append("Python audit hook (sockets and process creation refused)")
    return ", ".join(parts) + "; rlimits on memory, CPU, files" + ("" if layers.get("root") else ", processes")
