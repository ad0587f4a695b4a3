"""E4M3 rounding: what the reference assumes of torch, and what the kernels do inside the interpreter.

Triton's interpreter converts FP32 to FP8 with its own bit manipulation (round half away from zero,
no carry into the exponent, e.g. 470 -> NaN and 500 -> 256), so the kernels round to the E4M3 grid
in FP32 themselves and only ever cast exactly representable values. These tests pin both halves.
"""

import torch
import triton
import triton.language as tl

from model.kernels import reference
from model.kernels.quant import _round_e4m3
from tests.kernels.buffers import FP8, poisoned, same_bits


@triton.jit
def _round_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(y_ptr + offs, _round_e4m3(x).to(tl.float8e4nv), mask=offs < n)


def grid_values() -> torch.Tensor:
    """Every finite non-negative E4M3 value, ascending."""
    v = torch.arange(0, 0x7F, dtype=torch.uint8).view(FP8).float()
    return v[v >= 0]


def tricky_values() -> torch.Tensor:
    g = grid_values()
    mid = (g[1:] + g[:-1]) / 2  # exact ties between neighbours
    eps = mid * 2.0**-12
    pos = torch.cat([g, mid, mid + eps, mid - eps, torch.tensor([447.9, 448.0, 455.9, 464.0, 470.0, 500.0, 1e9])])
    pos = torch.cat([pos, torch.tensor([2.0**-10, 3 * 2.0**-11, 2.0**-20, 1e-30])])
    random = torch.randn(4096) * torch.exp2(torch.randint(-12, 10, (4096,)).float())
    return torch.cat([pos, -pos, random])


def test_reference_rounds_to_nearest_even_and_saturates():
    g = grid_values()
    mid = (g[1:] + g[:-1]) / 2
    q = reference.to_fp8(mid).view(torch.uint8)
    assert bool((q % 2 == 0).all()), "ties must go to the even mantissa"
    assert reference.to_fp8(torch.tensor([1e9, -1e9, 460.0])).float().tolist() == [448.0, -448.0, 448.0]


def test_kernel_rounding_matches_torch_cast_bit_for_bit(device):
    x = tricky_values().to(device)
    y = poisoned(x.shape, FP8, device)
    _round_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
    assert same_bits(y, reference.to_fp8(x))


def test_kernel_rounding_saturates_near_448(device):
    x = torch.tensor([447.0, 448.0, 449.0, 463.9, 464.0, 470.0, 500.0, 1e30], device=device)
    y = poisoned(x.shape, FP8, device)
    _round_kernel[(1,)](x, y, x.numel(), BLOCK=8)
    assert y.float().tolist() == [448.0] * 8
    _round_kernel[(1,)](-x, y, x.numel(), BLOCK=8)
    assert y.float().tolist() == [-448.0] * 8
