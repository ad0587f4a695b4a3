"""Paths that may be local, gs://, s3:// or https://, behind one small interface.

pyarrow's filesystems cover local disk, GCS and S3 (the same code path on a laptop and on
Dataflow workers); https:// is read-only and streamed with urllib, since Common Crawl serves its
public paths that way and neither pyarrow nor Beam has an https filesystem.

An object store has no rename: a move is a copy plus a delete, per object. Nothing here renames on
gs:// or s3://; an object write is atomic by itself (the object appears whole when the upload
completes), so `write_bytes_atomic` writes remote objects in place and renames only on local disk.

Endpoints: s3:// honours the AWS SDK's `AWS_ENDPOINT_URL` (MinIO, a local stand-in); gs://
honours `STORAGE_EMULATOR_HOST` (`http://host:port`, as Google's own clients do), talking to it
anonymously.
"""

from __future__ import annotations

import glob as _glob
import os
import uuid
from typing import BinaryIO

import pyarrow.fs as pafs

REMOTE_SCHEMES = ("gs://", "s3://")


def is_remote(path: str) -> bool:
    return path.startswith(REMOTE_SCHEMES)


def is_http(path: str) -> bool:
    return path.startswith(("http://", "https://"))


def filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local, gs:// or s3:// path."""
    if path.startswith("gs://") and os.environ.get("STORAGE_EMULATOR_HOST"):
        scheme, _, host = os.environ["STORAGE_EMULATOR_HOST"].rpartition("://")
        fs = pafs.GcsFileSystem(anonymous=True, endpoint_override=host.rstrip("/"), scheme=scheme or "http")
        return fs, path[len("gs://"):]
    if is_remote(path):
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), os.path.abspath(path)


def join(base: str, *parts: str) -> str:
    if is_remote(base) or is_http(base):
        return "/".join([base.rstrip("/"), *parts])
    return os.path.join(base, *parts)


def parent(path: str) -> str:
    path = path.rstrip("/")
    if is_remote(path):
        return path.rsplit("/", 1)[0]
    return os.path.dirname(os.path.abspath(path))


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def exists(path: str) -> bool:
    if is_http(path):
        return True
    fs, p = filesystem(path)
    return fs.get_file_info(p).type != pafs.FileType.NotFound


def is_dir(path: str) -> bool:
    if is_http(path):
        return False
    fs, p = filesystem(path)
    return fs.get_file_info(p).type == pafs.FileType.Directory


def size(path: str) -> int:
    fs, p = filesystem(path)
    return fs.get_file_info(p).size or 0


def mtime_ns(path: str) -> int:
    fs, p = filesystem(path)
    info = fs.get_file_info(p)
    return info.mtime_ns or 0


def listdir(path: str) -> list[str]:
    """Full paths of the entries directly inside a directory, sorted."""
    return sorted(join(path.rstrip("/"), name) for name in entries(path))


def entries(path: str) -> dict[str, pafs.FileInfo]:
    """The entries directly inside a directory: name -> FileInfo (size, type, mtime), one listing
    (one request per 1000 objects on an object store); {} when there is no such directory."""
    fs, p = filesystem(path)
    try:
        infos = fs.get_file_info(pafs.FileSelector(p, recursive=False, allow_not_found=True))
    except (NotADirectoryError, FileNotFoundError):
        return {}
    return {info.base_name: info for info in infos}


def expand(pattern: str) -> list[str]:
    """Files matching a glob (local or remote); an https URL or a plain path is itself."""
    if is_http(pattern):
        return [pattern]
    if not any(ch in pattern for ch in "*?["):
        return [pattern] if exists(pattern) else []
    if is_remote(pattern):
        import fnmatch

        base = pattern.split("*", 1)[0].rsplit("/", 1)[0]
        fs, p = filesystem(base)
        scheme = pattern.split("://", 1)[0] + "://"
        infos = fs.get_file_info(pafs.FileSelector(p, recursive=True))
        found = [scheme + info.path for info in infos if info.type == pafs.FileType.File]
        return sorted(f for f in found if fnmatch.fnmatch(f, pattern))
    return sorted(_glob.glob(pattern, recursive=True))


