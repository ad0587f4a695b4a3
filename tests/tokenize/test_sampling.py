"""Deterministic sampling: stable uniforms, copies for rates above one, and mixture rates."""

import pytest

from pipelines.tokenize.sampling import copies, mixture_rates, uniform


def test_uniform_is_stable_and_in_range():
    assert uniform(0, "a", 1) == uniform(0, "a", 1) != uniform(1, "a", 1)
    values = [uniform(7, i) for i in range(5000)]
    assert 0 <= min(values) and max(values) < 1
    assert abs(sum(values) / len(values) - 0.5) < 0.02


def test_copies_take_a_rate_in_expectation():
    us = [uniform("c", i) for i in range(10000)]
    assert sum(copies(0.3, u) for u in us) == pytest.approx(3000, rel=0.05)
    assert sum(copies(2.5, u) for u in us) == pytest.approx(25000, rel=0.02)
    assert {copies(2.5, u) for u in us} == {2, 3}
    assert sum(copies(0.0, u) for u in us) == 0


def test_without_a_total_the_scarcest_source_is_taken_whole():
    rates = mixture_rates({"code": 1000, "math": 1000, "web": 9000}, {"code": 0.6, "math": 0.1, "web": 0.3})
    assert rates["code"] == pytest.approx(1.0)
    assert rates["math"] == pytest.approx(1 / 6)  # 1000 * 0.1/0.6 tokens of 1000
    assert rates["web"] == pytest.approx(500 / 9000)


def test_a_total_repeats_small_sources():
    rates = mixture_rates({"code": 1000, "math": 100}, {"code": 0.5, "math": 0.5}, total_tokens=2000)
    assert rates == {"code": pytest.approx(1.0), "math": pytest.approx(10.0)}


def test_an_empty_source_gets_nothing_and_the_others_share_its_weight():
    rates = mixture_rates({"code": 1000, "math": 0}, {"code": 0.5, "math": 0.5})
    assert rates == {"code": pytest.approx(1.0), "math": 0.0}
    assert mixture_rates({}, {"a": 1.0}) == {"a": 0.0}
