"""Paths that may be local, gs://, s3:// or https://, behind one small interface.

pyarrow's filesystems cover local disk, GCS and S3 (the same code path on a laptop and on
Dataflow workers); https:// is read-only and streamed with urllib, since Common Crawl serves its
public paths that way and neither pyarrow nor Beam has an https filesystem.
"""

from __future__ import annotations

import glob as _glob
import os
import urllib.request
from typing import BinaryIO

import pyarrow.fs as pafs

REMOTE_SCHEMES = ("gs://", "s3://")


def is_remote(path: str) -> bool:
    return path.startswith(REMOTE_SCHEMES)


def is_http(path: str) -> bool:
    return path.startswith(("http://", "https://"))


def filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) for a local, gs:// or s3:// path."""
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
    fs, p = filesystem(path)
    infos = fs.get_file_info(pafs.FileSelector(p, recursive=False))
    prefix = path.rstrip("/")
    return sorted(join(prefix, info.base_name) for info in infos)


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


def open_read(path: str) -> BinaryIO:
    """A binary stream over a local, remote or https file, read sequentially."""
    if is_http(path):
        return urllib.request.urlopen(path)  # noqa: S310 - user-given data URL
    fs, p = filesystem(path)
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


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write to a temporary name beside `path`, then rename, so readers never see half a file."""
    tmp = join(parent(path), f".{basename(path)}.tmp-{os.getpid()}")
    with open_write(tmp) as f:
        f.write(data)
    move(tmp, path)


def move(src: str, dst: str) -> None:
    fs, s = filesystem(src)
    _, d = filesystem(dst)
    fs.move(s, d)


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
