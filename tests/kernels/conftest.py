"""Where the Triton kernels can run: a CUDA GPU, or the CPU under TRITON_INTERPRET=1 (as `make test` sets)."""

import pytest
import torch

from tests.kernels.buffers import interpreting


@pytest.fixture
def device() -> str:
    """'cpu' under the Triton interpreter, 'cuda' on a GPU; skips (saying why) otherwise."""
    if interpreting():
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    pytest.skip("Triton kernels need a GPU or TRITON_INTERPRET=1 (make test sets it)")


@pytest.fixture(autouse=True)
def _kernels_on_one_thread(one_torch_thread):
    """Small matmuls run far faster on one thread than fighting the other xdist worker for two cores."""
