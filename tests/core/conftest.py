"""Local stand-ins for the object stores, on 127.0.0.1, started and stopped by the tests themselves.

- S3: moto's server (`python -m moto.server`), reached through pyarrow's S3FileSystem via the AWS
  SDK's `AWS_ENDPOINT_URL`, as a MinIO or any S3-compatible endpoint would be.
- GCS: gcp-storage-emulator (`python -m gcp_storage_emulator`), reached through pyarrow's
  GcsFileSystem via `STORAGE_EMULATOR_HOST` (anonymous).

They stand in for the real services: the same pyarrow filesystem code paths, object semantics
(no directories, no rename: pyarrow's move is a copy plus a delete) and listing behaviour. The
tests also wrap the filesystem so that any move or copy fails (`no_renames`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pyarrow.fs as pafs
import pytest

from deepcorpus.core import storage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


@contextlib.contextmanager
def _server(argv: list[str], port: int, what: str):
    # Its own process group, so stopping it stops anything it started too.
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, proc, what)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def s3_endpoint():
    pytest.importorskip("moto", reason="moto[server] (the dev extra) stands in for S3")
    port = _free_port()
    with _server([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port, "moto server"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def gcs_endpoint():
    pytest.importorskip("gcp_storage_emulator", reason="gcp-storage-emulator (the dev extra) stands in for GCS")
    port = _free_port()
    argv = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port),
            "--in-memory", "--default-bucket", "deepcorpus-test"]
    with _server(argv, port, "GCS emulator"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def s3_root(s3_endpoint, monkeypatch):
    """A fresh s3:// prefix in a bucket on the local S3 stand-in."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    fs = pafs.S3FileSystem(endpoint_override=s3_endpoint.split("://")[1], scheme="http", region="us-east-1",
                           access_key="test", secret_key="test", allow_bucket_creation=True)
    with contextlib.suppress(OSError):
        fs.create_dir("deepcorpus-test")
    return f"s3://deepcorpus-test/{uuid.uuid4().hex[:8]}"


@pytest.fixture
def gs_root(gcs_endpoint, monkeypatch):
    """A fresh gs:// prefix in a bucket on the local GCS stand-in."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    return f"gs://deepcorpus-test/{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["s3", "gs"])
def object_root(request):
    """Each object store in turn."""
    return request.getfixturevalue("s3_root" if request.param == "s3" else "gs_root")


class NoRenameHandler(pafs.FileSystemHandler):
    """A pyarrow filesystem that delegates to another and fails on move and copy (on an object
    store each is a copy plus a delete per object: the protocol must never need one)."""

    def __init__(self, fs: pafs.FileSystem, calls: list):
        self.fs = fs
        self.calls = calls

    def get_type_name(self):
        return "no-rename"

    def normalize_path(self, path):
        return self.fs.normalize_path(path)

    def equals(self, other):
        return isinstance(other, NoRenameHandler) and self.fs.equals(other.fs)

    def get_file_info(self, paths):
        return self.fs.get_file_info(paths)

    def get_file_info_selector(self, selector):
        return self.fs.get_file_info(selector)

    def create_dir(self, path, recursive):
        self.fs.create_dir(path, recursive=recursive)

    def delete_dir(self, path):
        self.fs.delete_dir(path)

    def delete_dir_contents(self, path, missing_dir_ok=False):
        self.fs.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self):
        self.fs.delete_dir_contents("/", accept_root_dir=True)

    def delete_file(self, path):
        self.fs.delete_file(path)

    def move(self, src, dest):
        self.calls.append(("move", src, dest))
        raise AssertionError(f"rename on an object store: {src} -> {dest}")

    def copy_file(self, src, dest):
        self.calls.append(("copy", src, dest))
        raise AssertionError(f"copy on an object store: {src} -> {dest}")

    def open_input_stream(self, path):
        return self.fs.open_input_stream(path)

    def open_input_file(self, path):
        return self.fs.open_input_file(path)

    def open_output_stream(self, path, metadata):
        return self.fs.open_output_stream(path, metadata=metadata)

    def open_append_stream(self, path, metadata):
        return self.fs.open_append_stream(path, metadata=metadata)


@pytest.fixture
def no_renames(monkeypatch):
    """Every gs:// and s3:// filesystem the code gets fails on move and copy; returns the calls seen."""
    calls: list = []
    real = storage.filesystem

    def wrapped(path):
        fs, p = real(path)
        if storage.is_remote(path):
            return pafs.PyFileSystem(NoRenameHandler(fs, calls)), p
        return fs, p

    monkeypatch.setattr(storage, "filesystem", wrapped)
    monkeypatch.setenv("DEEPCORPUS_LOCK_SETTLE_S", "0.2")
    yield calls
    assert not calls, calls


def env_for(root: str) -> dict:
    """The environment a subprocess needs to reach the stand-in behind `root`."""
    keys = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
            "STORAGE_EMULATOR_HOST")
    return {k: os.environ[k] for k in keys if k in os.environ}
