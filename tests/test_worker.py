"""Local Beam workers die with the command that started them, even when it is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pipelines import worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

_LAUNCHER = textwrap.dedent("""
    import apache_beam as beam
    from pipelines import runner

    def slow(x):
        # A long C loop that holds the GIL, as a tokenizer or a model does: Beam's own worker cannot
        # notice its control channel closing then, and outlives a killed launcher.
        return sum(range(10**11))

    p = runner.new_pipeline(["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"])
    _ = p | beam.Create(list(range(4))) | beam.Reshuffle() | beam.Map(slow)
    p.run().wait_until_finish()
""")


def _workers_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"pipelines.worker" in cmd and str(parent).encode() in cmd:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_worker_command_execs_our_entry_point():
    cmd = worker.command(1234)
    assert cmd.startswith("exec ") and "-m pipelines.worker --parent 1234" in cmd


@pytest.mark.slow
def test_local_workers_die_when_the_launcher_is_killed():
    launcher = subprocess.Popen([sys.executable, "-c", _LAUNCHER], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        workers: list[int] = []
        while time.time() < deadline and not workers:
            time.sleep(0.5)
            workers = _workers_of(launcher.pid)
        assert workers, "no local worker started"
        # The worker is the launcher's own child (the shell exec'd it), so the kernel can signal it.
        assert all(open(f"/proc/{w}/stat").read().rsplit(")", 1)[1].split()[1] == str(launcher.pid) for w in workers)
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "workers outlived their launcher"
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for w in _workers_of(launcher.pid):
            os.kill(w, signal.SIGKILL)
