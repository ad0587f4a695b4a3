"""What an output was made from, so a rerun reuses it only when nothing it depends on changed.

A fingerprint has three parts, each recorded in the output's manifest (or a step's metrics file):

- `inputs`: path -> identity. A file's identity is its size and modification time (on gs:// and
  s3:// the object's update time, which every rewrite changes; pyarrow does not expose GCS
  generations); a deepcorpus dataset's is the run id of its commit (a new commit is a new run);
  an https:// URL is taken as immutable (Common Crawl's are).
- `options`: the settings that decide the output, as plain JSON.
- `code`: a hash of the pipeline code (`code_fingerprint`), so a changed implementation recomputes.

`changes(recorded, current)` says in words what differs ("option threshold: 0.5 -> 0.95").
"""

from __future__ import annotations

import functools
import hashlib
import json
import os

from deepcorpus.core import storage

# Above this many input files the manifest keeps one digest of them all instead of one entry each
# (a Common Crawl snapshot is ~90,000 files): the record stays O(1) in the input.
MAX_LISTED = 1000

# The packages whose code decides what a pipeline writes (model/ and train/ do not).
CODE_PACKAGES = ("deepcorpus", "pipelines", "dedup", "classifiers", "formal")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (16 hex) of the .py files of the packages in CODE_PACKAGES, as installed."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    h = hashlib.sha256()
    for pkg in CODE_PACKAGES:
        base = os.path.join(root, pkg)
        files = []
        for folder, dirs, names in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "samples"))
            files += [os.path.join(folder, n) for n in names if n.endswith(".py")]
        for path in sorted(files):
            h.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:16]


def input_identity(paths: list[str]) -> dict[str, str]:
    """path -> identity for each input (see the module docstring); one listing call per batch."""
    from deepcorpus.core import datasets  # the manifest reader (which imports this module)

    out: dict[str, str] = {}
    paths = list(dict.fromkeys(paths))
    for path in paths:
        if storage.is_http(path):
            out[path] = "url"
    for path, (kind, size, mtime) in _stats([p for p in paths if p not in out]).items():
        if kind == "missing":
            out[path] = "missing"
        elif kind == "dir" and storage.exists(storage.join(path, datasets.MANIFEST)):
            m = datasets.read_manifest(path)
            out[path] = f"dataset {m.get('run_id') or m.get('created')} ({m.get('row_count')} rows)"
        else:
            out[path] = f"{size}:{mtime}"
    if len(out) > MAX_LISTED:
        digest = hashlib.sha256(json.dumps(sorted(out.items())).encode()).hexdigest()[:16]
        return {"*": f"{len(out)} inputs, digest {digest}"}
    return dict(sorted(out.items()))


def _stats(paths: list[str]) -> dict[str, tuple[str, int, int]]:
    """(kind, size, mtime_ns) per path, asked of each filesystem in one batch."""
    import pyarrow.fs as pafs

    by_fs: dict[str, list[str]] = {}
    for p in paths:
        by_fs.setdefault(p.split("/", 3)[2] if storage.is_remote(p) else "", []).append(p)  # per bucket
    out = {}
    kinds = {pafs.FileType.NotFound: "missing", pafs.FileType.Directory: "dir"}
    for group in by_fs.values():
        fs, _ = storage.filesystem(group[0])
        infos = fs.get_file_info([p.split("://", 1)[1] if storage.is_remote(p) else os.path.abspath(p)
                                  for p in group])
        for p, info in zip(group, infos):
            out[p] = (kinds.get(info.type, "file"), info.size or 0, info.mtime_ns or 0)
    return out


def plain(obj):
    """Options as plain JSON (tuples become lists, paths and enums strings), for the record."""
    return json.loads(json.dumps(obj, default=str, sort_keys=True))


def make(inputs: list[str], options: dict, base: str | None = None) -> dict:
    """The fingerprint of a step: its inputs' identities, its options and the code. Inputs inside
    `base` (a run directory) are named relative to it, so a copied or moved run still resumes."""
    return {"inputs": relative(input_identity(inputs), base), "options": plain(options), "code": code_fingerprint()}


def relative(ids: dict[str, str], base: str | None) -> dict[str, str]:
    """`ids` with the paths inside `base` named relative to it (`iter_1/collected`)."""
    if base is None:
        return ids
    prefix = base.rstrip("/") + "/"
    return {(p[len(prefix):] if p.startswith(prefix) else p): v for p, v in ids.items()}


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def changes(recorded: dict | None, current: dict) -> list[str]:
    """What differs between a recorded fingerprint and the current one, in words ([] = nothing)."""
    if not recorded:
        return ["it records no fingerprint (made by an older deepcorpus)"]
    out = []
    old_in, new_in = recorded.get("inputs") or {}, current.get("inputs") or {}
    for path in sorted(set(old_in) | set(new_in)):
        if path not in old_in:
            out.append(f"input {path} is new")
        elif path not in new_in:
            out.append(f"input {path} is no longer given")
        elif old_in[path] != new_in[path]:
            out.append(f"input {path} changed ({old_in[path]} -> {new_in[path]})")
    old_opt, new_opt = recorded.get("options") or {}, current.get("options") or {}
    for name in sorted(set(old_opt) | set(new_opt)):
        if old_opt.get(name) != new_opt.get(name):
            out.append(f"option {name}: {_short(old_opt.get(name))} -> {_short(new_opt.get(name))}")
    if recorded.get("code") != current.get("code"):
        out.append(f"the code changed ({recorded.get('code')} -> {current.get('code')})")
    return out
