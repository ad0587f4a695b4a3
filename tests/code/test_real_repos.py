"""The dependency graph and order on small real repositories (benchmarks/real_repos.py): every true
import edge found and no other, every edge outside a cycle respected, per language."""

import pytest

from benchmarks import real_repos

DIRECTORY = real_repos.locate()
REPOS = real_repos.manifest()["repos"]
assert DIRECTORY is not None, "tests/data/real_repos is committed with the tests; this checkout lacks it"


def test_the_manifest_covers_the_languages_and_records_licences():
    assert {r["language"] for r in REPOS} >= {"Python", "C", "Go", "Java", "TypeScript", "Rust"}
    for repo in REPOS:
        assert repo["licence"] in ("MIT", "BSD-3-Clause", "MIT OR Apache-2.0"), repo["name"]
        assert any(f["path"] == repo["licence_file"] for f in repo["files"]), repo["name"]
        assert len(repo["commit"]) == 40 and all(len(f["sha256"]) == 64 for f in repo["files"])
        assert repo["edges"], repo["name"]


@pytest.mark.parametrize("repo", REPOS, ids=[r["name"] for r in REPOS])
def test_true_edges_are_found_and_respected_outside_cycles(repo):
    m = real_repos.measure_repo(DIRECTORY, repo)
    assert m["missing"] == [] and m["extra"] == [], (m["missing"][:5], m["extra"][:5])
    assert m["acyclic_respected"] == m["acyclic_edges"] > 0
    # Inside real cycles (click's core <-> types, jsoup's nodes <-> parser) the heuristic keeps most.
    if m["cycle_edges"]:
        assert m["cycle_respected"] / m["cycle_edges"] >= 0.75


def test_the_measure_table_names_every_language():
    rows = real_repos.measure(DIRECTORY)
    text = real_repos.table(rows)
    for language in ("Python", "C", "Go", "Java", "TypeScript", "Rust"):
        assert language in text
    overall = sum(r["respected"] for r in rows) / sum(r["edges"] for r in rows)
    assert overall >= 0.9
