"""Quantisation kernels (1×128, 128×1, 128×128, grouped 128×1) against the PyTorch reference.

Every Triton result must equal the reference bit for bit, including ragged shapes whose sides are
not multiples of 128, and must fill a poisoned (NaN) output buffer completely.
"""

import pytest
import torch

from model.kernels import load_backend, reference
from model.kernels.reference import cdiv
from tests.kernels.buffers import FP8, poisoned, same_bits

triton_ops = load_backend("triton")
SHAPES = [(1, 1), (3, 127), (5, 129), (130, 256), (257, 300)]


def sample(shape, device, seed=0):
    """Gaussian values whose magnitude varies by row, so tiles get different scales."""
    g = torch.Generator().manual_seed(seed)
    rows = (*shape[:-1], 1)
    x = torch.randn(*shape, generator=g) * torch.exp2(torch.randint(-8, 8, rows, generator=g).float())
    return x.to(device)


@pytest.mark.parametrize("shape", SHAPES)
def test_quant_1x128_matches_reference(device, shape):
    x = sample(shape, device)
    m, k = shape
    out = (poisoned((m, k), FP8, device), poisoned((m, cdiv(k, 128)), torch.float32, device))
    q, s = triton_ops.quant_1x128(x, out=out)
    q_ref, s_ref = reference.quant_1x128(x.cpu())
    assert same_bits(q, q_ref) and same_bits(s, s_ref)


@pytest.mark.parametrize("shape", SHAPES)
def test_quant_128x1_is_the_transposed_quantisation(device, shape):
    x = sample(shape, device, seed=1)
    m, k = shape
    out = (poisoned((k, m), FP8, device), poisoned((k, cdiv(m, 128)), torch.float32, device))
    q, s = triton_ops.quant_128x1(x, out=out)
    q_ref, s_ref = reference.quant_1x128(x.cpu().t())  # 128 tokens × 1 channel = rows of xᵀ
    assert same_bits(q, q_ref) and same_bits(s, s_ref)


@pytest.mark.parametrize("shape", [(1, 1), (130, 257), (3, 200, 129)])
def test_quant_128x128_matches_reference(device, shape):
    w = sample(shape, device, seed=2) * 0.02
    *lead, n, k = shape
    out = (poisoned(shape, FP8, device), poisoned((*lead, cdiv(n, 128), cdiv(k, 128)), torch.float32, device))
    q, s = triton_ops.quant_128x128(w, out=out)
    q_ref, s_ref = reference.quant_128x128(w.cpu())
    assert same_bits(q, q_ref) and same_bits(s, s_ref)


def test_dequantised_values_are_within_half_an_e4m3_step():
    x = sample((64, 300), "cpu")
    q, s = reference.quant_1x128(x)
    err = (reference.dequant_1x128(q, s) - x).abs()
    scale = s.repeat_interleave(128, dim=1)[:, :300]
    # 3 mantissa bits: half a step is 2^-4 of the value; below 2^-6 (subnormals) half a step is 2^-10.
    bound = torch.maximum(x.abs() * 2.0**-4, scale * 2.0**-10) * (1 + 1e-6)
    assert bool((err <= bound).all())


def test_each_tile_max_maps_to_448_and_zero_tiles_stay_zero(device):
    x = sample((40, 256), device)
    x[3, :128] = 0.0  # an all-zero tile must not produce NaN
    q, s = triton_ops.quant_1x128(x)
    tile_max = q.float().abs().view(40, 2, 128).amax(dim=2)
    assert bool(torch.isfinite(s).all())
    assert tile_max[3, 0].item() == 0.0
    tile_max[3, 0] = 448.0
    assert bool((tile_max == 448.0).all())


def test_an_outlier_only_costs_precision_in_its_own_tile():
    x = torch.rand(4, 256) + 0.5
    x[0, 5] = 1e6  # one huge activation in tile (0, 0)
    q, s = reference.quant_1x128(x)
    rel = ((reference.dequant_1x128(q, s) - x).abs() / x)
    assert rel[0, :128].max() > 0.5  # its neighbours underflow...
    assert rel[0, 128:].max() < 2.0**-4 and rel[1:].max() < 2.0**-4  # ...the rest keep full precision


def test_grouped_128x1_tiles_start_at_each_group(device):
    counts = torch.tensor([0, 130, 1, 0, 69])
    x = sample((200, 70), device, seed=3)
    x[:130] *= 1000.0  # group 1 is huge; group 2 (one row) must get its own scale
    tiles = 200 // 128 + 1 + len(counts)
    out = (poisoned((70, tiles * 128), FP8, device), poisoned((70, tiles), torch.float32, device))
    q, s = triton_ops.grouped_quant_128x1(x, counts.to(device), out=out)
    q_ref, s_ref = reference.grouped_quant_128x1(x.cpu(), counts)
    assert same_bits(q, q_ref) and same_bits(s, s_ref)
    # Tile table: group 1 owns tiles 0-1, group 2 tile 2, group 4 tile 3; tiles 4-6 are spare.
    assert torch.equal(s[:, 2].cpu(), x[130].abs().cpu() / 448.0)
    assert torch.equal(q[:, 256].float().cpu(), reference.quant_128x1(x[130:131].cpu())[0][:, 0].float())
    assert bool((q[:, 257:384].float() == 0).all()), "a tile is zero-padded past its group's rows"
    assert bool((q[:, 4 * 128:].float() == 0).all()) and bool((s[:, 4:] == reference.scale_from_amax(torch.zeros(()))).all())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="bf16 inputs are exercised on the GPU only")
def test_bf16_inputs_on_gpu():
    x = sample((300, 520), "cuda").bfloat16()
    q, s = load_backend("triton").quant_1x128(x)
    q_ref, s_ref = reference.quant_1x128(x.cpu())
    assert same_bits(q, q_ref) and same_bits(s, s_ref)


@pytest.mark.parametrize("shape", [(1, 1), (130, 257), (256, 128)])
def test_quant_dual_gives_both_quantisations_from_one_read(device, shape):
    x = sample(shape, device, seed=4)
    m, k = shape
    rows = (poisoned((m, k), FP8, device), poisoned((m, cdiv(k, 128)), torch.float32, device))
    cols = (poisoned((k, m), FP8, device), poisoned((k, cdiv(m, 128)), torch.float32, device))
    (q, s), (qt, st) = triton_ops.quant_dual(x, out=rows, out_t=cols)
    (q_ref, s_ref), (qt_ref, st_ref) = reference.quant_dual(x.cpu())
    assert same_bits(q, q_ref) and same_bits(s, s_ref)
    assert same_bits(qt, qt_ref) and same_bits(st, st_ref)


def test_grouped_quant_dual_matches_the_two_separate_quantisations(device):
    counts = torch.tensor([0, 130, 1, 0, 69], device=device)
    x = sample((200, 150), device, seed=5)
    (q, s), (qt, st) = triton_ops.grouped_quant_dual(x, counts)
    (q_ref, s_ref), (qt_ref, st_ref) = reference.grouped_quant_dual(x.cpu(), counts.cpu())
    assert same_bits(q, q_ref) and same_bits(s, s_ref)
    assert same_bits(qt, qt_ref) and same_bits(st, st_ref)
