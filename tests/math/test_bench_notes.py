"""The crawl benchmark's marginal cost per page: the difference between scales, per system."""

from benchmarks.crawl_bench import marginal_notes


def test_marginal_cpu_per_page_is_the_difference_between_consecutive_scales():
    rows = [{"scale": "1x", "pages": 300, "cpu_s": 50.0}, {"scale": "4x", "pages": 1200, "cpu_s": 59.0},
            {"scale": "16x", "pages": 4800, "cpu_s": 95.0}]
    notes = marginal_notes("ours", rows)
    assert notes == {"ours: marginal CPU per page, 1x -> 4x": "10.0 ms",
                     "ours: marginal CPU per page, 4x -> 16x": "10.0 ms"}
    assert marginal_notes("ours", rows[:1]) == {}
