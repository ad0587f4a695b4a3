"""One Lean REPL process: start it under a memory cap, send a command, wait at most a deadline.

The REPL has no timeout of its own (repl #94): on a deadline the whole process group is killed and
the caller starts a new one, paying the header's import cost again. The memory cap is `RLIMIT_AS`
(as Prover-V1.5 and the Kimina server do), so a runaway proof kills its own process, not the machine.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from formal.repl_protocol import ReplResponse, ResponseSplitter, encode_command, parse_response

log = logging.getLogger(__name__)


class ReplTimeout(Exception):
    """The REPL did not answer before the deadline (the process has been killed)."""


class ReplCrashed(Exception):
    """The REPL process died or wrote something that is not the protocol."""


@dataclass
class ProcessConfig:
    command: list[str] = field(default_factory=lambda: ["repl"])  # or ["lake", "exe", "repl"]
    cwd: str | None = None  # a Lake project (e.g. one depending on Mathlib) to run in
    memory_limit_mb: int | None = 8192  # RLIMIT_AS per process; None = no cap
    env: dict[str, str] | None = None  # extra environment variables


def _limit_memory(limit_bytes: int | None):
    def apply() -> None:
        if limit_bytes:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return apply


class ReplProcess:
    """A started REPL. Not thread-safe: one caller at a time (the pool gives each worker its own)."""

    def __init__(self, config: ProcessConfig):
        self.config = config
        self.uses = 0  # commands sent since start
        self.headers: dict[str, int] = {}  # header text -> the env id it was loaded into
        self._splitter = ResponseSplitter()
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ, **(config.env or {}))
        limit = config.memory_limit_mb * 1024 * 1024 if config.memory_limit_mb else None
        try:
            self.proc = subprocess.Popen(
                config.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=config.cwd,
                env=env,
                start_new_session=True,  # its own process group, so `lake exe repl`'s child dies too
                preexec_fn=_limit_memory(limit),
            )
        except OSError as e:
            self._stderr.close()
            raise ReplCrashed(f"cannot start {' '.join(config.command)!r}: {e.strerror or e}") from None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def command(self, code: str, env: int | None = None, timeout_s: float = 60.0) -> ReplResponse:
        return parse_response(self.send(encode_command(code, env), timeout_s))

    def send(self, payload: bytes, timeout_s: float) -> dict:
        """Write one request and return its response object, or raise ReplTimeout / ReplCrashed."""
        self.uses += 1
        try:
            self.proc.stdin.write(payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.kill()
            raise ReplCrashed(self._death_note()) from None
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise ReplTimeout(f"no answer within {timeout_s:g}s")
            if not self._selector.select(remaining):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self.kill()
                raise ReplCrashed(self._death_note())
            try:
                objs = self._splitter.feed(chunk)
            except Exception as e:  # not the protocol: treat the process as broken
                self.kill()
                raise ReplCrashed(str(e)) from None
            if objs:
                if len(objs) > 1:
                    log.debug("REPL answered %d objects to one request; using the first", len(objs))
                return objs[0]

    def _death_note(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 600))
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()
        last = tail[-1] if tail else ""
        how = f"exit code {code}" if code is not None and code >= 0 else f"signal {-code}" if code else "unknown"
        return f"REPL process died ({how})" + (f": {last}" if last else "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        """Ask politely (EOF ends the REPL's loop), then kill."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=1)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self.kill()
        for f in (self.proc.stdout, self._stderr):
            try:
                f.close()
            except OSError:
                pass
        self._selector.close()
