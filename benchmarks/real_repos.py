"""Small real open-source repositories, with their true import edges, to measure the dependency order.

`real_repos_manifest.json` beside this file is the set's single source of truth: per repository its
source (GitHub owner/name and commit), its licence (SPDX id, checked by reading the licence file,
which is kept with the files), the files taken (path, git blob, sha256) and the true import edges
[importer, dependency] between them. The edges are derived with real parsers (tree-sitter's
grammars for Python, Go, Java, TypeScript and Rust, gcc's own include tracing for C) and each
language's import semantics, independently of `pipelines/code/dependencies.py`'s regexes.

The files (3 MB, each repository with its licence file; MIT, BSD-3-Clause, Apache-2.0/MIT) are
committed in tests/data/real_repos/ so the tests run everywhere; `build` re-materialises them from
clones. The set is looked for (first hit wins) at

    $DEEPCORPUS_REAL_REPOS, tests/data/real_repos/, ../shared/data/real_repos/

    python -m benchmarks.real_repos build --sources DIR [--output tests/data/real_repos]
        # copy the files out of git clones of the sources (DIR/owner+name[/repo] or DIR/owner/name),
        # every file checked by its blob id and sha256
    python -m benchmarks.real_repos measure [--json OUT]
        # per language: our graph against the true edges (precision, recall), and the share of true
        # edges our order respects, outside cycles (the target: 100%) and overall
    python -m benchmarks.real_repos derive --sources DIR
        # (maintainers) recompute the file lists and the true edges; needs tree-sitter and gcc
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MANIFEST = os.path.join(HERE, "real_repos_manifest.json")
DEFAULT_DIR = os.path.join(ROOT, "tests", "data", "real_repos")
SHARED_DIR = os.path.join(os.path.dirname(ROOT), "shared", "data", "real_repos")

# What `derive` takes from each source: the files that make the import graph, and the licence.
SOURCES = [
    {"name": "click", "language": "Python", "repo": "pallets/click", "licence": "BSD-3-Clause",
     "licence_file": "LICENSE.txt", "include": ["src/click/*.py"]},
    {"name": "itsdangerous", "language": "Python", "repo": "pallets/itsdangerous", "licence": "BSD-3-Clause",
     "licence_file": "LICENSE.txt", "include": ["src/itsdangerous/*.py", "tests/test_itsdangerous/*.py"]},
    {"name": "cJSON", "language": "C", "repo": "DaveGamble/cJSON", "licence": "MIT", "licence_file": "LICENSE",
     "include": ["*.c", "*.h", "tests/*.c", "tests/*.h", "fuzzing/*.c"]},
    {"name": "toml", "language": "Go", "repo": "BurntSushi/toml", "licence": "MIT", "licence_file": "COPYING",
     "include": ["*.go", "go.mod", "internal/*.go", "internal/*/*.go", "cmd/*/*.go"]},
    {"name": "jsoup", "language": "Java", "repo": "jhy/jsoup", "licence": "MIT", "licence_file": "LICENSE",
     "include": ["src/main/java/*.java"]},
    {"name": "zustand", "language": "TypeScript", "repo": "pmndrs/zustand", "licence": "MIT",
     "licence_file": "LICENSE", "include": ["src/*.ts", "src/*.tsx"]},
    {"name": "anyhow", "language": "Rust", "repo": "dtolnay/anyhow", "licence": "MIT OR Apache-2.0",
     "licence_file": "LICENSE-MIT", "include": ["src/*.rs"]},
]
LANGUAGE_OF_EXT = {".py": "Python", ".c": "C", ".h": "C", ".go": "Go", ".java": "Java", ".ts": "TypeScript",
                   ".tsx": "TypeScript", ".rs": "Rust"}


def manifest(path: str = MANIFEST) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def locate() -> str | None:
    """The directory holding every repository the manifest names, whole, or None."""
    repos = manifest()["repos"]
    for d in (os.environ.get("DEEPCORPUS_REAL_REPOS"), DEFAULT_DIR, SHARED_DIR):
        if d and all(os.path.isfile(os.path.join(d, r["name"], f["path"])) for r in repos for f in r["files"]):
            return d
    return None


def _git_dir(sources: str, repo: str) -> str:
    owner, name = repo.split("/")
    for base in (os.path.join(sources, f"{owner}+{name}"), os.path.join(sources, owner, name)):
        for g in (os.path.join(base, "repo"), os.path.join(base, ".git"), base):
            if os.path.isdir(os.path.join(g, "objects")):
                return g
    raise SystemExit(f"{sources}: no git clone of {repo} (looked for {owner}+{name} and {owner}/{name})")


def _git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", git_dir, *args], capture_output=True, check=True).stdout


def build(sources: str, output: str) -> None:
    for repo in manifest()["repos"]:
        git_dir = _git_dir(sources, repo["repo"])
        for f in repo["files"]:
            data = _git(git_dir, "cat-file", "blob", f["blob"])
            if hashlib.sha256(data).hexdigest() != f["sha256"]:
                raise SystemExit(f"{repo['repo']}:{f['path']}: sha256 differs from the manifest")
            dest = os.path.join(output, repo["name"], f["path"])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as out:
                out.write(data)
        print(f"{repo['name']}: {len(repo['files'])} files from {repo['repo']}@{repo['commit'][:12]}")


def load_files(directory: str, repo: dict):
    """The repository's code files as SourceFiles, and its context files (go.mod) as {path: text}."""
    from pipelines.code.dependencies import SourceFile

    files, context = [], {}
    for f in repo["files"]:
        if f["path"] == repo["licence_file"]:
            continue
        with open(os.path.join(directory, repo["name"], f["path"]), encoding="utf-8") as fh:
            text = fh.read()
        language = LANGUAGE_OF_EXT.get(os.path.splitext(f["path"])[1])
        if language is None:
            context[f["path"]] = text
        else:
            files.append(SourceFile(f["path"], language, text))
    return files, context


