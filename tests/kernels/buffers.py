"""Helpers shared by the kernel tests: where the kernels run, and poisoned output buffers."""

import os

import torch

FP8 = torch.float8_e4m3fn
FP8_NAN = 0x7F  # E4M3FN's NaN byte: what poisoned FP8 buffers hold


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def poisoned(shape, dtype, device) -> torch.Tensor:
    """An output buffer full of NaN, so any element a kernel forgets to write shows up."""
    if dtype == FP8:
        return torch.full(shape, FP8_NAN, dtype=torch.uint8, device=device).view(FP8)
    return torch.full(shape, float("nan"), dtype=dtype, device=device)


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit-for-bit equality (NaN-safe, works for FP8)."""
    if a.dtype == FP8:
        a, b = a.view(torch.uint8), b.view(torch.uint8)
    return a.shape == b.shape and bool((a.cpu() == b.cpu()).all())


def rel_err(x: torch.Tensor, ref: torch.Tensor) -> float:
    """Relative Frobenius error of x against ref, in float64."""
    x, ref = x.detach().double().cpu(), ref.detach().double().cpu()
    return float((x - ref).norm() / ref.norm().clamp_min(1e-300))


def assert_matches_reference(got: torch.Tensor, expected: torch.Tensor, device: str, chained: bool = False) -> None:
    """A Triton result against the PyTorch reference computed from the same FP8 operands.

    In the CPU interpreter both sum FP32 products, so only the summation order differs (1e-5). On a
    GPU, FP8 wgmma accumulates each 128-wide K chunk with reduced precision (what the per-chunk
    promotion bounds), so allow 2e-3 of the largest value; `chained` results (a whole layer stack)
    can also see an input land on the other side of an E4M3 rounding boundary, so compare norms.
    """
    tol = 1e-5 if device == "cpu" else 2e-3
    got, expected = got.detach().float().cpu(), expected.detach().float().cpu()
    if chained and device != "cpu":
        assert rel_err(got, expected) < 2e-2
        return
    torch.testing.assert_close(got, expected, rtol=tol, atol=tol * float(expected.abs().max().clamp_min(1e-30)))
