"""DeepSeek-Coder's modified topological sort (arXiv 2401.14196, Algorithm 1), with seeded ties.

Edges run B -> A when A depends on B, so a file comes after the files it imports. Within each
disconnected subgraph Algorithm 1 repeatedly places the unplaced file of minimal in-degree
(in-degree counted over the edges from unplaced files), so a cycle never stalls it. Ties are broken
by a random priority drawn per file from a seed, so the same repository always gives the same
order, whatever order the files came in.

`algorithm1` is the paper's version. Its weak spot: once every unplaced file has an unplaced
import (a cycle is left), the file of least in-degree may be one that merely *depends on* the
cycle, and it is placed before its imports although no cycle involves it. `dependency_order`, used
by the pipeline, first condenses each cycle (strongly connected component), orders the resulting
acyclic graph by the same minimal-in-degree rule, and runs Algorithm 1 inside each cycle only:
every edge that is not part of a cycle points backwards. Without cycles the two are the same.
Both use a heap with lazy deletion, O((V + E) log V), where the paper rescans for the minimum.
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


def _clean(deps: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """{file: sorted in-graph dependencies}: missing targets and self-dependencies dropped."""
    known = set(deps)
    return {a: sorted(b for b in deps[a] if b in known and b != a) for a in sorted(deps)}


def _min_indegree_order(nodes: list, edges: dict, prio: dict) -> list:
    """Algorithm 1's inner loop over `nodes`: repeatedly place the unplaced node of least in-degree
    (counting only edges among `nodes`), ties by `prio`. edges[b] = nodes that depend on b."""
    inside = set(nodes)
    indegree = dict.fromkeys(nodes, 0)
    for b in nodes:
        for a in edges[b]:
            if a in inside:
                indegree[a] += 1
    heap = [(indegree[n], prio[n], n) for n in nodes]
    heapq.heapify(heap)
    placed: set = set()
    order = []
    while heap:
        degree, _, node = heapq.heappop(heap)
        if node in placed or degree != indegree[node]:
            continue  # a stale entry: the node was placed, or its in-degree dropped since
        placed.add(node)
        order.append(node)
        for user in edges[node]:
            if user in inside and user not in placed:
                indegree[user] -= 1
                heapq.heappush(heap, (indegree[user], prio[user], user))
    return order


def _users(deps: dict[str, list[str]]) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {n: [] for n in deps}
    for a, bs in deps.items():
        for b in bs:
            users[b].append(a)
    return users


def algorithm1(deps: Mapping[str, set[str]], seed: int | str = 0, key: str = "") -> list[str]:
    """The paper's Algorithm 1, as published: per weakly connected subgraph, least in-degree first."""
    clean = _clean(deps)
    prio = {n: tie_priority(seed, key, n) for n in clean}
    users = _users(clean)
    components = connected_components(list(clean), clean)
    components.sort(key=lambda c: min(prio[n] for n in c))  # subgraphs in a seeded order too
    return [n for component in components for n in _min_indegree_order(component, users, prio)]


def strongly_connected_components(deps: dict[str, list[str]]) -> dict[str, int]:
    """{node: component number}, by Tarjan's algorithm without recursion (deep chains are common)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    found = 0
    for root in deps:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(deps[root]))]
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(deps[w])))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp[w] = found
                    if w == v:
                        break
                found += 1
    return comp


def dependency_order(deps: Mapping[str, set[str]], seed: int | str = 0, key: str = "") -> list[str]:
    """Every node of `deps` ({file: files it depends on}) once, each after its dependencies unless
    the two are on a cycle, where Algorithm 1 breaks the cycle at the file of least in-degree.

    Dependencies that are not keys (missing targets) and self-dependencies are ignored.
    """
    clean = _clean(deps)
    prio = {n: tie_priority(seed, key, n) for n in clean}
    users = _users(clean)
    comp = strongly_connected_components(clean)
    members: dict[int, list[str]] = {}
    for n in clean:
        members.setdefault(comp[n], []).append(n)
    # The condensation: one node per cycle (or single file), edges between different ones.
    c_users = {c: sorted({comp[u] for n in ns for u in users[n] if comp[u] != c}) for c, ns in members.items()}
    c_deps = {c: sorted({comp[d] for n in ns for d in clean[n] if comp[d] != c}) for c, ns in members.items()}
    c_prio = {c: min(prio[n] for n in ns) for c, ns in members.items()}
    components = connected_components(list(members), {c: set(ds) for c, ds in c_deps.items()})
    components.sort(key=lambda group: min(c_prio[c] for c in group))
    order: list[str] = []
    for group in components:
        for c in _min_indegree_order(group, c_users, c_prio):
            order += _min_indegree_order(members[c], users, prio) if len(members[c]) > 1 else members[c]
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