def measure_repo(directory: str, repo: dict) -> dict:
    """Our graph against the true edges, and how many true edges our order respects."""
    from pipelines.code.dependencies import dependency_graph
    from pipelines.code.toposort import dependency_order, edge_report

    files, context = load_files(directory, repo)
    graph = dependency_graph(files, context)
    ours = {(a, b) for a, bs in graph.items() for b in bs}
    truth = {tuple(e) for e in repo["edges"]}
    true_graph: dict[str, set[str]] = {f.path: set() for f in files}
    for a, b in truth:
        true_graph[a].add(b)
    order = dependency_order(graph, 0, repo["name"])
    report = edge_report(order, true_graph)
    return {
        "repo": repo["name"], "language": repo["language"], "files": len(files), "true_edges": len(truth),
        "found_edges": len(ours), "precision": len(ours & truth) / max(len(ours), 1),
        "recall": len(ours & truth) / max(len(truth), 1),
        "missing": sorted(truth - ours), "extra": sorted(ours - truth), **report,
    }


def measure(directory: str) -> list[dict]:
    return [measure_repo(directory, repo) for repo in manifest()["repos"]]


def table(rows: list[dict]) -> str:
    head = f"{'repo':14} {'language':10} {'files':>5} {'edges':>5} {'prec':>6} {'recall':>6} " \
           f"{'outside cycles':>15} {'in cycles':>10} {'overall':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        def share(a, b):
            return f"{a}/{b}" if b else "-"
        lines.append(f"{r['repo']:14} {r['language']:10} {r['files']:5} {r['true_edges']:5} {r['precision']:6.1%} "
                     f"{r['recall']:6.1%} {share(r['acyclic_respected'], r['acyclic_edges']):>15} "
                     f"{share(r['cycle_respected'], r['cycle_edges']):>10} {r['respected'] / max(r['edges'], 1):8.1%}")
    return "\n".join(lines)


# --- deriving the true edges (maintainers; tree-sitter and gcc) -----------------------------------


def derive(sources: str) -> dict:
    from benchmarks import real_repos_truth

    out = {"_doc": "Generated by `python -m benchmarks.real_repos derive`; see benchmarks/real_repos.py.",
           "repos": []}
    for spec in SOURCES:
        git_dir = _git_dir(sources, spec["repo"])
        commit = _git(git_dir, "rev-parse", "HEAD").decode().strip()
        listing = _git(git_dir, "ls-tree", "-r", "HEAD").decode().splitlines()
        files = []
        for line in listing:
            meta, path = line.split("\t", 1)
            _, kind, blob = meta.split()
            if kind != "blob":
                continue
            if path != spec["licence_file"] and not any(_glob(path, pattern) for pattern in spec["include"]):
                continue
            data = _git(git_dir, "cat-file", "blob", blob)
            files.append({"path": path, "blob": blob, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                          "text": data.decode("utf-8", "replace")})
        licence_text = next(f["text"] for f in files if f["path"] == spec["licence_file"])
        real_repos_truth.check_licence(spec["licence"], licence_text)
        code = {f["path"]: f["text"] for f in files if f["path"] != spec["licence_file"]}
        edges = real_repos_truth.true_edges(spec["language"], code)
        out["repos"].append({**{k: v for k, v in spec.items() if k != "include"}, "commit": commit,
                             "files": [{k: f[k] for k in ("path", "blob", "sha256", "bytes")} for f in files],
                             "edges": sorted([list(e) for e in edges])})
        print(f"{spec['name']}: {len(files)} files, {len(edges)} true edges", file=sys.stderr)
    return out


def _glob(path: str, pattern: str) -> bool:
    """fnmatch where `*` stays inside one folder (`src/*.py` is not `src/a/b.py`), except a final
    `*.ext` under a folder that ends the pattern and may go deeper (`src/main/java/*.java`)."""
    if pattern.startswith("src/main/java/") or pattern.startswith("src/*.") and pattern.endswith((".ts", ".tsx", ".rs")):
        return path.startswith(pattern.rsplit("*", 1)[0]) and fnmatch.fnmatch(os.path.basename(path), "*" + pattern.rsplit("*", 1)[1])
    return fnmatch.fnmatch(path, pattern) and path.count("/") == pattern.count("/")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="materialise the repositories from git clones of their sources")
    b.add_argument("--sources", required=True)
    b.add_argument("--output", default=DEFAULT_DIR)
    m = sub.add_parser("measure", help="edges respected per language")
    m.add_argument("--json")
    d = sub.add_parser("derive", help="recompute file lists and true edges (tree-sitter, gcc)")
    d.add_argument("--sources", required=True)
    args = ap.parse_args(argv)
    if args.command == "build":
        build(args.sources, args.output)
    elif args.command == "derive":
        data = derive(args.sources)
        with open(MANIFEST, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
    else:
        directory = locate()
        if directory is None:
            raise SystemExit("the real repositories are not here: python -m benchmarks.real_repos build --sources DIR")
        rows = measure(directory)
        print(table(rows))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
