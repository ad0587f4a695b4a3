"""Grouped FP8 GEMMs for MoE experts (one launch for all experts) against the reference.

Group sizes include empty experts, a one-token expert and sizes that are not multiples of 128, so
the tile table, the masks at group edges and the zero output of an empty expert are all exercised.
"""

import pytest
import torch

from model.kernels import load_backend, reference
from model.kernels.groups import group_tiles
from tests.kernels.buffers import FP8, assert_matches_reference, poisoned, rel_err

triton_ops = load_backend("triton")
COUNTS = [[0, 130, 1, 0, 69], [40, 40, 40], [257], [0, 0, 3]]


def test_tile_table_numbers_tiles_group_after_group():
    t = group_tiles(torch.tensor([0, 130, 1, 0, 69]), total_rows=200, block=128)
    assert t.max_tiles == 2 + 5  # ceil(200/128) + one partial tile per group, at most
    assert t.tile_group.tolist() == [1, 1, 2, 4, 5, 5, 5]  # 5 = spare
    assert t.tile_start.tolist() == [0, 0, 2, 3, 3]
    assert t.row_start.tolist() == [0, 0, 130, 131, 131]


def expert_operands(counts, n, k, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(sum(counts), k, generator=g)
    w = torch.randn(len(counts), n, k, generator=g) * 0.02
    return x.to(device), w.to(device), torch.tensor(counts, device=device)


def looped_float64(x, w, counts):
    outs, start = [], 0
    for e, c in enumerate(counts.tolist()):
        outs.append(x[start:start + c].double().cpu() @ w[e].double().cpu().t())
        start += c
    return torch.cat(outs)


@pytest.mark.parametrize("counts", COUNTS)
def test_grouped_fprop_matches_reference(device, counts):
    x, w, c = expert_operands(counts, n=150, k=200, device=device)
    a, sa = reference.quant_1x128(x)
    b, sb = reference.quant_128x128(w)
    out = triton_ops.grouped_gemm(a, sa, b, sb, c, out=poisoned((x.shape[0], 150), torch.float32, device))
    expected = reference.grouped_gemm(a.cpu(), sa.cpu(), b.cpu(), sb.cpu(), c.cpu())
    assert_matches_reference(out, expected, device)
    if x.shape[0]:
        assert rel_err(out, looped_float64(x, w, c)) < 0.06


def test_grouped_dgrad_with_transposed_expert_weights(device):
    counts = [0, 130, 1, 0, 69]
    dy, w, c = expert_operands(counts, n=150, k=150, device=device, seed=1)
    w = w[:, :, :90].contiguous()  # (E, N=150, K=90): dX (T, 90) = dY (T, 150) · W[e]
    wq, ws = reference.quant_128x128(w)
    dyq, dys = reference.quant_1x128(dy)
    wtq, wts = wq.transpose(1, 2).contiguous(), ws.transpose(1, 2).contiguous()
    out = triton_ops.grouped_gemm(dyq, dys, wtq, wts, c, out=poisoned((200, 90), torch.float32, device))
    assert rel_err(out, looped_float64(dy, w.transpose(1, 2), c)) < 0.06


@pytest.mark.parametrize("counts", COUNTS)
def test_grouped_wgrad_reduces_over_each_group_only(device, counts):
    x, _, c = expert_operands(counts, n=1, k=70, device=device, seed=2)
    dy = torch.randn(x.shape[0], 90, device=device)
    dyt, sdy = reference.grouped_quant_128x1(dy.cpu(), c.cpu())
    xt, sx = reference.grouped_quant_128x1(x.cpu(), c.cpu())
    e = len(counts)
    out = triton_ops.grouped_wgrad(dyt.to(device), sdy.to(device), xt.to(device), sx.to(device), c,
                                   out=poisoned((e, 90, 70), torch.float32, device))
    assert_matches_reference(out, reference.grouped_wgrad(dyt, sdy, xt, sx, c.cpu()), device)
    start = 0
    for g, rows in enumerate(counts):
        exact = dy[start:start + rows].double().cpu().t() @ x[start:start + rows].double().cpu()
        if rows == 0:
            assert bool((out[g] == 0).all()), "an expert without tokens gets a zero gradient"
        else:
            assert rel_err(out[g], exact) < 0.06
        start += rows


def test_grouped_quant_then_wgrad_on_triton_end_to_end(device):
    counts = [3, 0, 140]
    x, _, c = expert_operands(counts, n=1, k=64, device=device, seed=3)
    dy = torch.randn(143, 40, device=device)
    dyt, sdy = triton_ops.grouped_quant_128x1(dy, c)
    xt, sx = triton_ops.grouped_quant_128x1(x, c)
    assert dyt.dtype == FP8 and dyt.shape == (40, (2 + 3) * 128)  # tile-padded: ceil(143/128) + 3 groups
    out = triton_ops.grouped_wgrad(dyt, sdy, xt, sx, c)
    assert rel_err(out[2], dy[3:].double().cpu().t() @ x[3:].double().cpu()) < 0.06
