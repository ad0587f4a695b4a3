"""Model tests run torch on one thread (the `one_torch_thread` fixture of tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _model_on_one_thread(one_torch_thread):
    pass
