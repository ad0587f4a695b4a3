"""Connected components of the candidate-pair graph: the steps of the distributed algorithm as
plain functions, and a single-machine union-find to check them against.

The distributed algorithm is alternating large-star / small-star (Kiveris et al., "Connected
Components in MapReduce and Beyond", SoCC 2014). Nodes are any totally ordered values; an edge
is a pair `(u, v)`. Each step groups edges by one endpoint, so a worker only ever holds one
node's neighbours, never the whole graph:

- large-star(u): link every neighbour larger than u to m = min(u and its neighbours);
- small-star(u): link u and every neighbour smaller than u to m = min(u and those neighbours).

Both keep the components, and alternating them turns each component into a star around its
smallest node. `dedup.beam.ConnectedComponents` runs these functions between GroupByKeys.

Most components of a near-duplicate graph are stars after one round, and re-shuffling them every
later round would cost most of the work. So each round also *settles* finished stars: a node
whose neighbours are all larger (a centre) and all of degree one (leaves) is a whole component;
its labels leave the iteration and its edges are dropped (`neighbour_step`, `settle_step`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator


def normalized(u, v) -> tuple:
    """An undirected edge as (larger, smaller)."""
    return (u, v) if u > v else (v, u)


def large_star(u, neighbours: Iterable) -> Iterator[tuple]:
    """Edges (larger, smaller) from the large-star step at node `u` given all its neighbours."""
    neighbours = set(neighbours)
    m = min(neighbours | {u})
    for v in neighbours:
        if v > u:
            yield normalized(v, m)


def small_star(u, smaller_neighbours: Iterable) -> Iterator[tuple]:
    """Edges from the small-star step at `u` given its neighbours smaller than `u`."""
    smaller = set(smaller_neighbours)
    if not smaller:
        return
    m = min(smaller)
    for v in smaller | {u}:
        if v != m:
            yield normalized(v, m)


LEAF, CENTRE, EDGE = 0, 1, 2


def neighbour_step(u, neighbours: Iterable) -> Iterator[tuple]:
    """At node `u` with all its neighbours: large-star edges keyed by their smaller endpoint,
    plus u's status: (c, (LEAF, u)) if u's only neighbour is c < u, (u, (CENTRE, degree)) if
    every neighbour is larger than u."""
    neighbours = set(neighbours)
    m = min(neighbours | {u})
    if len(neighbours) == 1 and m != u:
        yield m, (LEAF, u)
    if m == u:
        yield u, (CENTRE, len(neighbours))
    for v in neighbours:
        if v > u:
            yield m, (EDGE, v)


def settle_step(x, values: Iterable[tuple]) -> tuple[list[tuple], list[tuple]]:
    """At node `x` with the statuses and edges keyed to it: (settled labels, edges to go on).

    If x is a centre and every neighbour reported being its leaf, {x} and its leaves are a
    whole component, finished: its labels (leaf, x) are final and its edges are dropped."""
    degree = None
    leaves, larger = [], []
    for tag, value in values:
        if tag == CENTRE:
            degree = value
        elif tag == LEAF:
            leaves.append(value)
        else:
            larger.append(value)
    if degree is not None and len(leaves) == degree:
        return [(leaf, x) for leaf in leaves], []
    return [], [(v, x) for v in larger]


def settling_round(edges: Iterable[tuple]) -> tuple[dict, set[tuple]]:
    """One round as `dedup.beam.ConnectedComponents` runs it, on one machine:
    ({settled node: label}, the edges still to contract)."""
    by_node: dict = {}
    for u, v in edges:
        by_node.setdefault(u, set()).add(v)
        by_node.setdefault(v, set()).add(u)
    keyed: dict = {}
    for u, ns in by_node.items():
        for key, value in neighbour_step(u, ns):
            keyed.setdefault(key, []).append(value)
    settled: dict = {}
    large: set = set()
    for x, values in keyed.items():
        labels, rest = settle_step(x, values)
        settled.update(labels)
        large.update(rest)
    down: dict = {}
    for big, small in large:
        down.setdefault(big, set()).add(small)
    return settled, {e for u, ns in down.items() for e in small_star(u, ns)}


def settling_components(edges: Iterable[tuple], rounds: int) -> tuple[dict, set[tuple]]:
    """({node: label} for non-smallest nodes settled within `rounds`, edges left unsettled)."""
    current = {normalized(u, v) for u, v in edges if u != v}
    labels: dict = {}
    for _ in range(rounds):
        if not current:
            break
        settled, current = settling_round(current)
        labels.update(settled)
    return labels, current


def star_round(edges: Iterable[tuple]) -> set[tuple]:
    """One large-star step then one small-star step, on one machine (the Beam transform's twin)."""
    by_node: dict = {}
    for u, v in edges:
        if u == v:
            continue
        by_node.setdefault(u, set()).add(v)
        by_node.setdefault(v, set()).add(u)
    large = {e for u, ns in by_node.items() for e in large_star(u, ns)}
    down: dict = {}
    for big, small in large:
        down.setdefault(big, set()).add(small)
    return {e for u, ns in down.items() for e in small_star(u, ns)}


def is_converged(edges: Iterable[tuple]) -> bool:
    """True when every component is a star around its smallest node: no node is both a leaf
    (has a smaller neighbour) and a centre (has a larger one), and each leaf has one centre."""
    parents: dict = {}
    for big, small in (normalized(u, v) for u, v in edges):
        parents.setdefault(big, set()).add(small)
    return all(len(ps) == 1 for ps in parents.values()) and not any(
        p in parents for ps in parents.values() for p in ps
    )


def star_labels(edges: Iterable[tuple]) -> dict:
    """{node: smallest node of its component} from a converged star forest."""
    labels = {}
    for big, small in (normalized(u, v) for u, v in edges):
        labels[big] = small
        labels.setdefault(small, small)
    return labels


def star_components(edges: Iterable[tuple], max_rounds: int = 64) -> tuple[dict, int]:
    """Components by alternating star steps on one machine: ({node: label}, rounds used)."""
    current = {normalized(u, v) for u, v in edges if u != v}
    for rounds in range(1, max_rounds + 1):
        current = star_round(current)
        if is_converged(current):
            return star_labels(current), rounds
    raise RuntimeError(f"star contraction did not converge in {max_rounds} rounds")


class UnionFind:
    """Disjoint sets with path halving and union by size; the reference the tests trust."""

    def __init__(self):
        self.parent: dict = {}
        self.size: dict = {}

    def find(self, x: Hashable):
        parent = self.parent
        if x not in parent:
            parent[x] = x
            self.size[x] = 1
            return x
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


def union_find_components(edges: Iterable[tuple]) -> dict:
    """{node: smallest node of its component} for every node on an edge."""
    uf = UnionFind()
    for u, v in edges:
        uf.union(u, v)
    smallest: dict = {}
    for x in uf.parent:
        r = uf.find(x)
        if r not in smallest or x < smallest[r]:
            smallest[r] = x
    return {x: smallest[uf.find(x)] for x in uf.parent}
