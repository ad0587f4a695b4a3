"""What a command may write over: never anything that is not ours.

- A dataset output (`--output` of dedup, tokenize run, math score/decontaminate) may be a new path,
  an empty directory, an unfinished write of ours (only our lock, pending records and parts), or,
  when the command is asked to replace it (`--force`), an existing deepcorpus dataset. A plain
  file, the current directory or one above it, and any directory without our manifest are refused
  in one line naming them, before anything is touched.
- A run directory (`math run`, `code run`, `formal run`, `demo`) is marked by `_deepcorpus.json`,
  naming the command that owns it; a rerun of the same command resumes in it, anything else is
  refused likewise.
- A file output (a report, a query result, a model, a tokenizer) may replace a plain file of that
  name, written atomically; it may not be a directory, nor sit inside a dataset.

Replacing a dataset never deletes its directory: the new write commits its own manifest and then
removes only the parts no manifest lists (`datasets.cleanup`), so foreign files stay where they are.
"""

from __future__ import annotations

import datetime as _dt
import json
import os

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

RUN_MARKER = "_deepcorpus.json"


def _ours_unfinished(names: dict) -> bool:
    """Whether a directory without a manifest holds only what a killed write of ours leaves."""
    from deepcorpus.core import datasets, locks

    markers = {locks.LOCK}
    for name in names:
        if name in markers or name.startswith((datasets.PENDING_PREFIX, datasets.PART_LIST_PREFIX)):
            continue
        if datasets.run_of_part(name) or (name.startswith(".") and storage.TMP_MARK in name):
            continue
        return False
    return any(n == locks.LOCK or n.startswith((datasets.PENDING_PREFIX, datasets.PART_LIST_PREFIX))
               for n in names)


def _refuse_special(path: str) -> None:
    if storage.is_remote(path):
        if path.rstrip("/").count("/") < 3:
            raise UserError(f"{path}: a bucket's root; give a directory inside it")
        return
    here = os.path.realpath(os.getcwd())
    target = os.path.realpath(path)
    if target == here or here.startswith(target.rstrip(os.sep) + os.sep) or target == os.sep:
        what = "the current directory" if target == here else "a directory above the current one"
        raise UserError(f"{path}: is {what}; give a new directory for the output")
    if target == os.path.realpath(os.path.expanduser("~")):
        raise UserError(f"{path}: is the home directory; give a new directory for the output")


def check_dataset_output(path: str, *, replace: bool = False, flag: str = "--force") -> dict | None:
    """Refuse (UserError, one line) to write dataset `path` over anything not ours, or over an
    existing dataset unless `replace`. Returns the existing dataset's manifest, if any. Reads only."""
    from deepcorpus.core import datasets

    _refuse_special(path)
    if not storage.exists(path):
        return None
    if not storage.is_dir(path):
        raise UserError(f"{path}: is a file, not a deepcorpus dataset; refusing to replace it (give another output)")
    names = storage.entries(path)
    if datasets.MANIFEST in names:
        manifest = datasets.read_manifest(path)
        if not replace:
            raise UserError(f"{path}: a {manifest['schema']} dataset ({manifest['row_count']:,} rows) is already "
                            f"there; {flag} replaces it")
        return manifest
    if not names or _ours_unfinished(names):
        return None
    if RUN_MARKER in names:
        raise UserError(f"{path}: is a {_marker(path).get('command', 'deepcorpus')} run directory, not a dataset; "
                        "refusing to write into it")
    raise UserError(f"{path}: a directory that is not a deepcorpus dataset (no {datasets.MANIFEST}); "
                    "refusing to write into it (give a new or empty directory)")


def _marker(path: str) -> dict:
    try:
        data = json.loads(storage.read_bytes(storage.join(path, RUN_MARKER)))
        return data if isinstance(data, dict) else {}
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}


def check_run_output(path: str, command: str) -> None:
    """Refuse a run directory that is not a new or empty one, nor one of the same `command`'s
    (e.g. 'math run') runs. Reads only; `mark_run_output` writes the marker once the lock is held."""
    from deepcorpus.core import datasets

    _refuse_special(path)
    if not storage.exists(path):
        return
    if not storage.is_dir(path):
        raise UserError(f"{path}: is a file, not a run directory; refusing to replace it (give another --output)")
    names = storage.entries(path)
    if RUN_MARKER in names:
        owner = _marker(path).get("command")
        if owner != command:
            raise UserError(f"{path}: a {owner or 'deepcorpus'} run directory, not a {command} one; "
                            "give another --output")
        return
    if datasets.MANIFEST in names:
        raise UserError(f"{path}: is a dataset, not a {command} run directory; give another --output")
    if not names or _ours_unfinished(names):
        return
    raise UserError(f"{path}: a directory that is not a deepcorpus {command} run directory (no {RUN_MARKER}); "
                    "refusing to write into it (give a new or empty directory)")


def mark_run_output(path: str, command: str, command_line: list[str] | None) -> None:
    if storage.exists(storage.join(path, RUN_MARKER)):
        return
    record = {"command": command, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "command_line": command_line}
    storage.write_bytes_atomic(storage.join(path, RUN_MARKER), json.dumps(record, indent=2).encode())


def is_run_dir(path: str, command: str | None = None) -> bool:
    if not storage.exists(storage.join(path, RUN_MARKER)):
        return False
    return command is None or _marker(path).get("command") == command


def check_file_output(path: str) -> None:
    """Refuse a file output that is a directory or lies inside a dataset (it would sit behind the
    manifest's back). A plain file of that name is replaced (atomically) by the caller."""
    from deepcorpus.core import datasets

    if storage.is_http(path):
        raise UserError(f"{path}: cannot write to an http(s) URL")
    if storage.is_dir(path):
        raise UserError(f"{path}: is a directory; give a file name for the output")
    folder = storage.parent(path)
    if storage.exists(storage.join(folder, datasets.MANIFEST)):
        raise UserError(f"{path}: inside the dataset {folder}; write it elsewhere (files there are not the dataset's)")
