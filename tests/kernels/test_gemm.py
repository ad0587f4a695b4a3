"""The FP8 GEMM kernel against the reference and against float64 matmuls.

Three checks per shape: the Triton kernel equals the reference up to FP32 summation order; both
equal a float64 matmul of the dequantised operands (so scales are applied per 128-wide K chunk,
correctly); and the whole FP8 path stays within the E4M3 error bound of the exact product.
"""

import pytest
import torch

from model.kernels import load_backend, reference
from tests.kernels.buffers import assert_matches_reference, poisoned, rel_err

triton_ops = load_backend("triton")
# (M, N, K): ragged on every side, K spanning one to several 128-wide chunks.
SHAPES = [(1, 1, 1), (7, 33, 130), (65, 130, 257), (128, 96, 384)]


def operands(m, n, k, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m, k, generator=g) * torch.exp2(torch.randint(-4, 4, (m, 1), generator=g).float())
    w = torch.randn(n, k, generator=g) * 0.02
    return x.to(device), w.to(device)


def dequantised_product(a, sa, b, sb):
    """float64 A·Bᵀ of the dequantised operands: what the GEMM computes, up to FP32 rounding."""
    deq_a = reference.dequant_1x128(a.cpu(), sa.cpu()).double()
    if sb.shape[0] == b.shape[0]:
        deq_b = reference.dequant_1x128(b.cpu(), sb.cpu()).double()
    else:
        deq_b = reference.dequant_128x128(b.cpu(), sb.cpu()).double()
    return deq_a @ deq_b.t()


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_fprop_gemm_with_block_scaled_weights(device, m, n, k):
    x, w = operands(m, n, k, device)
    a, sa = reference.quant_1x128(x)
    b, sb = reference.quant_128x128(w)
    out = triton_ops.gemm(a, sa, b, sb, out=poisoned((m, n), torch.float32, device))
    expected = reference.gemm(a.cpu(), sa.cpu(), b.cpu(), sb.cpu())
    assert_matches_reference(out, expected, device)
    assert_matches_reference(out, dequantised_product(a, sa, b, sb), device)
    exact = x.double().cpu() @ w.double().cpu().t()
    assert rel_err(out, exact) < 0.06  # two E4M3 roundings (3 mantissa bits each)


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_wgrad_style_gemm_with_row_scaled_operands(device, m, n, k):
    # Wgrad multiplies two 128×1-quantised operands: per-row scales on both sides.
    x, dy = operands(m, n, k, device, seed=1)
    a, sa = reference.quant_1x128(x)
    b, sb = reference.quant_1x128(dy)
    out = triton_ops.gemm(a, sa, b, sb, out=poisoned((m, n), torch.float32, device))
    assert_matches_reference(out, reference.gemm(a.cpu(), sa.cpu(), b.cpu(), sb.cpu()), device)
    assert_matches_reference(out, dequantised_product(a, sa, b, sb), device)


def test_dgrad_gemm_uses_the_transposed_weight_blocks(device):
    # dX = dY · W: the 128×128 blocks of W are blocks of Wᵀ, so the FP8 copy is reused transposed.
    dy, _ = operands(50, 200, 130, device, seed=2)
    w = torch.randn(130, 200, device=device) * 0.02  # (N=130 outputs, K=200 inputs)
    wq, ws = reference.quant_128x128(w)
    dyq, dys = reference.quant_1x128(dy)
    dx = triton_ops.gemm(dyq, dys, wq.t().contiguous(), ws.t().contiguous(), out=poisoned((50, 200), torch.float32, device))
    assert rel_err(dx, dy.double().cpu() @ w.double().cpu()) < 0.06


def test_fine_grained_scales_survive_rows_of_very_different_magnitude(device):
    x, w = operands(64, 64, 256, device, seed=3)
    x[::2] *= 1e4  # half the tokens are 10^4 larger: per-tile scales keep the small rows exact-ish
    a, sa = reference.quant_1x128(x)
    b, sb = reference.quant_128x128(w)
    out = triton_ops.gemm(a, sa, b, sb).cpu().double()
    exact = x.double().cpu() @ w.double().cpu().t()
    per_row = (out - exact).norm(dim=1) / exact.norm(dim=1)
    assert per_row.max() < 0.08


def test_long_k_accumulates_in_fp32_chunks(device):
    # 16 chunks of 128: the reference promotes every chunk, the kernel must match it closely.
    x, w = operands(16, 32, 2048, device, seed=4)
    a, sa = reference.quant_1x128(x)
    b, sb = reference.quant_128x128(w)
    out = triton_ops.gemm(a, sa, b, sb)
    assert_matches_reference(out, dequantised_product(a, sa, b, sb), device)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="bf16 output is exercised on the GPU only")
def test_bf16_output_on_gpu():
    x, w = operands(1000, 768, 1536, "cuda")
    a, sa = reference.quant_1x128(x)
    b, sb = reference.quant_128x128(w)
    out = triton_ops.gemm(a, sa, b, sb, out_dtype=torch.bfloat16)
    assert out.dtype == torch.bfloat16
    assert rel_err(out, dequantised_product(a, sa, b, sb)) < 1e-2
