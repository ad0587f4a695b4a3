"""DeepSeekMoE: routing rules of the gate, and sorted dispatch with grouped matmuls."""

import pytest
import torch

from model import get_preset
from model.grouped_mm import default_grouped_mm, looped_mm, padded_bmm, torch_grouped_mm
from model.transformer import Gate, MoE


@pytest.mark.parametrize("impl", [padded_bmm, default_grouped_mm, torch_grouped_mm])
def test_grouped_mm_matches_a_loop_over_experts_forward_and_backward(impl):
    torch.manual_seed(0)
    counts = torch.tensor([3, 0, 9, 1, 4])  # an idle expert too
    x = torch.randn(17, 16, requires_grad=True)
    w = torch.randn(5, 8, 16, requires_grad=True)
    y = impl(x, w, counts)
    g = torch.randn_like(y)
    gx, gw = torch.autograd.grad(y, (x, w), g)
    y_ref = looped_mm(x, w, counts)
    gx_ref, gw_ref = torch.autograd.grad(y_ref, (x, w), g)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(gx, gx_ref)
    torch.testing.assert_close(gw, gw_ref)


def reference_moe(moe: MoE, x: torch.Tensor) -> torch.Tensor:
    """The DeepSeek reference's per-expert loop, for comparison only."""
    flat = x.reshape(-1, x.shape[-1])
    weights, indices, _ = moe.gate(flat)
    y = torch.zeros_like(flat)
    e = moe.experts
    for i in range(moe.n_experts):
        rows, slot = torch.where(indices == i)
        h = torch.nn.functional.silu(flat[rows] @ e.w1[i].T) * (flat[rows] @ e.w3[i].T)
        y[rows] += (h @ e.w2[i].T) * weights[rows, slot, None]
    return (y + moe.shared_experts(flat)).view_as(x)


def test_sorted_dispatch_equals_the_per_expert_loop():
    torch.manual_seed(0)
    moe = MoE(get_preset("tiny")).double()
    for p in moe.parameters():
        torch.nn.init.normal_(p, 0.0, 0.3)
    x = torch.randn(3, 11, 64, dtype=torch.float64)
    y, balance, counts = moe(x)
    torch.testing.assert_close(y, reference_moe(moe, x), rtol=1e-10, atol=1e-12)
    assert counts.sum() == 3 * 11 * 2 and counts.dtype == torch.int64
    assert balance.item() >= 1.0 - 1e-9  # Σ f·P >= ... equals 1 when perfectly balanced


def test_a_swapped_grouped_mm_is_used_for_every_expert_matmul():
    moe = MoE(get_preset("tiny"))
    calls = []

    def spy(x, w, counts):
        calls.append(tuple(w.shape))
        return looped_mm(x, w, counts)

    moe.experts.grouped_mm = spy
    moe(torch.randn(2, 5, 64))
    assert calls == [(8, 32, 64), (8, 32, 64), (8, 64, 32)]


def test_group_limited_routing_keeps_each_token_within_topk_groups():
    torch.manual_seed(0)
    args = get_preset("tiny", n_routed_experts=16, n_groups=4, topk_groups=2, n_activated_experts=4)
    gate = Gate(args)
    torch.nn.init.normal_(gate.weight, 0.0, 1.0)
    _, indices, _ = gate(torch.randn(200, 64))
    groups = indices // 4
    assert max(len(set(row.tolist())) for row in groups) <= 2


def test_the_bias_steers_selection_but_not_the_weights():
    torch.manual_seed(0)
    gate = Gate(get_preset("tiny", n_groups=1, topk_groups=1))
    torch.nn.init.normal_(gate.weight, 0.0, 0.5)
    x = torch.randn(50, 64)
    gate.bias[3] = 10.0  # expert 3 wins every token's selection...
    weights, indices, scores = gate(x)
    assert (indices == 3).any(dim=1).all()
    # ...but its gating weight is its own unbiased sigmoid affinity, normalised over the chosen two.
    chosen = scores.gather(1, indices)
    torch.testing.assert_close(weights, chosen / chosen.sum(dim=1, keepdim=True))


def test_softmax_gating_as_in_v2_does_not_renormalise():
    torch.manual_seed(0)
    gate = Gate(get_preset("tiny", score_func="softmax", n_groups=1, topk_groups=1, route_scale=1.0))
    torch.nn.init.normal_(gate.weight, 0.0, 0.5)
    weights, indices, scores = gate(torch.randn(10, 64))
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(10))
    torch.testing.assert_close(weights, scores.gather(1, indices))
    assert (weights.sum(dim=1) < 1).all()


def test_under_bf16_autocast_the_experts_run_in_bf16_and_agree_with_float32():
    torch.manual_seed(0)
    moe = MoE(get_preset("tiny"))
    for p in moe.parameters():
        torch.nn.init.normal_(p, 0.0, 0.1)
    x = torch.randn(2, 9, 64)
    seen = []

    def spy(a, w, counts):
        y = default_grouped_mm(a, w, counts)
        seen.append(y.dtype)
        return y

    moe.experts.grouped_mm = spy
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y16, _, _ = moe(x)
    y32, _, _ = moe(x)
    assert seen[:3] == [torch.bfloat16] * 3 and seen[3:] == [torch.float32] * 3
    torch.testing.assert_close(y16.float(), y32, rtol=0.05, atol=0.02)
    y16.float().sum().backward()
    assert moe.experts.w1.grad.dtype == torch.float32


def test_sequence_balance_loss_is_one_when_affinities_are_uniform_and_grows_with_skew():
    args = get_preset("tiny", n_groups=1, topk_groups=1)
    gate = Gate(args)
    torch.nn.init.zeros_(gate.weight)  # every affinity 0.5: P_i = 1/E, and Σ_i f_i = E always
    x = torch.randn(2 * 10, 64)
    _, indices, scores = gate(x)
    assert gate.balance_loss(scores, indices, batch=2).item() == pytest.approx(1.0)
    # All tokens on experts 0 and 1, which also hold most of the affinity: Σ f·P approaches E/K = 4.
    skewed = torch.full((20, 8), 0.01)
    skewed[:, :2] = 0.99
    loss = gate.balance_loss(skewed, torch.tensor([[0, 1]] * 20), batch=2).item()
    assert loss == pytest.approx(4 * 0.99 / (0.99 + 0.03), rel=1e-5)
