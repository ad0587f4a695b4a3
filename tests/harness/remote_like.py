"""The remote-like harness: pipelines on Beam's PortableRunner against Beam's local job service, with
an external SDK worker pool whose processes cannot see the launcher's files.

What a Dataflow job has, on one machine, offline:

- a job service (Beam's `local_job_service_main`, started through `tests.harness.job_service`, which
  turns off the FnApiRunner's timed flush first: without it the service loses data under load);
- a worker pool (`apache_beam.runners.worker.worker_pool_main`) in its own mount namespace
  (`unshare -m`) and root directory: a tmpfs holding only the system (/usr, /etc, /dev, /proc, /sys,
  the Python installation), the venv at /opt/venv and a copy of the project's code at /opt/code
  (read-only: what a container image holds), a private tmpfs /tmp, an empty working directory
  /work, and the bucket. Every SDK worker the pool starts lives there: a path that only the launcher
  can see (its /tmp, the checkout, the samples, a test's tmp_path) does not exist for it;
- the bucket: the one directory both sides see, at the same path (a stand-in for gs://B). Pipelines
  are told with `--worker_visible_path BUCKET`, so the "worker-read paths must be remote" check
  (`pipelines.worker_paths`) accepts the bucket and refuses every other local path.

API (tests use the session fixture `remote_like` in tests/conftest.py):

    h.bucket        # pathlib.Path, the shared directory
    h.beam_args     # --runner PortableRunner --job_endpoint ... --environment_type EXTERNAL
                    # --environment_config ... --worker_visible_path BUCKET --temp_location BUCKET/tmp
    h.dir("name")   # a fresh, empty directory inside the bucket
    h.stop()

    python -m tests.harness.remote_like start [--root DIR]   # prints the state file's path
    python -m tests.harness.remote_like stop --root DIR

`.ci/run` starts one harness for the whole test run and exports DEEPCORPUS_REMOTE_LIKE (the state
file); the fixture uses it when set, and otherwise starts its own harness once per pytest process
(each xdist worker that needs it), stopped at the end of the session. The code is copied when the
harness starts: restart it after changing the code.

Needs Linux, `unshare`, `chroot` and root (or unprivileged user namespaces, `unshare -r`);
`unavailable()` says why not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from deepcorpus.core import storage

REPO = Path(__file__).resolve().parents[2]
# What the worker image holds: the packages setup.py ships, and the tests (DoFns a test defines
# are pickled by reference to their module). Paths inside differ from the checkout's.
CODE = ("deepcorpus", "pipelines", "classifiers", "dedup", "formal", "model", "train", "interop", "evaluation",
        "tests", "benchmarks")
STATE = "state.json"
START_TIMEOUT_S = 90
ENV = "DEEPCORPUS_REMOTE_LIKE"

_MOUNTS = r"""
set -eu
mount --make-rprivate /
R="$RL_ROOTFS"
mount -t tmpfs -o mode=755 rootfs "$R"
for d in usr etc dev proc sys tmp work opt/venv opt/code "${RL_PYHOME#/}" "${RL_BUCKET#/}"; do mkdir -p "$R/$d"; done
for l in bin lib lib64 sbin; do [ -L "/$l" ] && ln -s "$(readlink "/$l")" "$R/$l" || true; done
for d in bin lib lib64 sbin; do
  if [ -d "/$d" ] && [ ! -L "/$d" ]; then mkdir -p "$R/$d"; mount --rbind "/$d" "$R/$d"; fi
done
mount --rbind /usr "$R/usr"
mount --bind /etc "$R/etc"
mount --rbind /dev "$R/dev"
mount --rbind /proc "$R/proc"
mount --rbind /sys "$R/sys"
mount -t tmpfs -o mode=1777 tmp "$R/tmp"
mount --bind "$RL_PYHOME" "$R/$RL_PYHOME"
mount --bind "$RL_VENV" "$R/opt/venv"
mount --bind "$RL_CODE" "$R/opt/code"
mount --bind "$RL_BUCKET" "$R/$RL_BUCKET"
for d in usr etc "$RL_PYHOME" opt/venv opt/code; do mount -o remount,bind,ro "$R/${d#/}" 2>/dev/null || true; done
exec chroot "$R" /usr/bin/env -i PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp \
  PYTHONPATH=/opt/code LANG=C.UTF-8 OMP_NUM_THREADS=1 /bin/sh -c \
  "cd /work && exec python -m apache_beam.runners.worker.worker_pool_main --service_port $RL_POOL_PORT"
"""


def unavailable() -> str | None:
    """Why the harness cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "the remote-like harness needs Linux mount namespaces"
    for tool in ("unshare", "chroot", "mount"):
        if shutil.which(tool) is None:
            return f"the remote-like harness needs `{tool}` on PATH"
    if os.geteuid() != 0:
        probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
        if probe.returncode != 0:
            return "the remote-like harness needs root or unprivileged user namespaces (unshare -r -m failed)"
    return None


