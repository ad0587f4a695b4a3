"""Local SDK workers forked from one process that has already imported what a worker imports.

A local Beam worker spends ~2 CPU s importing Beam, NumPy, Arrow, fastText, Resiliparse and our
transforms before it runs its first bundle; a local command starts one per core for every pipeline
it runs (nine in `math run`), so on 2 cores ~36 CPU s of every `math run` went to imports, as much
as extracting ~5,000 pages. The fork server imports all that once. Each worker Beam starts is then a
small client (`python -m pipelines.forkserver --client SOCKET`) that hands its environment, working
directory and standard streams to the server, which forks a worker from its warm state; the client
waits for that worker and exits with its status, so the process Beam started behaves as the worker.

Lifetimes, as for `pipelines/worker.py`: the server dies with the launcher (PR_SET_PDEATHSIG and a
parent watch); a forked worker dies with the server (PR_SET_PDEATHSIG) and is killed when its
client goes (its connection closes). The launcher stops the server at exit and waits for it, so the
CPU time of the server and of the workers it reaped is counted among the launcher's children.

The server is one thread (forking a process that runs other threads can copy a held lock into the
child), and nothing it preloads starts one. `DEEPCORPUS_FORKSERVER=0` starts workers as before.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys

# What a worker imports before its first bundle (Beam's harness, and what our DoFns unpickle into):
# each costs its import once in the server instead of once per worker. A module that fails to
# import is left to the worker, which reports it as it always did.
PRELOAD = (
    "apache_beam.runners.worker.sdk_worker_main",
    "numpy", "pyarrow", "pyarrow.parquet",
    "deepcorpus.core.datasets", "deepcorpus.core.storage",
    "pipelines.io", "pipelines.parts", "pipelines.progress", "pipelines.shared_model",
    "dedup.beam", "dedup.minhash",
    "pipelines.math.transforms", "pipelines.math.candidates", "pipelines.math.iteration",
    "pipelines.code.transforms", "pipelines.tokenize.transforms", "pipelines.formal.transforms",
)
READY = b"ready\n"
_HEADER = struct.Struct("!I")
_STATUS = struct.Struct("!i")

_server: tuple | None = None  # (process, socket path, temp dir) of this launcher's server


# -- launcher side ------------------------------------------------------------------------------

def client_command(debug: bool = False) -> str | None:
    """The shell command Beam starts a worker with, through this launcher's fork server (started on
    first use); None when it is turned off or could not start (then workers start as before)."""
    if os.environ.get("DEEPCORPUS_FORKSERVER", "1") == "0":
        return None
    path = _ensure_started()
    if path is None:
        return None
    import shlex

    return (f"exec {shlex.quote(sys.executable)} -m pipelines.forkserver --client {shlex.quote(path)}"
            + (" --debug" if debug else ""))


def _ensure_started() -> str | None:
    global _server
    if _server is not None and _server[0].poll() is None:
        return _server[1]
    import atexit
    import logging
    import subprocess
    import tempfile

    folder = tempfile.mkdtemp(prefix="deepcorpus-workers-")
    path = os.path.join(folder, "fork.sock")
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.forkserver", "--serve", path, "--parent", str(os.getpid())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    line = proc.stdout.readline()  # after its imports; an empty line: it died
    proc.stdout.close()
    if line != READY:
        proc.kill()
        proc.wait()
        logging.getLogger(__name__).warning("the local worker fork server did not start; workers start one by one")
        _remove(folder)
        return None
    _server = (proc, path, folder)
    atexit.register(stop)
    return path


def stop() -> None:
    """Stop this launcher's server, and wait for it (and so for the workers it reaps)."""
    global _server
    if _server is None:
        return
    proc, _, folder = _server
    _server = None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a server that does not stop is killed
            proc.kill()
            proc.wait()
    _remove(folder)


def _remove(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


# -- the client Beam starts ---------------------------------------------------------------------

def client(path: str, debug: bool) -> int:
    """Hand this process's environment and streams to the server; the forked worker's exit status."""
    from pipelines.worker import killed_with_parent

    killed_with_parent()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:  # the server is gone (a launcher shutting down): be the worker ourselves
        os.execv(sys.executable, [sys.executable, "-m", "pipelines.worker", "--parent", str(os.getppid()),
                                  *(["--debug"] if debug else [])])
    payload = json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "debug": debug}).encode()
    socket.send_fds(sock, [_HEADER.pack(len(payload))], [0, 1, 2])
    sock.sendall(payload)
    status = _recv_exactly(sock, _STATUS.size)
    if len(status) < _STATUS.size:
        return 1  # the server died before the worker finished
    code = _STATUS.unpack(status)[0]
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


