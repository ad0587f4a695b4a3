"""Repositories as users bring them, turned into one record per file.

An input is any of:
- a git work tree or a bare repository: HEAD's tree, read with `git ls-tree` and `git cat-file`
  (untracked and ignored files of a work tree are not part of the repository);
- a plain folder: treated as one repository (`.git` folders skipped);
- a `.tar.gz`/`.tgz`/`.tar`/`.zip` archive, as GitHub serves them (the single top-level folder
  `NAME-SHA/` is stripped);
- a JSONL or Parquet listing of files with `repo`, `path`, `content` and optional `license`, `stars`
  (`max_stars_count` as in The Stack), `revision_date`;
- a folder holding any of the above: each entry is one input.

`discover(spec)` does the cheap listing on the driver; `read_unit(unit)` reads one repository (on
a worker) and yields file records: {repo, path, content (bytes), license, stars, revision_date}.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError
from pipelines.code.licenses import detect_license, is_license_file, normalize_license

log = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz", ".zip")
LISTING_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".parquet")
# A file bigger than this is not read at all (it would be dropped as too large anyway).
DEFAULT_MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class RepoUnit:
    """One thing to read: kind is "git", "bare", "folder", "archive" or "listing". A listing unit
    may stand for every file of a glob (`pattern`), read on the workers; `path` is its first file."""

    kind: str
    path: str
    name: str
    pattern: str = ""

    def __post_init__(self):
        if not self.pattern:
            object.__setattr__(self, "pattern", self.path)


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for s in suffixes:
        if name.endswith(s):
            return name[: -len(s)]
    return name


def is_git_work_tree(path: str) -> bool:
    return os.path.exists(os.path.join(path, ".git"))


def is_bare_repo(path: str) -> bool:
    return all(os.path.exists(os.path.join(path, p)) for p in ("HEAD", "objects", "refs"))


def classify(path: str) -> RepoUnit | None:
    """What a single path is, or None when it is none of the input kinds."""
    name = storage.basename(path)
    if name.endswith(ARCHIVE_SUFFIXES):
        return RepoUnit("archive", path, _strip_suffix(name, ARCHIVE_SUFFIXES))
    if name.endswith(LISTING_SUFFIXES):
        return RepoUnit("listing", path, name)
    if not storage.is_remote(path) and os.path.isdir(path):
        if is_git_work_tree(path):
            return RepoUnit("git", path, name)
        if is_bare_repo(path):
            return RepoUnit("bare", path, _strip_suffix(name, (".git",)))
        return RepoUnit("folder", path, name)
    return None


def discover(spec: str) -> list[RepoUnit]:
    """The repositories and listings an --input names; a one-line UserError when there are none."""
    spec = spec.rstrip("/") or "/"
    paths = storage.expand(spec)
    if not paths:
        raise UserError(f"{spec}: no such file or folder")
    if len(paths) > 1 and all(p.endswith(LISTING_SUFFIXES) for p in paths) and \
            len({p.endswith(".parquet") for p in paths}) == 1:
        # A glob of listings (The Stack's thousands of Parquet files): one unit, read on the
        # workers by pattern; the launcher reads one footer (or first line), never the data.
        check_listing(paths[0])
        return [RepoUnit("listing", paths[0], storage.basename(paths[0]), pattern=spec)]
    units: list[RepoUnit] = []
    for path in paths:
        if storage.is_dir(path):
            units += _discover_dir(path)
        else:
            unit = classify(path)
            if unit is None:
                raise UserError(f"{path}: not a repository, archive ({', '.join(ARCHIVE_SUFFIXES)}) "
                                f"or listing ({', '.join(LISTING_SUFFIXES)})")
            units.append(unit)
    if not units:
        raise UserError(f"{spec}: holds no repositories, archives or listings")
    checked: set[bool] = set()
    for unit in units:  # one footer per kind of listing: the workers check the others as they read
        if unit.kind == "listing" and unit.path.endswith(".parquet") not in checked:
            check_listing(unit.path)
            checked.add(unit.path.endswith(".parquet"))
    return units


# Each column under our name first, then The Stack's.
_FIELDS = (("repo", "repo_name", "max_stars_repo_name"), ("path", "max_stars_repo_path"), ("content",))


def check_listing(path: str) -> None:
    """Refuse a listing without repository, path and content columns before any work starts."""
    from deepcorpus.core import datasets

    if path.endswith(".parquet"):
        names = set(datasets.parquet_schema(path).names)
    else:
        first = next(iter(datasets.iter_jsonl(path)), None)
        if first is None:
            raise UserError(f"{path}: empty listing")
        names = set(first)
    missing = [options[0] for options in _FIELDS if not set(options) & names]
    if missing:
        raise UserError(f"{path}: listing lacks {', '.join(missing)} (needs repo, path and content columns)")


def _discover_dir(path: str) -> list[RepoUnit]:
    """A repository itself, or a folder of repositories: loose source files at the top make it one."""
    if not storage.is_remote(path) and (is_git_work_tree(path) or is_bare_repo(path)):
        return [classify(path)]
    entries = [e for e in storage.listdir(path) if not storage.basename(e).startswith(".")]
    children = [classify(e) for e in entries]
    loose = [e for e in entries if not storage.is_dir(e) and classify(e) is None]
    if loose and not storage.is_remote(path):
        return [RepoUnit("folder", path, storage.basename(path))]
    return [c for c in children if c is not None]


# --- reading one repository ---------------------------------------------------------------------


def _git(args: list[str], cwd_args: list[str], **kw) -> subprocess.CompletedProcess:
    # safe.directory: a repository checked out by another user is still only read here.
    return subprocess.run(["git", "-c", "safe.directory=*", *cwd_args, *args], capture_output=True, check=True, **kw)


def _read_git(unit: RepoUnit, max_bytes: int) -> tuple[str | None, str | None, Iterator[tuple[str, bytes | None]]]:
    """(license, HEAD's commit date, files) of HEAD's tree; blobs stream from one `git cat-file
    --batch`, so a large repository never sits in memory whole. Too large files come as (path, None)."""
    where = ["--git-dir", unit.path] if unit.kind == "bare" else ["-C", unit.path]
    try:
        date = _git(["log", "-1", "--format=%cI", "HEAD"], where, text=True).stdout.strip() or None
        listing = _git(["ls-tree", "-r", "-z", "--long", "HEAD"], where).stdout
    except subprocess.CalledProcessError as e:
        log.warning("%s: no readable HEAD (%s); skipped", unit.path, e.stderr.decode(errors="replace").strip())
        return None, None, iter(())
    wanted, too_large = [], []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, raw_path = entry.split(b"\t", 1)
        mode, kind, sha, size = meta.split()
        if kind != b"blob" or mode == b"120000":  # submodules and symlinks are not file content
            continue
        path = raw_path.decode("utf-8", "surrogateescape")
        if int(size) > max_bytes:
            too_large.append(path)
        else:
            wanted.append((path, sha.decode()))
    license_id = None
    for path, sha in wanted:
        if is_license_file(path):
            text = _git(["cat-file", "blob", sha], where).stdout.decode("utf-8", "replace")
            license_id = detect_license(text)
            if license_id:
                break
    return license_id, date, _stream_blobs(where, wanted, too_large)


def _stream_blobs(where: list[str], wanted: list[tuple[str, str]], too_large: list[str]):
    for path in too_large:
        yield path, None
    if not wanted:
        return
    proc = subprocess.Popen(["git", "-c", "safe.directory=*", *where, "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    # Feed the names from a thread: git answers while we read, and neither pipe fills up.
    import threading

    def feed():
        try:
            for _, sha in wanted:
                proc.stdin.write(f"{sha}\n".encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        for path, _ in wanted:
            header = proc.stdout.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                raise OSError(f"git cat-file gave {header!r} for {path}")
            size = int(header[2])
            content = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after each object
            yield path, content
    finally:
        proc.stdout.close()
        proc.wait()
        feeder.join()


def _read_folder(unit: RepoUnit, max_bytes: int) -> tuple[str | None, str | None, Iterator[tuple[str, bytes | None]]]:
    """(license from a root LICENSE file, newest modification time, files read lazily)."""
    entries, newest = [], 0.0
    for root, dirs, names in os.walk(unit.path):
        dirs[:] = sorted(d for d in dirs if d != ".git" and not os.path.islink(os.path.join(root, d)))
        for name in sorted(names):
            full = os.path.join(root, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            st = os.stat(full)
            entries.append((os.path.relpath(full, unit.path).replace(os.sep, "/"), full, st.st_size))
            newest = max(newest, st.st_mtime)
    license_id = None
    for rel, full, size in entries:
        if is_license_file(rel) and size <= max_bytes:
            with open(full, "rb") as f:
                license_id = detect_license(f.read().decode("utf-8", "replace"))
            if license_id:
                break

    def files():
        for rel, full, size in entries:
            if size > max_bytes:
                yield rel, None
                continue
            with open(full, "rb") as f:
                yield rel, f.read()

    return license_id, _iso(newest), files()


def _iso(timestamp: float) -> str | None:
    if not timestamp:
        return None
    import datetime as _dt

    return _dt.datetime.fromtimestamp(timestamp, _dt.timezone.utc).isoformat(timespec="seconds")


def _strip_top_folder(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """GitHub archives hold everything under one `NAME-SHA/` folder: drop it."""
    tops = {p.split("/", 1)[0] for p, _ in files}
    if len(tops) == 1 and all("/" in p for p, _ in files):
        return [(p.split("/", 1)[1], c) for p, c in files]
    return files


def _read_raw(path: str) -> bytes:
    """The archive's bytes as stored (storage.read_bytes would already gunzip a .tar.gz)."""
    fs, p = storage.filesystem(path)
    with fs.open_input_file(p) as f:
        return f.read()


def _read_archive(unit: RepoUnit, max_bytes: int) -> tuple[str | None, str | None, Iterator[tuple[str, bytes | None]]]:
    """(license, newest member time, files); an archive is read whole (it is one object in storage)."""
    files, too_large, newest = [], 0, 0.0
    try:
        data = _read_raw(unit.path)
        if unit.path.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if info.is_dir():
                        continue
                    if info.file_size > max_bytes:
                        too_large += 1
                        continue
                    files.append((info.filename, z.read(info)))
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as t:
                for member in t:
                    if not member.isfile():  # links, devices, folders
                        continue
                    if member.size > max_bytes:
                        too_large += 1
                        continue
                    newest = max(newest, float(member.mtime or 0))
                    f = t.extractfile(member)
                    files.append((member.name, f.read() if f else b""))
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
        reason = str(e)
        if "could not be opened successfully" in reason:  # tarfile tried every compression it knows
            reason = "not a tar archive, plain or compressed with gzip, bzip2 or xz"
        raise UserError(f"{unit.path}: not a readable archive ({reason})") from None
    files = [(posixpath.normpath(p).lstrip("./"), c) for p, c in files]
    files = [(p, c) for p, c in _strip_top_folder(files) if not p.startswith("../") and "/.git/" not in f"/{p}"]
    license_id = next((lic for p, c in files if is_license_file(p)
                       for lic in [detect_license(c.decode("utf-8", "replace"))] if lic), None)
    return license_id, _iso(newest), iter(files + [("", None)] * too_large)


READERS = {"git": _read_git, "bare": _read_git, "folder": _read_folder, "archive": _read_archive}


def read_unit(unit: RepoUnit, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Iterator[dict]:
    """File records of one repository (not for listings: those are read row by row). Files over
    `max_bytes` are not read; they come as records with `skip: "too_large"` so they are counted."""
    license_id, date, files = READERS[unit.kind](unit, max_bytes)
    for path, content in files:
        if content is None:
            yield {"repo": unit.name, "path": path or None, "content": None, "skip": "too_large"}
            continue
        yield {"repo": unit.name, "path": path, "content": content, "license": license_id, "stars": None,
               "revision_date": date}


def decode_text(content: bytes, min_confidence: float = 0.8) -> tuple[str | None, str | None]:
    """(text, encoding): UTF-8 first; otherwise the charset cchardet detects with at least
    `min_confidence` (The Stack v2 kept such files too); (None, None) when neither works."""
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        import cchardet
    except ImportError:
        return None, None
    guess = cchardet.detect(content)
    encoding = (guess.get("encoding") or "").lower()
    if not encoding or encoding.startswith(("utf-16", "utf-32")) or (guess.get("confidence") or 0.0) < min_confidence:
        return None, None  # UTF-16/32 text would have failed the NUL test: such a guess is noise
    try:
        return content.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        return None, None


def listing_record(row: dict, source: str) -> dict:
    """A listing row (The Stack's column names accepted too) as a file record."""
    repo = row.get("repo") or row.get("repo_name") or row.get("max_stars_repo_name")
    path = row.get("path") or row.get("max_stars_repo_path")
    content = row.get("content")
    if repo is None or path is None or content is None:
        raise UserError(f"{source}: listing rows need 'repo', 'path' and 'content' (got {sorted(row)[:8]})")
    stars = row.get("stars", row.get("max_stars_count"))
    license_value = row.get("license", row.get("licenses", row.get("max_stars_repo_licenses")))
    return {
        "repo": str(repo),
        "path": str(path).lstrip("/"),
        "content": content.encode("utf-8", "surrogatepass") if isinstance(content, str) else bytes(content),
        "license": normalize_license(license_value),
        "stars": int(stars) if stars is not None else None,
        "revision_date": row.get("revision_date") or row.get("max_stars_repo_head_date"),
    }
