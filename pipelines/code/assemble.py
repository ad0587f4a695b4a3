"""One repository's kept files -> one repository-level document (the `code_repo` contract).

Files are ordered by DeepSeek-Coder's dependency sort when at least one in-repository dependency
was found, and in a seeded random order otherwise (what Coder-V2 did for every repository); the
row's `order` says which. Each file starts with a comment giving its path, in the comment syntax
of its language (`deepcorpus/data/code_comment_syntax.json`).
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from dataclasses import dataclass

from deepcorpus.core.text import approx_token_count, content_hash
from pipelines.code.dependencies import SourceFile, dependency_graph
from pipelines.code.licenses import license_rank
from pipelines.code.quality import quality_signals
from pipelines.code.toposort import dependency_order, random_order, violations

COMMENTS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "deepcorpus", "data", "code_comment_syntax.json")
DEFAULT_COMMENT = ("#", "")


@dataclass(frozen=True)
class AssembleConfig:
    seed: int = 0
    ordering: str = "dependency"  # "dependency": sort where dependencies were found; "random": always shuffle


@functools.lru_cache(maxsize=1)
def comment_syntax() -> dict[str, tuple[str, str]]:
    with open(COMMENTS_FILE, encoding="utf-8") as f:
        data = json.load(f)
    # The 338 Coder-V2 languages, then the extras users may keep (Markdown, YAML...).
    return {k: (v[0], v[1]) for k, v in {**data.get("extras", {}), **data["comments"]}.items()}


def path_comment(path: str, language: str) -> str:
    """`# pkg/mod.py`, `// src/main.c`, `<!-- web/index.html -->` ..."""
    prefix, suffix = comment_syntax().get(language, DEFAULT_COMMENT)
    return f"{prefix} {path}{suffix}"


def order_files(files: list[SourceFile], config: AssembleConfig, key: str,
                context: dict[str, str] | None = None) -> tuple[list[str], str, dict[str, set[str]]]:
    """(paths in order, "dependency" or "random", the dependency graph)."""
    if config.ordering == "dependency":
        graph = dependency_graph(files, context)
    else:
        graph = {f.path: set() for f in files}
    if any(graph.values()):
        return dependency_order(graph, config.seed, key), "dependency", graph
    return random_order([f.path for f in files], config.seed, key), "random", graph


def _most_common(values) -> str | None:
    values = [v for v in values if v]
    return Counter(values).most_common(1)[0][0] if values else None


def assemble_repo(repo: str, records: list[dict], config: AssembleConfig | None = None) -> dict:
    """A code_repo row from the kept file records of one repository (each with path, language, text).
    Records marked `context` (go.mod) inform dependency resolution and are not part of the text."""
    config = config or AssembleConfig()
    context = {r["path"]: r["text"] for r in records if r.get("context")}
    records = sorted((r for r in records if not r.get("context")), key=lambda r: r["path"])
    if not records:
        raise ValueError(f"{repo}: no files to assemble")
    by_path = {r["path"]: r for r in records}
    files = [SourceFile(r["path"], r["language"], r["text"]) for r in records]
    order, how, graph = order_files(files, config, repo, context)
    parts = []  # comment, newline, body (ending in a newline), a newline between files: one join
    for path in order:
        r = by_path[path]
        if parts:
            parts.append("\n")
        parts += (path_comment(path, r["language"]), "\n", r["text"])
        if not r["text"].endswith("\n"):
            parts.append("\n")
    text = "".join(parts)
    license_id = _most_common(r.get("license") for r in records)
    stars = max((r["stars"] for r in records if r.get("stars") is not None), default=None)
    revision = max((r["revision_date"] for r in records if r.get("revision_date")), default=None)
    languages = [lang for lang, _ in Counter(r["language"] for r in records).most_common()]
    quality = quality_signals([by_path[p] for p in order], graph)
    quality["order_violations"] = float(violations(order, graph))
    chash = content_hash(text)
    return {
        "id": f"{repo}#{chash[:10]}",
        "repo": repo,
        "text": text,
        "files": [{"path": p, "language": by_path[p]["language"], "bytes": len(by_path[p]["text"].encode())}
                  for p in order],
        "languages": languages,
        "order": how,
        "license": license_id,
        "stars": stars,
        "token_count": approx_token_count(text),
        "content_hash": chash,
        "quality": quality,
        "revision_date": revision,  # not a contract column: used to rank duplicates, then dropped
    }


def _descending(s: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in s)


def keep_rank(row: dict) -> tuple:
    """Which copy of a duplicate cluster to keep (smallest wins): permissive license first, then
    more stars, then the latest revision, then the id (The Stack v2's choice)."""
    revision = row.get("revision_date")
    return (license_rank(row.get("license")), -(row.get("stars") or 0),
            0 if revision else 1, _descending(revision or ""), str(row["id"]))
