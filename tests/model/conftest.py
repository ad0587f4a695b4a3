"""Model tests run torch on one thread: under pytest-xdist on a 2-core box, torch's default intra-op
threads per worker oversubscribe the cores and small matmuls slow down tenfold."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
