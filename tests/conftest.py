"""Shared fixtures: paths to the bundled samples and to ../shared/data's benchmark files."""

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")


@pytest.fixture
def shared_data():
    """../shared/data beside the checkout (public benchmark sets); tests that need it skip without it."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"{SHARED_DATA} is not present (the public benchmark sets live there)")
    return SHARED_DATA
