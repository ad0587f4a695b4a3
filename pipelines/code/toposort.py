"""DeepSeek-Coder's modified topological sort (arXiv 2401.14196, Algorithm 1), with seeded ties.

Edges run B -> A when A depends on B, so a file comes after the files it imports. Within each
disconnected subgraph Algorithm 1 repeatedly places the unplaced file of minimal in-degree
(in-degree counted over the edges from unplaced files), so a cycle never stalls it. Ties are broken
by a random priority drawn per file from a seed, so the same repository always gives the same
order, whatever order the files came in.

`algorithm1` is the paper's version. Its weak spot: once every unplaced file has an unplaced
import (a cycle is left), the file of least in-degree may be one that merely *depends on* the
cycle, and it is placed before its imports although no cycle involves it. `dependency_order`, used
by the pipeline, first condenses each cycle (strongly connected component) and orders the resulting
acyclic graph by the same minimal-in-degree rule, so every edge that is not part of a cycle points
backwards. Inside a cycle some edge must point forwards; which ones is a feedback arc set problem
(NP-hard), and the minimal in-degree choice is a poor heuristic for it. Cycles are ordered by Eades,
Lin and Smyth's greedy heuristic (1993: take sinks last and sources first, otherwise the file with
the most dependents over dependencies), then small ones by moving each file to its best position.
Without cycles the two orders are the same. Heaps with lazy deletion, O((V + E) log V), where the
paper rescans for the minimum.

`edge_report(order, deps)` says how many edges an order respects, in and outside cycles.
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
    the two are on a cycle, where as many of the cycle's edges as the heuristic finds are respected.

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
            order += cycle_order(members[c], clean, users, prio) if len(members[c]) > 1 else members[c]
    return order


# Cycles up to this many files are improved by moving each file to its best place (O(V^2 + V E)).
SIFT_MAX = 200


def cycle_order(nodes: list[str], deps: Mapping[str, list[str]], users: Mapping[str, list[str]],
                prio: Mapping[str, int]) -> list[str]:
    """An order of one strongly connected component that respects many of its edges: Eades-Lin-
    Smyth, then one pass of moving each node to the position that respects most of its edges."""
    inside = set(nodes)
    d_in = {n: [d for d in deps[n] if d in inside and d != n] for n in nodes}  # its dependencies
    d_out = {n: [u for u in users[n] if u in inside and u != n] for n in nodes}  # its dependents
    n_in = {n: len(d_in[n]) for n in nodes}
    n_out = {n: len(d_out[n]) for n in nodes}
    left: set[str] = set(nodes)
    head: list[str] = []
    tail: list[str] = []
    # One heap, keyed so that sinks come out first, then sources, then the largest out - in.
    def rank(n: str) -> tuple:
        if n_out[n] == 0:
            return (0, 0, prio[n], n)
        if n_in[n] == 0:
            return (1, 0, prio[n], n)
        return (2, n_in[n] - n_out[n], prio[n], n)

    heap = [rank(n) for n in nodes]
    heapq.heapify(heap)
    while heap:
        entry = heapq.heappop(heap)
        n = entry[-1]
        if n not in left or entry != rank(n):
            continue  # stale
        left.discard(n)
        (tail if entry[0] == 0 else head).append(n)
        for d in d_in[n]:
            if d in left:
                n_out[d] -= 1
                heapq.heappush(heap, rank(d))
        for u in d_out[n]:
            if u in left:
                n_in[u] -= 1
                heapq.heappush(heap, rank(u))
    order = head + tail[::-1]
    if len(order) <= SIFT_MAX:
        order = _sift(order, d_in, d_out)
    return order


def _sift(order: list[str], d_in: Mapping[str, list[str]], d_out: Mapping[str, list[str]]) -> list[str]:
    """Move each node, in turn, to the position where most of its own edges point backwards."""
    for n in list(order):
        rest = [m for m in order if m != n]
        pos = {m: i for i, m in enumerate(rest)}
        # Placing n at slot k (before rest[k]): its dependencies d respected when pos[d] < k, its
        # dependents u when pos[u] >= k. Score every slot by a sweep over the change points.
        delta = [0] * (len(rest) + 2)
        for d in d_in[n]:
            delta[pos[d] + 1] += 1  # respected from slot pos[d] + 1 on
        base = 0
        for u in d_out[n]:
            base += 1  # respected at slot 0 ...
            delta[pos[u] + 1] -= 1  # ... up to slot pos[u]
        best_k, best, score = 0, None, base
        current = order.index(n)
        for k in range(len(rest) + 1):
            score += delta[k] if k else 0
            if best is None or score > best or (score == best and k == current):
                best_k, best = k, score
        order = rest[:best_k] + [n] + rest[best_k:]
    return order


def random_order(paths: list[str], seed: int | str = 0, key: str = "") -> list[str]:
    """The seeded random concatenation Coder-V2 used, for repositories without parsed dependencies."""
    rng = random.Random(f"{seed}\x00{key}")
    out = sorted(paths)
    rng.shuffle(out)
    return out


def edge_report(order: list[str], deps: Mapping[str, set[str]]) -> dict[str, int]:
    """How many dependency edges `order` respects (the dependency placed first), in all and for the
    edges outside any cycle (those all should be: 100%) and inside cycles (as many as it can)."""
    clean = _clean({n: set(ds) for n, ds in deps.items()})
    comp = strongly_connected_components(clean)
    position = {p: i for i, p in enumerate(order)}
    out = {"edges": 0, "respected": 0, "acyclic_edges": 0, "acyclic_respected": 0, "cycle_edges": 0,
           "cycle_respected": 0}
    for a, bs in clean.items():
        for b in bs:
            if a not in position or b not in position:
                continue
            ok = position[b] < position[a]
            where = "cycle" if comp[a] == comp[b] else "acyclic"
            out["edges"] += 1
            out["respected"] += ok
            out[f"{where}_edges"] += 1
            out[f"{where}_respected"] += ok
    return out


def violations(order: list[str], deps: Mapping[str, set[str]]) -> int:
    """How many dependency edges point forward (a file placed before one it imports): 0 without cycles."""
    position = {p: i for i, p in enumerate(order)}
    return sum(1 for a, bs in deps.items() for b in bs if b in position and b != a and position[b] > position[a])
