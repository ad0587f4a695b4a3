"""Domain discovery: >10% collected makes a domain math-related; mostly-collected prefixes are proposed."""

import json

import pytest

from deepcorpus.core.errors import UserError
from pipelines.math.discover import (
    DiscoveryConfig,
    approve,
    count_pages,
    discover,
    load_annotations,
    under_prefixes,
    write_review,
)
from pipelines.math.documents import domain_of, url_prefix


def pages():
    out = [(f"https://www.mathoverflow.net/questions/{i}/q", i < 18) for i in range(20)]  # 90% collected
    out += [(f"https://mathoverflow.net/users/{i}/u", False) for i in range(10)]
    out += [(f"https://news.example.com/world/{i}", i == 0) for i in range(20)]  # 5%: not a math domain
    out += [(f"https://blog.example.org/{y}/p{i}", i < 2) for y in (2022, 2023) for i in range(4)]  # 50%
    return out


def test_domain_and_prefix_of_a_url():
    assert domain_of("https://WWW.MathOverflow.net/questions/1") == "mathoverflow.net"
    assert url_prefix("https://mathoverflow.net/questions/1/title") == "mathoverflow.net/questions"
    assert url_prefix("https://x.org/about.html") == "x.org"
    assert url_prefix("https://x.org/a/b/c", depth=2) == "x.org/a/b"


def test_math_domains_are_those_above_ten_percent():
    found = discover(count_pages(pages()), DiscoveryConfig())
    assert [d["domain"] for d in found.domains] == ["mathoverflow.net", "blog.example.org"]
    mo = found.domains[0]
    assert (mo["pages"], mo["collected"]) == (30, 18)


def test_mostly_collected_prefixes_are_proposed_within_math_domains():
    found = discover(count_pages(pages()), DiscoveryConfig(prefix_share=0.5))
    proposed = {p["prefix"]: p for p in found.prefixes}
    assert set(proposed) == {"mathoverflow.net/questions", "blog.example.org/2022", "blog.example.org/2023"}
    assert proposed["mathoverflow.net/questions"]["uncollected"] == 2
    assert found.prefixes[0]["prefix"] == "mathoverflow.net/questions"  # highest share first


def test_nothing_is_approved_without_a_person_or_auto_approve():
    found = approve(discover(count_pages(pages()), DiscoveryConfig()), None, None)
    assert found.approved == []
    assert all(p["approved"] is None for p in found.prefixes)


def test_auto_approve_takes_prefixes_at_or_above_the_share():
    found = approve(discover(count_pages(pages()), DiscoveryConfig()), None, 0.6)
    assert found.approved == ["mathoverflow.net/questions"]


def test_annotation_file_wins_over_auto_approve(tmp_path):
    path = tmp_path / "approved.yaml"
    path.write_text("approved:\n  - blog.example.org/2023\n  - planetmath.org/encyclopedia\n"
                    "rejected:\n  - mathoverflow.net/questions\n")
    notes = load_annotations(str(path))
    found = approve(discover(count_pages(pages()), DiscoveryConfig()), notes, 0.6)
    assert sorted(found.approved) == ["blog.example.org/2023", "planetmath.org/encyclopedia"]


@pytest.mark.parametrize("content, name", [
    (json.dumps(["a.org/q"]), "list.json"),
    (json.dumps({"a.org/q": True, "b.org/x": False}), "map.json"),
    ("prefixes:\n  - prefix: a.org/q\n    approved: true\n  - prefix: b.org/x\n    approved: false\n", "review.yaml"),
])
def test_annotation_file_shapes(tmp_path, content, name):
    path = tmp_path / name
    path.write_text(content)
    notes = load_annotations(str(path))
    assert notes["a.org/q"] is True and notes.get("b.org/x", False) is False


def test_review_file_round_trips_as_an_annotation_file(tmp_path):
    found = approve(discover(count_pages(pages()), DiscoveryConfig()), None, 0.6)
    path = str(tmp_path / "discovery.yaml")
    write_review(path, found, iteration=1)
    assert load_annotations(path)["mathoverflow.net/questions"] is True


def test_bad_annotation_file_is_a_user_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("prefixes: [unclosed\n")
    with pytest.raises(UserError, match="bad.yaml"):
        load_annotations(str(path))


def test_under_prefixes():
    assert under_prefixes("https://www.mathoverflow.net/questions/5/x", ["mathoverflow.net/questions"])
    assert not under_prefixes("https://mathoverflow.net/questionsx/5", ["mathoverflow.net/questions"])
    assert under_prefixes("https://a.org/", ["a.org"])
