"""Shared fixtures: ../shared/data's benchmark files, session directories, a loopback HTTP server."""

import contextlib
import fcntl
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
# Test data, not our tests: tests/data/real_repos holds real repositories (with their own test suites).
collect_ignore_glob = ["data/*"]


@pytest.fixture(scope="session", autouse=True)
def _beam_temp_dirs_removed():
    """Beam gives each Pipeline a local temp dir that only `run()` removes: tests that build a graph
    without running it left an empty `beam-pipeline-temp*` in /tmp each (~150 a day here). The
    pipelines built in this process have theirs removed at the session's end."""
    import shutil

    import apache_beam.pipeline as beam_pipeline

    made: list[str] = []
    real_init = beam_pipeline.Pipeline.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self.local_tempdir)

    beam_pipeline.Pipeline.__init__ = init
    yield
    beam_pipeline.Pipeline.__init__ = real_init
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def shared_data():
    """../shared/data beside the checkout (public benchmark sets); tests that need it skip without it."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"{SHARED_DATA} is not present (the public benchmark sets live there)")
    return SHARED_DATA


@contextlib.contextmanager
def session_dir(tmp_path_factory, name: str):
    """A directory for this test session, shared by all xdist workers; the block runs under a lock.

    Build expensive outputs (a whole pipeline run) once: inside the block, build only if the
    directory is not complete yet. pytest-xdist's `loadgroup` does not keep a group on one worker
    here, so a file lock decides who builds.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # this session's directory, the same for every xdist worker
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield root / name


@pytest.fixture
def one_torch_thread():
    """Torch on one thread for the test: under pytest-xdist on a 2-core box, torch's default intra-op
    threads per worker oversubscribe the cores and small matmuls slow down tenfold."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def http_root(tmp_path):
    """(directory, base URL): `tmp_path` served over loopback HTTP, for https:// inputs."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def remote_like():
    """The remote-like harness (tests/harness/remote_like.py): PortableRunner, Beam's local job service
    and a worker pool that sees only the bucket. `.bucket`, `.beam_args`, `.dir(name)`.

    Uses the harness `.ci/run` started (DEEPCORPUS_REMOTE_LIKE, its state file) or starts one for this
    pytest process and stops it at the end of the session; skips, saying why, where it cannot run."""
    from tests.harness import remote_like as harness

    state = os.environ.get(harness.ENV)
    if state:
        h = harness.attach(state)
        if not h.alive():
            pytest.fail(f"{harness.ENV}={state}: that harness is not running")
        yield h
        return
    why = harness.unavailable()
    if why:
        pytest.skip(why)
    h = harness.start()
    try:
        yield h
    finally:
        h.stop()
