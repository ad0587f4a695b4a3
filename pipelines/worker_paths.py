"""Which paths a pipeline's workers can read, checked on the launcher before the first job.

Locally (the FnApiRunner) workers are the launcher's own processes and read whatever it reads. A
remote runner's workers (Dataflow, a portable job service) see object stores, https:// and the
directories declared with `--worker_visible_path` (a shared filesystem; the remote-like harness's
bucket), nothing else of this machine: a local path there fails only after the jobs before it ran,
or reads as an empty or corrupt input. So every path a worker will open is checked here first, and
small local files (benchmarks, a seed sample, a model, an input list) can be staged to
`--temp_location` instead:

    worker_paths.require(options, [("--input", path), ...])        # one-line UserError, exit 2
    path = worker_paths.stage(options, path, "--benchmark")         # the path workers should open
"""

from __future__ import annotations

import hashlib
import os

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, StandardOptions

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

STAGE_MAX_BYTES = 256 * 2**20  # bigger local inputs belong in the bucket, uploaded by the user
STAGED = "deepcorpus-staged"


def remote_runner(options: PipelineOptions) -> str | None:
    """The runner's name when its workers are not this machine's processes, else None."""
    from pipelines.runner import is_local

    return None if is_local(options) else options.view_as(StandardOptions).runner


def visible_prefixes(options: PipelineOptions) -> list[str]:
    from pipelines.runner import DeepcorpusOptions

    return [os.path.abspath(p) for p in (options.view_as(DeepcorpusOptions).worker_visible_path or [])]


def readable(options: PipelineOptions, path: str) -> bool:
    """Whether the pipeline's workers can open `path`."""
    if remote_runner(options) is None or storage.is_remote(path) or storage.is_http(path):
        return True
    full = os.path.abspath(path)
    return any(full == p or full.startswith(p.rstrip("/") + "/") for p in visible_prefixes(options))


def problem(options: PipelineOptions, what: str, path: str) -> str:
    return (f"{what} {path}: a path on this machine, which the workers of {remote_runner(options)} cannot read; "
            "use gs://, s3:// or https:// (or a directory given with --worker_visible_path)")


def require(options: PipelineOptions, paths: list[tuple[str, str]]) -> None:
    """Refuse, in one line naming the option and the path, the first path workers cannot read."""
    for what, path in paths:
        if path and not readable(options, path):
            raise UserError(problem(options, what, path))


def temp_location(options: PipelineOptions) -> str | None:
    gcp = options.view_as(GoogleCloudOptions)
    where = gcp.temp_location or gcp.staging_location
    return where if where and readable(options, where) else None


def stage(options: PipelineOptions, path: str, what: str) -> str:
    """`path` if workers can read it, else a copy under --temp_location (content-addressed, so a
    rerun uploads nothing new); a UserError when there is no such place or the file is too big."""
    if readable(options, path):
        return path
    if storage.is_dir(path):
        raise UserError(f"{problem(options, what, path)} (directories are not staged)")
    size = storage.size(path)
    where = temp_location(options)
    if where is None or size > STAGE_MAX_BYTES:
        reason = "no --temp_location the workers can read to stage it to" if where is None else \
            f"{size / 2**20:.0f} MiB is too big to stage (at most {STAGE_MAX_BYTES // 2**20} MiB)"
        raise UserError(f"{problem(options, what, path)}; {reason}")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    staged = storage.join(where, STAGED, digest.hexdigest()[:16], os.path.basename(path))
    if not storage.exists(staged) or storage.size(staged) != size:
        with open(path, "rb") as src, storage.open_write(staged) as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                dst.write(block)
    return staged
