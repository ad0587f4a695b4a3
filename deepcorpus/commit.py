"""`deepcorpus commit DIR`: finish the commit of a write whose pipeline finished but whose launcher
died (killed, or its machine lost) before writing the manifest.

A Beam write records the manifest-to-be (`_pending-RUN.json`) before its pipeline starts, and the
pipeline writes the list of its parts (`_parts-RUN.json`) as its last step; together they are the
whole commit, so this command writes the manifest from them without reading a part. It takes the
output's lock first (it refuses while the writer still holds it: its lease expires
`DEEPCORPUS_LOCK_TTL_S` after its last refresh, at once when its process is gone from this
machine), then removes what no manifest lists. Running it again changes nothing.

Given a run directory (`out/math`), it does this for every dataset below it with a pending write.
"""

from __future__ import annotations

import sys

from deepcorpus.core import datasets, locks, storage
from deepcorpus.core.command import command_parser
from deepcorpus.core.errors import UserError


def _pending_below(root: str) -> list[str]:
    """Directories under `root` (itself included) that hold a pending write's record."""
    found = storage.expand(storage.join(root, "**", f"{datasets.PENDING_PREFIX}*.json"))
    found += storage.expand(storage.join(root, f"{datasets.PENDING_PREFIX}*.json"))
    return sorted({storage.parent(f) for f in found})


def commit_one(path: str, command: list[str] | None) -> str:
    with locks.Lock(path, command=command) as lock:
        message, _ = datasets.finish_pending(path, lock=lock)
    storage.remove_empty_dir(path)
    return message


def run(args) -> int:
    for spec in args.dirs:
        if not storage.is_dir(spec):
            raise UserError(f"{spec}: {'a file, not a' if storage.exists(spec) else 'no such'} directory")
        names = storage.entries(spec)
        if datasets.MANIFEST in names or datasets.pending_runs(spec):
            print(commit_one(spec, args.command_line))
            continue
        below = _pending_below(spec)
        if not below:
            raise UserError(f"{spec}: no dataset and no unfinished write to commit here or below")
        for path in below:
            print(commit_one(path, args.command_line))
    sys.stdout.flush()
    return 0


def register(sub) -> None:
    p = command_parser(sub, "commit", "Finish the commit of a write whose pipeline finished but whose launcher died.", [
        "deepcorpus commit out/tokens",
        "deepcorpus commit out/math            # every dataset below the run directory with a pending write",
        "deepcorpus commit gs://B/tokens",
    ])
    p.add_argument("dirs", nargs="+", metavar="DIR", help="a dataset directory, or a run directory above datasets")
    p.set_defaults(func=run)
