"""Canonical URLs: spellings of one page's address get one key."""

import pytest

from dedup.urls import canonical_url


@pytest.mark.parametrize("url", [
    "https://www.example.com/a/b",
    "http://example.com/a/b/",
    "HTTP://WWW.EXAMPLE.COM:80/a/b#section",
    "https://example.com:443/a/b?utm_source=feed&utm_medium=rss",
    "https://example.com/a/b?fbclid=XYZ",
    "example.com/a/b",
])
def test_spellings_of_one_page_share_a_key(url):
    assert canonical_url(url) == "example.com/a/b"


def test_query_parameters_are_sorted_and_kept_when_they_name_content():
    assert canonical_url("https://example.com/q?b=2&a=1") == canonical_url("http://example.com/q?a=1&b=2")
    assert canonical_url("https://example.com/q?id=1") != canonical_url("https://example.com/q?id=2")


def test_other_ports_paths_and_case_in_paths_stay_distinct():
    assert canonical_url("http://example.com:8080/") == "example.com:8080"
    assert canonical_url("http://example.com/Page") != canonical_url("http://example.com/page")
    assert canonical_url("https://example.com/%7Euser/") == canonical_url("https://example.com/~user")
