"""A writer's lease on an output: `DIR/_lock.json` names who writes there (user, host, pid, command,
since when, until when) and is refreshed while the command runs, so a second writer of the same
output refuses in one line naming the first, and a writer that died is taken over once its lease
has expired (at once on the same machine when its process is gone), saying so.

    with Lock("out/tokens", command=args.command_line):
        ...                                   # write parts, commit

Local disk: the lease file is also held with `flock`, which the kernel drops when the holder dies
(SIGKILL included), so taking over is atomic: two would-be writers cannot both win.

gs:// and s3:// (through pyarrow) have no conditional create, so the best sound protocol there is
write-then-read-back: read the lease (refuse a live one), write ours with a random token, wait
`SETTLE_S`, read it back and hold it only if the token is still ours. Two writers starting within
the same moment can both read "free" before either writes; the read-back settles most such races,
and the holder re-reads its lease before every refresh and before the commit, so a writer that lost
the lease stops before committing. What remains is that narrow window, and there no data mixes:
each write lists only its own run's parts in its manifest (see `datasets`), so the loser's work is
wasted, never interleaved.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import json
import logging
import os
import socket
import threading
import time
import uuid

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

log = logging.getLogger(__name__)

LOCK = "_lock.json"


def ttl_s() -> float:
    """How long a lease lasts without a refresh (DEEPCORPUS_LOCK_TTL_S; default 2 minutes)."""
    return float(os.environ.get("DEEPCORPUS_LOCK_TTL_S", "120"))


def settle_s() -> float:
    """How long an object-store writer waits before reading its lease back (DEEPCORPUS_LOCK_SETTLE_S)."""
    return float(os.environ.get("DEEPCORPUS_LOCK_SETTLE_S", "2"))


class LockedError(UserError):
    """Another live writer holds the output."""


class LockLost(UserError):
    """Our lease expired and another writer took it: stop before committing anything."""


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat(timespec="seconds")


def describe(lease: dict) -> str:
    """'alice@host pid 123 (deepcorpus tokenize run ..., since 12:00:01 UTC)'."""
    command = " ".join(lease.get("command") or []) or "?"
    if len(command) > 80:
        command = command[:77] + "..."
    return (f"{lease.get('owner', '?')}@{lease.get('host', '?')} pid {lease.get('pid', '?')} "
            f"({command}, since {lease.get('acquired', '?')})")


def stale_reason(lease: dict, now: float | None = None) -> str | None:
    """Why a lease no longer holds (expired, or its process is gone from this machine), or None."""
    now = time.time() if now is None else now
    if lease.get("host") == socket.gethostname() and isinstance(lease.get("pid"), int) \
            and not storage.pid_alive(lease["pid"]):
        return "its process is gone"
    expires = lease.get("expires")
    if not isinstance(expires, (int, float)):
        return "its lease is unreadable"
    if now > expires:
        return f"its lease expired at {_iso(expires)}"
    return None


# Leases this process holds, by lock path: a nested writer of the same output (a run that commits a
# dataset it also locked) shares the outer lease instead of refusing itself.
_HELD: dict[str, Lock] = {}
_HELD_GUARD = threading.Lock()


class Lock:
    """The lease on `directory` (created if missing), held from `acquire()` to `release()`."""

    def __init__(self, directory: str, *, command: list[str] | None = None):
        self.directory = directory
        self.path = storage.join(directory, LOCK)
        self.command = list(command or [])
        self.token = uuid.uuid4().hex
        self.lease: dict = {}
        self.lost: str | None = None
        self._fd: int | None = None
        self._depth = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._outer: Lock | None = None

    # -- the lease record ---------------------------------------------------------------------

    def _record(self) -> bytes:
        now = time.time()
        if not self.lease:
            self.lease = {"owner": _user(), "host": socket.gethostname(), "pid": os.getpid(),
                          "command": self.command, "token": self.token, "acquired": _iso(now)}
        self.lease.update(refreshed=_iso(now), expires=now + ttl_s())
        return json.dumps(self.lease, indent=2).encode()

    def _read(self) -> dict | None:
        """The lease on disk, or None when there is none; {} when it cannot be parsed."""
        if self._fd is not None:
            data = os.pread(self._fd, 1 << 16, 0)
        else:
            try:
                data = storage.read_bytes(self.path)
            except FileNotFoundError:
                return None
            except OSError:
                if not storage.exists(self.path):
                    return None
                raise
        if not data.strip():
            return None
        try:
            lease = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return lease if isinstance(lease, dict) else {}

    # -- acquiring ----------------------------------------------------------------------------

    def acquire(self) -> Lock:
        key = self.path if storage.is_remote(self.path) else os.path.abspath(self.path)
        with _HELD_GUARD:
            outer = _HELD.get(key)
            if outer is not None and outer.lease.get("pid") == os.getpid():
                outer._depth += 1
                self._outer = outer
                self.lease, self.token = outer.lease, outer.token
                return self
        if storage.is_remote(self.path):
            self._acquire_remote()
        else:
            self._acquire_local()
        self._depth = 1
        with _HELD_GUARD:
            _HELD[key] = self
        self._thread = threading.Thread(target=self._refresh_loop, name=f"lease {self.directory}", daemon=True)
        self._thread.start()
        return self

    def _refuse(self, lease: dict) -> LockedError:
        return LockedError(f"{self.directory}: being written by {describe(lease)}; wait for it to finish "
                           f"(a lease left by a writer that died expires after {ttl_s():.0f}s)")

    def _take_over_note(self, lease: dict | None, why: str | None) -> None:
        if lease:
            log.warning("%s: taking over the lock of %s: %s", self.directory, describe(lease), why)

    def _acquire_local(self) -> None:
        import fcntl

        os.makedirs(self.directory, exist_ok=True)
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._refuse(self._read_with_retries()) from None
            # The holder before us may have removed the file between our open and our flock.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:
            raise LockedError(f"{self.directory}: could not take the lock (it keeps being replaced)")
        self._fd = fd
        lease = self._read()
        why = None
        if lease:
            # We hold the flock, so a holder on this machine is gone (the kernel dropped its flock).
            why = "its process is gone" if lease.get("host") == socket.gethostname() else stale_reason(lease)
        if lease and why is None:
            # A live lease that nobody flocks: a writer on another machine sharing this disk.
            os.close(fd)
            self._fd = None
            raise self._refuse(lease)
        self._take_over_note(lease, why)
        self._write_local()

    def _read_with_retries(self) -> dict:
        for _ in range(5):  # the holder may be rewriting it in place this instant
            lease = self._read()
            if lease:
                return lease
            time.sleep(0.05)
        return {}

    def _write_local(self) -> None:
        data = self._record()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def _acquire_remote(self) -> None:
        lease = self._read()
        why = stale_reason(lease) if lease else None
        if lease and why is None and lease.get("token") != self.token:
            raise self._refuse(lease)
        storage.write_bytes_atomic(self.path, self._record())
        time.sleep(settle_s())
        back = self._read()
        if not back or back.get("token") != self.token:
            raise self._refuse(back or {})
        self._take_over_note(lease, why)

    # -- holding ------------------------------------------------------------------------------

    def _refresh_loop(self) -> None:
        while not self._stop.wait(ttl_s() / 3):
            try:
                self.verify()
                if self._fd is not None:
                    self._write_local()
                else:
                    storage.write_bytes_atomic(self.path, self._record())
            except LockLost as e:
                self.lost = str(e)
                log.error("%s", e)
                return
            except OSError as e:  # a transient store error: try again at the next refresh
                log.warning("%s: could not refresh the lease (%s)", self.path, e)

    def verify(self) -> None:
        """Raise LockLost unless the lease on disk is still ours (called before every commit)."""
        if self._outer is not None:
            return self._outer.verify()
        if self.lost:
            raise LockLost(self.lost)
        if self._fd is not None:
            return  # flock held: nobody else can have it
        lease = self._read()
        if not lease or lease.get("token") != self.token:
            self.lost = (f"{self.directory}: lost the lock to {describe(lease or {})}; "
                         "not committing (this run's parts stay unlisted and are cleaned up later)")
            raise LockLost(self.lost)

    def release(self) -> None:
        if self._outer is not None:
            with _HELD_GUARD:
                self._outer._depth -= 1
            self._outer = None
            return
        if self._depth == 0:
            return
        self._depth = 0
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        key = self.path if storage.is_remote(self.path) else os.path.abspath(self.path)
        with _HELD_GUARD:
            _HELD.pop(key, None)
        if self._fd is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # while still flocked: the next writer starts on a new file
            os.close(self._fd)
            self._fd = None
            return
        with contextlib.suppress(OSError):
            lease = self._read()
            if lease and lease.get("token") == self.token:
                storage.remove_file(self.path)

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def read_lease(directory: str) -> dict | None:
    """The lease recorded in `directory`, if any (for messages and `deepcorpus commit`)."""
    return Lock(directory)._read()
