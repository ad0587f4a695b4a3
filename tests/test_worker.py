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


def _descendants(root: int) -> list[int]:
    """Every process under `root` now: Beam's worker clients, the fork server and its workers."""
    from benchmarks.common import _tree

    return sorted(_tree(root) - {root})


def _workers_of(parent: int) -> list[int]:
    return [pid for pid in _descendants(parent) if b"pipelines.worker" in _cmdline(pid) or b"--client" in _cmdline(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return b""


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
@pytest.mark.parametrize("forkserver", ["1", "0"])
def test_local_workers_die_when_the_launcher_is_killed(forkserver):
    env = {**os.environ, "DEEPCORPUS_FORKSERVER": forkserver}
    launcher = subprocess.Popen([sys.executable, "-c", _LAUNCHER], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
    everyone: list[int] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(_workers_of(launcher.pid)) < 2:
            time.sleep(0.5)
        time.sleep(1.0)  # the forked workers are up a moment after their clients
        everyone = _descendants(launcher.pid)
        assert _workers_of(launcher.pid), "no local worker started"
        if forkserver == "1":  # the clients Beam started, the server, and a worker forked for each client
            assert len(everyone) >= 5, [_cmdline(p) for p in everyone]
        else:  # the worker is the launcher's own child (the shell exec'd it), so the kernel can signal it
            assert all(open(f"/proc/{w}/stat").read().rsplit(")", 1)[1].split()[1] == str(launcher.pid)
                       for w in _workers_of(launcher.pid))
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in everyone):
            time.sleep(0.2)
        assert not any(_alive(w) for w in everyone), "workers outlived their launcher"
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for w in everyone:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass


_HELD: list[tuple[str, bool]] = []


def _look_at_finished_stages(_):
    """Run in the last stage, which has no data output: every DataOutputOperation alive belongs to an
    earlier, finished stage's cached bundle processor."""
    import gc

    from apache_beam.runners.worker import bundle_processor

    for obj in gc.get_objects():
        if isinstance(obj, bundle_processor.DataOutputOperation):
            _HELD.append((obj.transform_id, obj.output_stream is not None))


def test_a_finished_stage_lets_its_output_buffer_go():
    import apache_beam as beam

    from pipelines import runner

    _HELD.clear()
    p = runner.new_pipeline(["--direct_running_mode", "in_memory"])
    _ = (p | beam.Create([(i % 7, "x" * 5000) for i in range(2000)])  # ~10 MB through the first output
         | beam.GroupByKey() | beam.Map(lambda kv: len(kv[1])) | "One" >> beam.combiners.Count.Globally()
         | beam.Map(_look_at_finished_stages))
    p.run().wait_until_finish()
    assert _HELD, "no finished stage's bundle processor was found: the check saw nothing"
    assert not [name for name, holds in _HELD if holds], _HELD
