"""Star contraction (the distributed algorithm's steps, run on one machine) against union-find."""

import random

import pytest

from dedup.components import (
    is_converged,
    large_star,
    small_star,
    star_components,
    star_labels,
    union_find_components,
)


def test_large_and_small_star_steps():
    assert sorted(large_star(3, [1, 5, 7])) == [(5, 1), (7, 1)]
    assert sorted(small_star(7, [2, 5])) == [(5, 2), (7, 2)]
    assert list(small_star(7, [])) == []


def test_converged_forest_gives_labels():
    star = [(5, 1), (7, 1), (9, 2)]
    assert is_converged(star)
    assert star_labels(star) == {5: 1, 7: 1, 1: 1, 9: 2, 2: 2}
    assert not is_converged([(5, 3), (3, 1)])


@pytest.mark.parametrize("seed", range(5))
def test_random_graphs_match_union_find(seed):
    rng = random.Random(seed)
    n = rng.choice([50, 500, 3000])
    edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(int(n * rng.uniform(0.3, 1.5)))]
    edges = [e for e in edges if e[0] != e[1]]
    labels, _ = star_components(edges)
    assert labels == union_find_components(edges)


@pytest.mark.slow
@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_long_chains_converge_to_one_component(order):
    nodes = list(range(8000))
    if order == "descending":
        nodes.reverse()
    elif order == "shuffled":
        random.Random(3).shuffle(nodes)
    chain = list(zip(nodes, nodes[1:]))
    labels, rounds = star_components(chain)
    assert set(labels.values()) == {0}
    assert rounds <= 15  # the Beam transform unrolls 16 rounds by default (one more to settle)


def test_string_and_tuple_nodes_work_too():
    edges = [(("b", "2"), ("a", "1")), (("c", "3"), ("b", "2"))]
    labels, _ = star_components(edges)
    assert labels == union_find_components(edges)


def test_settling_rounds_finish_stars_early_and_match_union_find():
    from dedup.components import settling_components

    rng = random.Random(11)
    edges = [(rng.randrange(2000), rng.randrange(2000)) for _ in range(1500)]
    edges = [e for e in edges if e[0] != e[1]]
    labels, left = settling_components(edges, rounds=16)
    assert not left
    assert labels == {n: m for n, m in union_find_components(edges).items() if n != m}
    # A bucket star is finished at once: one round, and nothing left to contract.
    labels, left = settling_components([(5, 1), (7, 1), (9, 1)], rounds=1)
    assert labels == {5: 1, 7: 1, 9: 1} and not left


def test_too_few_rounds_leave_edges_but_never_mislabel():
    from dedup.components import settling_components

    chain = [(i, i + 1) for i in range(5000)]
    labels, left = settling_components(chain, rounds=3)
    assert left  # not finished
    truth = union_find_components(chain)
    assert all(truth[n] == truth[m] for n, m in labels.items())
