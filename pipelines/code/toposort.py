"""DeepSeek-Coder's modified topological sort (arXiv 2401.14196, Algorithm 1), with seeded ties.

Edges run B -> A when A depends on B, so a file comes after the files it imports. Within each
disconnected subgraph the algorithm repeatedly places the unplaced file of minimal in-degree
(in-degree counted over the edges from unplaced files), so a cycle never stalls it: the file of the
cycle with the fewest unresolved imports goes first. Ties are broken by a random priority drawn per
file from a seed, so the same repository always gives the same order, whatever order files came in.

A heap with lazy deletion keeps it O((V + E) log V); the paper's version rescans for the minimum.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Mapping


def tie_priority(seed: int | str, key: str, path: str) -> int:
    """A deterministic pseudo-random number per (seed, repository, file)."""
    digest = hashlib.blake2b(f"{seed}\x00{key}\x00{path}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def connected_components(nodes: list[str], deps: Mapping[str, set[str]]) -> list[list[str]]:
    """Weakly connected components (edge direction ignored), each as a list of nodes."""
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for node in nodes:
        for dep in deps.get(node, ()):
            if dep in parent:
                a, b = find(node), find(dep)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for node in nodes:
        groups.setdefault(find(node), []).append(node)
    return list(groups.values())


def dependency_order(deps: Mapping[str, set[str]], seed: int | str = 0, key: str = "") -> list[str]:
    """Every node of `deps` ({file: files it depends on}) once, each after its dependencies where
    the graph allows (cycles are broken at the file of least unresolved in-degree).

    Dependencies that are not keys (missing targets) and self-dependencies are ignored.
    """
    nodes = sorted(deps)
    known = set(nodes)
    prio = {n: tie_priority(seed, key, n) for n in nodes}
    # users[b] = files that depend on b (edges b -> a); indegree[a] = how many files a depends on.
    users: dict[str, list[str]] = {n: [] for n in nodes}
    indegree = dict.fromkeys(nodes, 0)
    for a in nodes:
        for b in deps[a]:
            if b in known and b != a:
                users[b].append(a)
                indegree[a] += 1
    components = connected_components(nodes, {a: {b for b in deps[a] if b in known} for a in nodes})
    # Subgraphs are concatenated in a seeded order too (by their smallest tie priority).
    components.sort(key=lambda c: min(prio[n] for n in c))
    order: list[str] = []
    for component in components:
        heap = [(indegree[n], prio[n], n) for n in component]
        heapq.heapify(heap)
        placed: set[str] = set()
        while heap:
            degree, _, node = heapq.heappop(heap)
            if node in placed or degree != indegree[node]:
                continue  # a stale entry: the node was placed, or its in-degree dropped since
            placed.add(node)
            order.append(node)
            for user in users[node]:
                if user not in placed:
                    indegree[user] -= 1
                    heapq.heappush(heap, (indegree[user], prio[user], user))
    return order


def random_order(paths: list[str], seed: int | str = 0, key: str = "") -> list[str]:
    """The seeded random concatenation Coder-V2 used, for repositories without parsed dependencies."""
    rng = random.Random(f"{seed}\x00{key}")
    out = sorted(paths)
    rng.shuffle(out)
    return out


def violations(order: list[str], deps: Mapping[str, set[str]]) -> int:
    """How many dependency edges point forward (a file placed before one it imports): 0 without cycles."""
    position = {p: i for i, p in enumerate(order)}
    return sum(1 for a, bs in deps.items() for b in bs if b in position and b != a and position[b] > position[a])
