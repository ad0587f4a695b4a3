"""Local workers forked from one warm process (pipelines/forkserver.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipelines import forkserver, runner

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, forks")


def _note_parent(x, folder):
    import gc

    with open(os.path.join(folder, f"{os.getpid()}"), "w") as f:
        f.write(f"{os.getppid()} {gc.get_freeze_count()}")
    return x


def test_workers_are_forked_from_the_server_and_run_the_pipeline(tmp_path):
    p = runner.new_pipeline(["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"])
    doubled = (p | beam.Create(list(range(50))) | beam.Reshuffle()
               | beam.Map(_note_parent, str(tmp_path)) | beam.Map(lambda x: 2 * x))
    assert_that(doubled, equal_to([2 * x for x in range(50)]))
    p.run().wait_until_finish()
    proc = forkserver._server[0]
    notes = [open(tmp_path / name).read().split() for name in os.listdir(tmp_path)]
    assert {parent for parent, _ in notes} == {str(proc.pid)}  # every worker that ran a bundle was forked from the server
    # and inherits the server's preloaded heap frozen, out of its own collections (Beam, NumPy,
    # Arrow and our modules are well over 100k objects), so they don't copy it page by page
    assert all(int(frozen) > 100_000 for _, frozen in notes), notes
    forkserver.stop()
    assert proc.poll() is not None and forkserver._server is None  # stopped and waited for


def test_a_worker_that_fails_is_a_client_that_fails(tmp_path):
    path = forkserver.client_command().split("--client ", 1)[1]
    env = {k: v for k, v in os.environ.items() if k != "CONTROL_API_SERVICE_DESCRIPTOR"}  # no runner to talk to
    done = subprocess.run([sys.executable, "-m", "pipelines.forkserver", "--client", path], env=env,
                          capture_output=True, timeout=60)
    assert done.returncode != 0
    forkserver.stop()


def test_it_can_be_turned_off_and_the_client_command_execs(monkeypatch):
    monkeypatch.setenv("DEEPCORPUS_FORKSERVER", "0")
    assert forkserver.client_command() is None
    monkeypatch.setenv("DEEPCORPUS_FORKSERVER", "1")
    cmd = forkserver.client_command(debug=True)
    assert cmd.startswith("exec ") and "-m pipelines.forkserver --client " in cmd and cmd.endswith(" --debug")
    forkserver.stop()