def open_read(path: str, *, on_retry=None, policy=None) -> BinaryIO:
    """A binary stream over a local, remote or https file, read sequentially. Remote reads retry,
    honour Retry-After and resume where a failed request stopped (`deepcorpus.core.resumable`);
    `on_retry(reason)` hears of each retry."""
    from deepcorpus.core import resumable

    policy = policy or resumable.DEFAULT_POLICY
    if is_http(path):
        return resumable.ResumableStream(path, resumable.http_opener(path, policy.timeout_s), policy=policy,
                                         on_retry=on_retry)
    fs, p = filesystem(path)
    if is_remote(path):
        return resumable.ResumableStream(path, resumable.file_opener(fs, p), policy=policy, on_retry=on_retry)
    return fs.open_input_stream(p)


def open_random(path: str) -> pafs.NativeFile:
    """A seekable file (local, gs:// or s3://): Parquet readers fetch the footer and the row groups
    they need rather than the whole object."""
    fs, p = filesystem(path)
    return fs.open_input_file(p)


def open_write(path: str) -> BinaryIO:
    fs, p = filesystem(path)
    if not is_remote(path):
        os.makedirs(os.path.dirname(p), exist_ok=True)
    return fs.open_output_stream(p)


def read_bytes(path: str) -> bytes:
    with open_read(path) as f:
        return f.read()


TMP_MARK = ".tmp-"


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Readers see the old content or the new, never half of it. On gs:// and s3:// one object
    write is that already; on local disk: a temporary sibling (`.NAME.tmp-PID-XXXX`), renamed over
    `path`, removed if anything fails. A killed writer's temporary is removed by the next write."""
    if is_remote(path):
        with open_write(path) as f:
            f.write(data)
        return
    p = os.path.abspath(path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    remove_stale_temporaries(p)
    tmp = os.path.join(os.path.dirname(p), f".{os.path.basename(p)}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def remove_stale_temporaries(path: str) -> None:
    """Remove `.NAME.tmp-PID-*` siblings of a local `path` whose process is gone (killed writers)."""
    folder, name = os.path.split(os.path.abspath(path))
    prefix = f".{name}{TMP_MARK}"
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for entry in names:
        if entry.startswith(prefix):
            pid = entry[len(prefix):].split("-", 1)[0]
            if not pid.isdigit() or not pid_alive(int(pid)):
                try:
                    os.unlink(os.path.join(folder, entry))
                except FileNotFoundError:
                    pass


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (a zombie, which holds nothing, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:  # gone since kill(0), unless there is no /proc at all (macOS)
        return not os.path.isdir("/proc")
    except OSError:
        return True


def move(src: str, dst: str) -> None:
    """Rename on local disk. On an object store this is a copy plus a delete per object; the dataset
    protocol never calls it there."""
    fs, s = filesystem(src)
    _, d = filesystem(dst)
    fs.move(s, d)


def remove_file(path: str) -> bool:
    """Delete one file (not a directory); False when it was not there."""
    fs, p = filesystem(path)
    try:
        fs.delete_file(p)
    except FileNotFoundError:
        return False
    return True


def remove_empty_dir(path: str) -> None:
    """Remove a local directory if it is empty (object stores have no empty directories to remove)."""
    if is_remote(path):
        return
    try:
        os.rmdir(path)
    except OSError:
        pass


def makedirs(path: str) -> None:
    fs, p = filesystem(path)
    fs.create_dir(p, recursive=True)


def remove_tree(path: str) -> None:
    fs, p = filesystem(path)
    info = fs.get_file_info(p)
    if info.type == pafs.FileType.Directory:
        fs.delete_dir(p)
    elif info.type == pafs.FileType.File:
        fs.delete_file(p)


def read_text(path: str) -> str:
    """A small text file a user names (a header, an annotation file), as UTF-8; a UserError naming
    the file, and the line for bytes that are not UTF-8, when it is missing or not text."""
    from deepcorpus.core.errors import UserError

    try:
        data = read_bytes(path)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise UserError(f"{path}:{line}: not UTF-8 text (byte 0x{data[e.start]:02x} at column {column})") from None


def peek(path: str, n: int) -> bytes:
    """The first `n` bytes of a file, without reading the rest."""
    with open_read(path) as f:
        return f.read(n)
