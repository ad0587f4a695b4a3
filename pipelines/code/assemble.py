"""One repository's kept files -> one repository-level document (the `code_repo` contract).

Files are ordered by DeepSeek-Coder's dependency sort when at least one in-repository dependency
was found, and in a seeded random order otherwise (what Coder-V2 did for every repository); the
row's `order` says which. Each file starts with a comment giving its path, in the comment syntax
of its language (`deepcorpus/data/code_comment_syntax.json`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass

from deepcorpus.core.text import approx_token_count
from pipelines.code.dependencies import SourceFile, dependency_graph
from pipelines.code.licenses import license_rank
from pipelines.code.quality import TOKENS, file_stats, quality_signals
from pipelines.code.toposort import dependency_order, edge_report, random_order, violations

COMMENTS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "deepcorpus", "data", "code_comment_syntax.json")
DEFAULT_COMMENT = ("#", "")


# DeepSeek-Coder's repository-level samples are bounded by the context; a repository larger than
# this becomes several documents, cut between files along the dependency order. 1 MiB of code is
# ~256K tokens: set it near 4 bytes x the training context for documents of one context each.
DEFAULT_MAX_DOC_BYTES = 1 << 20


@dataclass(frozen=True)
class AssembleConfig:
    seed: int = 0
    ordering: str = "dependency"  # "dependency": sort where dependencies were found; "random": always shuffle
    max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES  # a document's text (a single larger file stays whole)


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


def split_order(order: list[str], sizes: dict[str, int], max_bytes: int) -> list[list[str]]:
    """Consecutive runs of `order` of at most `max_bytes` each (a file larger than that alone)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for path in order:
        if current and used + sizes[path] > max_bytes:
            chunks.append(current)
            current, used = [], 0
        current.append(path)
        used += sizes[path]
    if current:
        chunks.append(current)
    return chunks


def _in_order(repo: str, records: list[dict], config: AssembleConfig):
    """(the document files sorted by path, their order, how it was made, the dependency graph).
    Records marked `context` (go.mod) inform dependency resolution and are not document files."""
    context = {r["path"]: r["text"] for r in records if r.get("context")}
    records = sorted((r for r in records if not r.get("context")), key=lambda r: r["path"])
    if not records:
        raise ValueError(f"{repo}: no files to assemble")
    files = [SourceFile(r["path"], r["language"], r["text"]) for r in records]
    return (records, *order_files(files, config, repo, context))


def assemble_documents(repo: str, records: list[dict], config: AssembleConfig | None = None) -> list[dict]:
    """The code_repo rows of one repository: its files in dependency (or random) order, cut into
    documents of at most `config.max_doc_bytes` between files. Each row's quality holds the
    repository's share of dependency edges the order respects (`dependency_edges_respected`, and
    outside cycles, where it is 1), and which part of how many it is (`repo_part`, `repo_parts`)."""
    config = config or AssembleConfig()
    records, order, how, graph = _in_order(repo, records, config)
    by_path = {r["path"]: r for r in records}
    report = edge_report(order, graph)
    sizes = {p: len(by_path[p]["text"].encode("utf-8", "surrogatepass")) + len(p) + 8 for p in order}
    chunks = split_order(order, sizes, config.max_doc_bytes)
    rows = []
    for k, chunk in enumerate(chunks):
        row = _document(repo, [by_path[p] for p in chunk], how, {p: graph[p] & set(chunk) for p in chunk})
        quality = row["quality"]
        quality.update(
            dependency_edges=float(sum(len(d) for d in graph.values())) if len(chunks) > 1 else quality["dependency_edges"],
            dependency_edges_respected=report["respected"] / report["edges"] if report["edges"] else 1.0,
            acyclic_edges_respected=(report["acyclic_respected"] / report["acyclic_edges"]
                                     if report["acyclic_edges"] else 1.0),
            cycle_edges=float(report["cycle_edges"]),
            repo_part=float(k), repo_parts=float(len(chunks)),
        )
        rows.append(row)
    rows[0]["edge_report"] = report  # counted once per repository; not a contract column
    return rows