# -- the server ---------------------------------------------------------------------------------

def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the worker imports it again and reports what fails
            pass
    try:  # load MinHash's compiled loop (numba's cache) once, not in every worker
        from dedup.beam import WEB_MINHASH
        from dedup.minhash import MinHasher

        MinHasher(WEB_MINHASH).signatures(["a few words to load the compiled loop with"])
    except Exception:  # noqa: BLE001
        pass
    try:  # the code point tables of the token count and of fastText's normalizing (~0.2 s each)
        from classifiers.normalize import normalize_for_fasttext
        from deepcorpus.core.text import approx_token_count

        approx_token_count("é")
        normalize_for_fasttext("é x")
    except Exception:  # noqa: BLE001
        pass


def serve(path: str, parent: int) -> None:
    import logging
    import selectors

    from pipelines.worker import killed_with_parent

    killed_with_parent()  # and the loop below checks its parent: no watcher thread to fork with
    if os.getppid() != parent:
        return

    logging.getLogger().addHandler(logging.NullHandler())  # as a worker: no implicit stderr handler
    _preload()
    # Out of the collector's reach: a full collection in a worker writes to the GC header of every
    # object it tracks, so each worker that ran one held a private copy of nearly all the server's
    # ~200 MiB heap. Workers of longer stages allocate more and so collect more: measured (test_scale's
    # padded crawl, 2 workers) the dedup workers' anonymous PSS peaked at 138-159 MiB at 8N against
    # 83-84 at N, and the tree's at 587 against 444; frozen, 106-130 and 489 (N 441).
    import gc

    gc.collect()
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    stopping = []
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    workers: dict[int, socket.socket | None] = {}  # pid -> its client's connection
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    os.close(1)
    while not stopping or workers:
        if os.getppid() != parent:  # the launcher is gone (SIGKILL fires first on Linux)
            stopping.append(True)
        if stopping and listener is not None:  # no new workers; the running ones are killed
            selector.unregister(listener)
            listener.close()
            listener = None
            for pid in workers:
                _kill(pid)
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is listener:
                conn, _ = listener.accept()
                pid = _fork_worker(conn, listener, wake_r, wake_w, workers)
                if pid is not None:
                    workers[pid] = conn
                    selector.register(conn, selectors.EVENT_READ)
            elif key.fileobj == wake_r:
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
            elif not _recv_or_eof(key.fileobj):  # the client is gone: so is its worker
                conn = key.fileobj
                selector.unregister(conn)
                conn.close()
                for pid, c in workers.items():
                    if c is conn:
                        workers[pid] = None
                        _kill(pid)
        _reap(workers, selector)


def _recv_or_eof(conn: socket.socket) -> bool:
    try:
        return bool(conn.recv(1))
    except OSError:
        return False


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(workers: dict, selector) -> None:
    while workers:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = workers.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(_STATUS.pack(os.waitstatus_to_exitcode(status)))
            except OSError:
                pass
            selector.unregister(conn)
            conn.close()


def _fork_worker(conn: socket.socket, listener, wake_r: int, wake_w: int, workers: dict) -> int | None:
    """Read one request from `conn` and fork its worker; the worker's pid (None: a bad request)."""
    try:
        header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
        request = json.loads(_recv_exactly(conn, _HEADER.unpack(header)[0]))
    except (OSError, ValueError, struct.error):
        conn.close()
        return None
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return pid
    code = 1
    try:  # the worker: nothing of the server's loop survives into it
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        for c in [listener, conn, *(c for c in workers.values() if c is not None)]:
            c.close()
        os.close(wake_r)
        os.close(wake_w)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        from pipelines import worker

        worker.main(["pipelines.worker", "--parent", str(os.getppid()), *(["--debug"] if request["debug"] else [])])
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the worker's own stderr, then gone
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def main(argv: list[str]) -> int:
    if "--client" in argv:
        return client(argv[argv.index("--client") + 1], "--debug" in argv)
    if "--serve" in argv:
        serve(argv[argv.index("--serve") + 1], int(argv[argv.index("--parent") + 1]))
        return 0
    print("usage: python -m pipelines.forkserver (--client SOCKET [--debug] | --serve SOCKET --parent PID)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
