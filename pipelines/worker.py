"""The local Beam SDK worker, started by the FnApiRunner in multi_processing mode, that dies with
the command that started it.

Beam starts each local worker as `sh -c COMMAND`; ours is `exec python -m pipelines.worker --parent
PID`, so the worker is the launcher's own child. It asks the kernel for SIGKILL when its parent
dies (Linux `PR_SET_PDEATHSIG`, which fires even when the parent is SIGKILLed) and, everywhere,
watches its parent's pid once a second; then it runs Beam's own worker main. Without this a killed
launcher leaves its workers running for minutes, holding memory and files.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def command(parent: int | None = None) -> str:
    """The shell command the runner starts a worker with."""
    parent = os.getpid() if parent is None else parent
    return f"exec {shlex.quote(sys.executable)} -m pipelines.worker --parent {parent}"


def die_with(parent: int) -> None:
    """Exit when process `parent` is gone (kernel signal on Linux, a watcher thread everywhere)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def main(argv: list[str]) -> None:
    if "--parent" in argv:
        die_with(int(argv[argv.index("--parent") + 1]))
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(argv)


if __name__ == "__main__":
    main(sys.argv)
