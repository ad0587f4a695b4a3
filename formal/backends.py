"""The Lean runners behind one interface, and finding one on this machine.

Every backend has `name`, `toolchain`, `verify(requests) -> results` (a batch, verified
concurrently) and `close()`:
- `ReplVerifier`: the local pool of leanprover-community `repl` processes (formal/pool.py);
- `KiminaVerifier`: a Kimina Lean Server over HTTP (formal/kimina.py);
- `LeanFileVerifier`: one `lean --json` process per proof, when Lean is there but the REPL is not
  (formal/lean_file.py);
- LeanDojo, where installed, for tactic-level interaction (formal/leandojo_backend.py).

`detect(LeanConfig)` picks one: `--lean-server` or DEEPCORPUS_LEAN_SERVER, else `--repl-command` or
DEEPCORPUS_REPL_COMMAND, else `repl` on PATH (as `lake env repl` inside `--lean-project` or
DEEPCORPUS_LEAN_PROJECT, e.g. a Mathlib checkout), else `lean` on PATH, one process per proof. With
none, it says in one line how to get one.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from formal.pool import PoolConfig, ReplPool
from formal.repl_process import ProcessConfig
from formal.results import VerifyRequest, VerifyResult

log = logging.getLogger(__name__)

SERVER_ENV = "DEEPCORPUS_LEAN_SERVER"
COMMAND_ENV = "DEEPCORPUS_REPL_COMMAND"
PROJECT_ENV = "DEEPCORPUS_LEAN_PROJECT"
BACKENDS = ("auto", "repl", "server", "leandojo", "none")

INSTALL_HINT = (
    "install Lean with elan (curl -sSf https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh | sh), "
    "build leanprover-community/repl with `lake build` and put its .lake/build/bin on PATH "
    f"(or pass --repl-command), or point --lean-server (or {SERVER_ENV}) at a Kimina Lean Server"
)


class NoLeanRunner(Exception):
    """No way to run Lean here; the message says why and how to get one."""


@dataclass
class LeanConfig:
    backend: str = "auto"  # auto | repl | server | leandojo | none
    lean_server: str | None = None  # URL of a Kimina Lean Server
    repl_command: str | None = None  # e.g. "lake exe repl" (run in lean_project)
    lean_project: str | None = None  # a Lake project directory (e.g. with Mathlib) to run the REPL in
    workers: int = 1  # REPL processes (per Beam worker; per machine when shared)
    memory_mb: int | None = 8192  # RLIMIT_AS per REPL process
    max_uses: int = 200  # commands per REPL process before it is restarted
    max_pending: int = 64
    toolchain: str | None = None  # override the detected Lean version
    runner: str = ""  # what detect() found on the driver (repl, kimina-server, lean-file), for the record
    shared: bool = False  # one backend per machine for all its SDK processes (formal/shared_pool.py)


class ReplVerifier:
    """The local REPL pool as a backend."""

    name = "repl"

    def __init__(self, command: list[str], config: LeanConfig, toolchain: str = "unknown"):
        self.command = command
        self.toolchain = toolchain
        self.pool = ReplPool(PoolConfig(
            ProcessConfig(command, cwd=lean_project(config), memory_limit_mb=config.memory_mb),
            workers=max(1, config.workers), max_uses=config.max_uses, max_pending=config.max_pending,
        ))

    def verify(self, requests: list[VerifyRequest]) -> list[VerifyResult]:
        return self.pool.verify(requests)

    def close(self) -> None:
        self.pool.close()


def lean_project(config: LeanConfig) -> str | None:
    """--lean-project, else DEEPCORPUS_LEAN_PROJECT when that directory exists (set in our image)."""
    if config.lean_project:
        return config.lean_project
    env = os.environ.get(PROJECT_ENV)
    return env if env and os.path.isdir(env) else None


def repl_command(config: LeanConfig) -> list[str] | None:
    """The command that starts a REPL here, or None."""
    if config.repl_command:
        return shlex.split(config.repl_command)
    if os.environ.get(COMMAND_ENV):
        return shlex.split(os.environ[COMMAND_ENV])
    found = shutil.which("repl")
    if found and lean_project(config) and shutil.which("lake"):
        return ["lake", "env", found]  # the project's packages (e.g. Mathlib) on LEAN_PATH
    if found:
        return [found]
    if lean_project(config) and shutil.which("lake"):
        return ["lake", "exe", "repl"]
    return None


def why_none(config: LeanConfig) -> str:
    lean = shutil.which("lean")
    found = f"found `lean` at {lean} but no `repl`" if lean else "`lean` and `repl` are not on PATH"
    return f"no Lean runner: {found} and {SERVER_ENV} is not set; {INSTALL_HINT}"


def detect(config: LeanConfig):
    """A started backend, or raise NoLeanRunner with a one-line reason. `none` raises too."""
    backend = config.backend
    if backend not in BACKENDS:
        raise NoLeanRunner(f"unknown Lean backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "none":
        raise NoLeanRunner("verification turned off (--lean-backend none)")
    server = config.lean_server or os.environ.get(SERVER_ENV)
    if backend == "server" or (backend == "auto" and server):
        if not server:
            raise NoLeanRunner(f"--lean-backend server needs --lean-server URL (or {SERVER_ENV})")
        from formal.kimina import KiminaVerifier

        verifier = KiminaVerifier(server, toolchain=config.toolchain or "", parallel=config.workers)
        if not verifier.health():
            raise NoLeanRunner(f"the Lean server at {server} does not answer GET /health; start it or fix the URL")
        return _with_toolchain(verifier, config)
    if backend == "leandojo":
        from formal.leandojo_backend import LeanDojoVerifier

        return LeanDojoVerifier.create(config)
    command = repl_command(config)
    if command is not None:
        return _with_toolchain(ReplVerifier(command, config), config)
    lean = shutil.which("lean")
    if lean and backend == "auto":
        from formal.lean_file import LeanFileVerifier

        log.warning("no `repl`: checking with one `lean` process per proof (slower: imports every time; "
                    "no sorry goals, so no subgoal decomposition)")
        project = lean_project(config)
        cmd = ["lake", "env", lean] if project and shutil.which("lake") else [lean]
        return _with_toolchain(LeanFileVerifier(cmd, config.workers, config.memory_mb, project), config)
    raise NoLeanRunner(why_none(config))


def _with_toolchain(verifier, config: LeanConfig):
    verifier.toolchain = config.toolchain or probe_toolchain(verifier)
    log.info("Lean runner: %s, Lean %s", verifier.name, verifier.toolchain)
    return verifier


_VERSION = re.compile(r"(\d+\.\d+\.\d+(?:-[\w.]+)?)")


def probe_toolchain(verifier) -> str:
    """Ask the runner's own Lean for its version (`#eval Lean.versionString`); `lean --version` else."""
    try:
        (result,) = verifier.verify([VerifyRequest("#eval Lean.versionString", header="", timeout_s=120, id="version")])
        for m in result.messages:
            match = _VERSION.search(m.data)
            if m.severity == "info" and match:
                return match.group(1)
    except Exception as e:  # the version is a label; failing to read it must not stop the run
        log.debug("could not ask Lean for its version: %s", e)
    lean = shutil.which("lean")
    if lean:
        try:
            out = subprocess.run([lean, "--version"], capture_output=True, text=True, timeout=30).stdout
            match = _VERSION.search(out)
            if match:
                return match.group(1)
        except (OSError, subprocess.SubprocessError):
            pass
    return "unknown"
