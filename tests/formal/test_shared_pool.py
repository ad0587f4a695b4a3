"""One Lean REPL pool per machine, shared by its SDK processes (formal/shared_pool.py), with the STAND-IN REPL."""

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import uuid

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from formal.backends import LeanConfig
from formal.generators import TemplateGenerator
from formal.prover import ProveConfig
from formal.results import VERIFIED, VerifyRequest
from formal.shared_pool import RESERVED_MB, SharedLean, machine_memory_mb, vm_pool_size
from pipelines.formal.transforms import ProveCandidates

STANDIN = f"{sys.executable} {os.path.join(os.path.dirname(__file__), 'standin_repl.py')}"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A second SDK process: acquires the machine's backend for the same config and reports whose it is.
CLIENT = """
import json, os, sys
from formal.backends import LeanConfig
from formal.results import VerifyRequest
from formal.shared_pool import SharedLean
lean = SharedLean(LeanConfig(**json.loads(os.environ["LEAN_CONFIG"]))).acquire()
[r] = lean.verify([VerifyRequest("theorem t : 1 = 1 := rfl", id=str(os.getpid()))])
print(json.dumps({"pid": os.getpid(), "server": lean.describe()["pid"], "status": r.status, "id": r.id}))
"""


def _stop(verifier):
    # Ends the server process (Beam's hard delete: the server exits before it answers).
    with contextlib.suppress(EOFError, ConnectionError):
        verifier._handle.unsafe_hard_delete()


@pytest.fixture
def lean_config():
    # A toolchain of its own per test: its own server (the tag hashes the config).
    return LeanConfig(backend="repl", repl_command=STANDIN, workers=2, memory_mb=None,
                      toolchain=f"stand-in-{uuid.uuid4().hex[:8]}", shared=True)


def test_the_pool_is_sized_from_the_machines_memory():
    assert vm_pool_size(8, 8192, total_mb=64 * 1024) == (64 * 1024 - RESERVED_MB) // 8192 == 7
    assert vm_pool_size(4, 8192, total_mb=128 * 1024) == 4  # --workers caps it
    assert vm_pool_size(4, 8192, total_mb=4096) == 1  # at least one
    assert vm_pool_size(3, None, total_mb=1024) == 3  # no cap per REPL: nothing to size from
    assert 0 < machine_memory_mb() <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


def test_one_pool_serves_two_processes(lean_config):
    handle = SharedLean(lean_config)
    here = handle.acquire()
    try:
        assert (here.name, here.toolchain) == ("repl", lean_config.toolchain)
        [r] = here.verify([VerifyRequest("theorem t : 2 = 2 := rfl", id="launcher")])
        assert r.status == VERIFIED
        server = here.describe()["pid"]
        assert server != os.getpid()  # the pool lives in a process of its own
        env = {**os.environ, "LEAN_CONFIG": json.dumps(dataclasses.asdict(lean_config)),
               "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
        clients = [subprocess.Popen([sys.executable, "-c", CLIENT], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                    text=True) for _ in range(2)]
        reports = [json.loads(c.communicate(timeout=120)[0].strip().splitlines()[-1]) for c in clients]
        assert all(c.returncode == 0 for c in clients)
        assert [r["server"] for r in reports] == [server, server]  # both processes used the one pool
        assert {r["pid"] for r in reports} == {c.pid for c in clients}
        assert [r["status"] for r in reports] == [VERIFIED, VERIFIED]
        assert [r["id"] for r in reports] == [str(c.pid) for c in clients]
        info = here.describe()
        assert info["workers"] == 2
        assert info["stats"]["requests"] == 3
        assert info["stats"]["processes_started"] <= 2  # not 2 per process: 2 for the machine
    finally:
        _stop(here)


def test_prove_step_with_the_machines_shared_pool(lean_config, monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL", "¬\n: False")  # before the server starts: its REPLs inherit it
    cands, _ = TemplateGenerator().formalize([], 5, 1, "set_option maxHeartbeats 400000")
    cands = [c.to_dict() for c in cands]
    try:
        with TestPipeline(runner="FnApiRunner") as p:
            rows = p | beam.Create(cands) | ProveCandidates(lean_config, ProveConfig(attempts=1), batch_size=2)
            assert_that(rows | beam.Map(lambda r: (r["name"], r["status"], r["toolchain"])),
                        equal_to([(c["name"], "verified", lean_config.toolchain) for c in cands]))
    finally:
        _stop(SharedLean(lean_config).acquire())


def test_the_shared_config_fits_this_machine_and_in_memory_runs_do_not_share():
    from pipelines.formal.run import share_lean

    huge = LeanConfig(backend="repl", workers=4, memory_mb=machine_memory_mb())  # one REPL fills the machine
    assert SharedLean(huge).sized_config().workers == 1 and huge.workers == 4
    assert SharedLean(LeanConfig(workers=4, memory_mb=None)).sized_config().workers == 4
    assert SharedLean(huge).tag() == SharedLean(LeanConfig(backend="repl", workers=4, memory_mb=huge.memory_mb)).tag()
    assert SharedLean(huge).tag() != SharedLean(LeanConfig(backend="repl", workers=3, memory_mb=huge.memory_mb)).tag()
    assert share_lean(LeanConfig(backend="repl"), ["--runner", "PortableRunner"])
    assert share_lean(LeanConfig(backend="repl"), [])  # the local multi-process runner
    assert not share_lean(LeanConfig(backend="repl"), ["--direct_running_mode", "in_memory"])
    assert not share_lean(LeanConfig(backend="server"), [])  # a Lean server is shared already


def test_a_server_gone_with_its_process_is_replaced(lean_config):
    lean = SharedLean(lean_config).acquire()
    try:
        before = lean.describe()["pid"]
        _stop(lean)  # as if the SDK process that started it had ended
        [r] = lean.verify([VerifyRequest("theorem t : 3 = 3 := rfl", id="after")])
        assert r.status == VERIFIED and lean.describe()["pid"] != before
    finally:
        _stop(lean)
