"""pass@k's unbiased estimator against its closed form, and the intervals' coverage of the truth."""

import math
import random

import pytest

from evaluation.stats import bits_per_byte, mean_interval, pass_at_k, pass_at_k_score, wilson


def closed_form(n: int, c: int, k: int) -> float:
    """1 - C(n - c, k) / C(n, k) with exact binomials."""
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def test_pass_at_k_equals_the_closed_form_everywhere():
    for n in range(1, 41):
        for c in range(0, n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(closed_form(n, c, k), abs=1e-12), (n, c, k)


def test_pass_at_k_is_what_drawing_k_without_replacement_gives():
    rng = random.Random(0)
    n, c, k = 20, 3, 5
    samples = [True] * c + [False] * (n - c)
    hits = sum(any(rng.sample(samples, k)) for _ in range(20000))
    assert hits / 20000 == pytest.approx(pass_at_k(n, c, k), abs=0.01)
    assert pass_at_k(200, 0, 100) == 0.0 and pass_at_k(10, 10, 1) == 1.0 and pass_at_k(10, 2, 1) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 10)


def test_pass_at_k_over_items():
    s = pass_at_k_score([0, 1, 10, 3], samples=10, k=1)
    assert s["value"] == pytest.approx((0 + 0.1 + 1.0 + 0.3) / 4) and s["n"] == 4
    assert 0.0 <= s["ci95"][0] < s["value"] < s["ci95"][1] <= 1.0
    greedy = pass_at_k_score([1, 0, 0, 1], samples=1, k=1)  # one sample each: a proportion, Wilson's interval
    assert greedy == wilson(2, 4)


def test_wilson_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = random.Random(1)
    p, n, covered = 0.3, 50, 0
    for _ in range(2000):
        lo, hi = wilson(sum(rng.random() < p for _ in range(n)), n)["ci95"]
        covered += lo <= p <= hi
    assert 0.93 <= covered / 2000 <= 0.97
    zero = wilson(0, 20)
    assert zero["value"] == 0.0 and zero["ci95"][0] == 0.0 and 0.1 < zero["ci95"][1] < 0.2  # not a point
    assert wilson(0, 0)["value"] is None


def test_bits_per_byte_is_a_ratio_of_totals_with_an_interval():
    bits, nbytes = [100.0, 300.0, 50.0], [50, 100, 50]
    s = bits_per_byte(bits, nbytes)
    assert s["value"] == pytest.approx(450 / 200) and s["bytes"] == 200 and s["n"] == 3
    assert s["ci95"][0] < s["value"] < s["ci95"][1]
    same = bits_per_byte([20.0] * 10, [10] * 10)
    assert same["ci95"] == pytest.approx([2.0, 2.0])
    rng = random.Random(2)
    covered = 0
    for _ in range(500):  # items of 50-150 bytes at 2 bits per byte with noise: the interval covers 2
        ys = [rng.randint(50, 150) for _ in range(40)]
        xs = [2.0 * y + rng.gauss(0, 20) for y in ys]
        lo, hi = bits_per_byte(xs, ys)["ci95"]
        covered += lo <= 2.0 <= hi
    assert covered / 500 > 0.9
    assert mean_interval([])["value"] is None