@dataclass
class RemoteLike:
    root: Path
    bucket: Path
    job_port: int
    pool_port: int
    pids: dict[str, int] = field(default_factory=dict)
    owner: bool = True  # this process started it (and stops it)

    @property
    def beam_args(self) -> list[str]:
        return ["--runner", "PortableRunner", "--job_endpoint", f"localhost:{self.job_port}",
                "--environment_type", "EXTERNAL", "--environment_config", f"localhost:{self.pool_port}",
                "--worker_visible_path", str(self.bucket), "--temp_location", str(self.bucket / "tmp")]

    def dir(self, name: str) -> Path:
        """A fresh directory in the bucket (unique per call)."""
        path = self.bucket / f"{name}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def state(self) -> dict:
        return {"root": str(self.root), "bucket": str(self.bucket), "job_port": self.job_port,
                "pool_port": self.pool_port, "pids": self.pids}

    def alive(self) -> bool:
        return all(storage.pid_alive(pid) for pid in self.pids.values()) and _accepts(self.job_port) and \
            _accepts(self.pool_port)

    def stop(self) -> None:
        """Stop the job service and the worker pool (their process groups, which we started)."""
        for name in ("worker_pool", "job_service"):
            pid = self.pids.get(name)
            if pid:
                _stop_group(pid)
        self.pids = {}
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stop_group(pid: int, timeout: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _copy_code(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "out", "data")
    for name in CODE:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore if name == "benchmarks" else
                            shutil.ignore_patterns("__pycache__", "*.pyc"))


def _die_with_parent():
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _python_home() -> str:
    """The Python installation the venv's interpreter links to (mounted into the worker root)."""
    base = Path(sysconfig.get_config_var("installed_base") or sys.base_prefix)
    return str(base.resolve())


def start(root: str | os.PathLike | None = None, *, detach: bool = False) -> RemoteLike:
    """Start a job service and a worker pool; `detach` lets them outlive this process (`.ci/run`)."""
    why = unavailable()
    if why:
        raise RuntimeError(why)
    root = Path(root or tempfile.mkdtemp(prefix="deepcorpus-remote-like-", dir="/var/tmp")).resolve()
    bucket, image, logs = root / "bucket", root / "image", root / "logs"
    for d in (bucket, image / "rootfs", image / "code", logs, root / "staging"):
        d.mkdir(parents=True, exist_ok=True)
    _copy_code(image / "code")
    venv = Path(sys.prefix).resolve()
    h = RemoteLike(root=root, bucket=bucket, job_port=_free_port(), pool_port=_free_port(), owner=not detach)
    preexec = None if detach else _die_with_parent
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(logs / "job_service.log", "wb") as out:
        job = subprocess.Popen(
            [sys.executable, "-m", "tests.harness.job_service", "--port", str(h.job_port),
             "--staging_dir", str(root / "staging")],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=preexec)
    h.pids["job_service"] = job.pid
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    pool_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RL_ROOTFS": str(image / "rootfs"),
                "RL_PYHOME": _python_home(), "RL_VENV": str(venv), "RL_CODE": str(image / "code"),
                "RL_BUCKET": str(bucket), "RL_POOL_PORT": str(h.pool_port)}
    with open(logs / "worker_pool.log", "wb") as out:
        pool = subprocess.Popen([*unshare, "sh", "-c", _MOUNTS], env=pool_env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=preexec)
    h.pids["worker_pool"] = pool.pid
    deadline = time.time() + START_TIMEOUT_S
    while not (_accepts(h.job_port) and _accepts(h.pool_port)):
        for name, proc in (("job service", job), ("worker pool", pool)):
            if proc.poll() is not None:
                log = (logs / ("job_service.log" if proc is job else "worker_pool.log")).read_text(errors="replace")
                h.stop()
                raise RuntimeError(f"the harness's {name} exited ({proc.returncode}): {log[-2000:]}")
        if time.time() > deadline:
            h.stop()
            raise RuntimeError(f"the harness did not start within {START_TIMEOUT_S}s (logs in {logs})")
        time.sleep(0.2)
    (root / STATE).write_text(json.dumps(h.state(), indent=2))
    return h


def attach(state_file: str | os.PathLike) -> RemoteLike:
    """The harness a state file describes (started by `start --detach`, e.g. by .ci/run)."""
    s = json.loads(Path(state_file).read_text())
    return RemoteLike(root=Path(s["root"]), bucket=Path(s["bucket"]), job_port=s["job_port"],
                      pool_port=s["pool_port"], pids=s["pids"], owner=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.harness.remote_like", description=__doc__.split("\n\n")[0])
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--root", help="harness directory (start: default a new one under /var/tmp)")
    args = p.parse_args(argv)
    if args.action == "start":
        h = start(args.root, detach=True)
        print(h.root / STATE)
        return 0
    if not args.root:
        p.error("--root is required")
    state = Path(args.root) / STATE
    if not state.exists():
        print(f"{state}: no harness there", file=sys.stderr)
        return 1
    h = attach(state)
    if args.action == "status":
        print("running" if h.alive() else "not running")
        return 0 if h.alive() else 1
    h.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