def _document(repo: str, ordered: list[dict], how: str, graph: dict[str, set[str]],
              members: list[dict] | None = None) -> dict:
    """One code_repo row from files already in document order. `members`: the same files in the
    order whose ties decide the most common license and the languages' order (default: `ordered`)."""
    members = ordered if members is None else members
    license_id = _most_common(r.get("license") for r in members)
    stars = max((r["stars"] for r in members if r.get("stars") is not None), default=None)
    revision = max((r["revision_date"] for r in members if r.get("revision_date")), default=None)
    languages = [lang for lang, _ in Counter(r["language"] for r in members).most_common()]
    order = [r["path"] for r in ordered]
    stats = file_stats([r["text"] for r in ordered])
    text, chash = text_and_hash(ordered, stats)
    quality = quality_signals(ordered, graph, stats)
    quality["order_violations"] = float(violations(order, graph))
    return {
        "id": f"{repo}#{chash[:10]}",
        "repo": repo,
        "text": text,
        "files": [{"path": r["path"], "language": r["language"], "bytes": len(data)}
                  for r, data in zip(ordered, stats.utf8)],
        "languages": languages,
        "order": how,
        "license": license_id,
        "stars": stars,
        "token_count": document_token_count(ordered, stats),
        "content_hash": chash,
        "quality": quality,
        "revision_date": revision,  # not a contract column: used to rank duplicates, then dropped
    }


def document_text(ordered: list[dict]) -> str:
    """The files (path, language, text) in document order, each after its path comment."""
    parts = []  # comment, newline, body (ending in a newline), a newline between files: one join
    for r in ordered:
        if parts:
            parts.append("\n")
        parts += (path_comment(r["path"], r["language"]), "\n", r["text"])
        if not r["text"].endswith("\n"):
            parts.append("\n")
    return "".join(parts)


def text_and_hash(ordered: list[dict], stats) -> tuple[str, str]:
    """(document_text(ordered), content_hash of it), the hash taken of the files' UTF-8 in `stats`
    (their file_stats) and the path comments': content_hash is sha256 of the text's UTF-8 (hex, 32
    characters), and the UTF-8 of a concatenation is its parts' UTF-8 one after another, so the
    document's text is not encoded again (sha256 reads bytes at C speed; the encode is a copy)."""
    sha = hashlib.sha256()
    for k, (r, data) in enumerate(zip(ordered, stats.utf8)):
        sha.update(b"\n" if k else b"")
        sha.update(path_comment(r["path"], r["language"]).encode("utf-8", "surrogatepass"))
        sha.update(b"\n")
        sha.update(data)
        if not data.endswith(b"\n"):
            sha.update(b"\n")
    return document_text(ordered), sha.hexdigest()[:32]


def document_token_count(ordered: list[dict], stats) -> int:
    """approx_token_count(document_text(ordered)), from the files' token counts in `stats` (their
    file_stats): the document is the path comments and the files with whitespace between, and no
    token (a run of word characters, or one mark) holds whitespace, so the counts add up."""
    comments = "\n".join(path_comment(r["path"], r["language"]) for r in ordered)
    return int(stats.per_file[:, TOKENS].sum()) + approx_token_count(comments)


def assemble_repo(repo: str, records: list[dict], config: AssembleConfig | None = None) -> dict:
    """A code_repo row from the kept file records of one repository (each with path, language, text).
    Records marked `context` (go.mod) inform dependency resolution and are not part of the text."""
    records, order, how, graph = _in_order(repo, records, config or AssembleConfig())
    by_path = {r["path"]: r for r in records}
    return _document(repo, [by_path[path] for path in order], how, graph, members=records)


def _descending(s: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in s)


def keep_rank(row: dict) -> tuple:
    """Which copy of a duplicate cluster to keep (smallest wins): permissive license first, then
    more stars, then the latest revision, then the id (The Stack v2's choice)."""
    revision = row.get("revision_date")
    return (license_rank(row.get("license")), -(row.get("stars") or 0),
            0 if revision else 1, _descending(revision or ""), str(row["id"]))
