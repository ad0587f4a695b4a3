"""The local Beam SDK worker, started by the FnApiRunner in multi_processing mode, that dies with
the command that started it.

Beam starts each local worker as `sh -c COMMAND`; ours is `exec python -m pipelines.worker --parent
PID`, so the worker is the launcher's own child. It asks the kernel for SIGKILL when its parent
dies (Linux `PR_SET_PDEATHSIG`, which fires even when the parent is SIGKILLed) and, everywhere,
watches its parent's pid once a second; then it runs Beam's own worker main. Without this a killed
launcher leaves its workers running for minutes, holding memory and files.

It is also quiet. Beam's harness sends every log record, and a failed bundle's traceback, to the
runner, which decides what the user sees (one line for a UserError). Started as Beam starts it,
each worker also wrote to the terminal: a module-level `logging.warning()` before any handler
exists (Beam's "apitools not found" on import) gives the root logger a stderr handler that then
printed every record again, and the harness prints each failed bundle's traceback to stderr itself.
Without `--debug` the worker's Python-level stderr goes nowhere; a native crash still reaches the
terminal through file descriptor 2.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def command(parent: int | None = None, debug: bool = False) -> str:
    """The shell command the runner starts a worker with (`debug`: the worker keeps its stderr)."""
    parent = os.getpid() if parent is None else parent
    return f"exec {shlex.quote(sys.executable)} -m pipelines.worker --parent {parent}" + (" --debug" if debug else "")


def killed_with_parent() -> None:
    """Ask Linux for SIGKILL when this process's parent dies (nothing elsewhere)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass


def die_with(parent: int) -> None:
    """Exit when process `parent` is gone (kernel signal on Linux, a watcher thread everywhere)."""
    killed_with_parent()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def release_output_streams() -> None:
    """Let a finished bundle's output buffers go.

    Beam's harness (2.77) caches one bundle processor per stage for the process's life, and each of
    its data outputs keeps the stream it last wrote: a buffer that grew to the largest flush (up to
    the 10 MB flush threshold, 16 MiB once doubled) and is only dropped when that stage runs again.
    A `math run` starts ~180 stages, so a worker kept up to 16 MiB per stage output it had run:
    measured (memray, 8x the padded bundled crawl) 14 MiB of a dedup worker's 35 MiB growth, at
    crawl scale up to GiBs. The stream is written to only between `set_output_stream` and `finish`."""
    from apache_beam.runners.worker import bundle_processor

    operation = bundle_processor.DataOutputOperation
    if getattr(operation, "releases_stream", False):
        return

    beam_finish = operation.finish

    def finish(self) -> None:
        beam_finish(self)  # closes the stream: its bytes are sent
        self.output_stream = None

    operation.finish = finish
    operation.releases_stream = True


def main(argv: list[str]) -> None:
    if "--parent" in argv:
        die_with(int(argv[argv.index("--parent") + 1]))
    logging.getLogger().addHandler(logging.NullHandler())  # a handler exists: no implicit stderr one
    if "--debug" not in argv:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life
    from apache_beam.runners.worker import sdk_worker_main

    release_output_streams()
    sdk_worker_main.main(argv)


if __name__ == "__main__":
    main(sys.argv)
