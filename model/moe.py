"""DeepSeekMoE: shared experts plus fine-grained routed SwiGLU experts, and the dense SwiGLU MLP.

Dispatch is sorted, never looped: the (token, expert) pairs are sorted by expert, the tokens gathered
into one (N·K, dim) matrix, the experts run as grouped matmuls over their stacked (E, out, in) weights,
and the outputs are put back in token order with the inverse permutation and summed with their
gating weights. `Experts.grouped_mm` is a replaceable
callable (FP8 swaps in its grouped GEMM). No tokens are dropped (V3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from model.config import ModelArgs
from model.gate import Gate
from model.grouped_mm import default_grouped_mm


class MLP(nn.Module):
    """SwiGLU feed-forward: w2(silu(w1 x) * w3 x)."""

    def __init__(self, dim: int, inter_dim: int):
        super().__init__()
        self.w1 = nn.Linear(dim, inter_dim, bias=False)
        self.w2 = nn.Linear(inter_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, inter_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Experts(nn.Module):
    """E SwiGLU experts with stacked weights: w1, w3 (E, inter, dim), w2 (E, dim, inter)."""

    def __init__(self, n_experts: int, dim: int, inter_dim: int):
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(n_experts, inter_dim, dim))
        self.w2 = nn.Parameter(torch.empty(n_experts, dim, inter_dim))
        self.w3 = nn.Parameter(torch.empty(n_experts, inter_dim, dim))
        self.grouped_mm = default_grouped_mm

    def forward(self, x_sorted: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """x_sorted (N, dim), rows grouped by expert with counts (E,) -> (N, dim)."""
        gmm = self.grouped_mm
        h = F.silu(gmm(x_sorted, self.w1, counts)) * gmm(x_sorted, self.w3, counts)  # (N, inter)
        return gmm(h, self.w2, counts)


class MoE(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.dim = args.dim
        self.n_experts = args.n_routed_experts
        self.gate = Gate(args)
        self.experts = Experts(args.n_routed_experts, args.dim, args.moe_inter_dim)
        self.shared_experts = MLP(args.dim, args.n_shared_experts * args.moe_inter_dim) if args.n_shared_experts else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, T, dim) -> output (B, T, dim), balance loss (scalar), tokens per expert (E,) int64."""
        B, T, D = x.shape
        flat = x.reshape(-1, D)  # (N, dim)
        weights, indices, scores = self.gate(flat)  # (N, K), (N, K), (N, E)
        K = indices.shape[1]
        expert_of_pair = indices.flatten()  # (N*K,)
        order = torch.argsort(expert_of_pair, stable=True)
        counts = torch.bincount(expert_of_pair, minlength=self.n_experts)  # (E,)
        out = self.experts(flat[order // K], counts)  # (N*K, dim), rows sorted by expert
        # Un-sort with the inverse permutation and sum each token's K outputs: a gather and a reduction,
        # deterministic (no atomic scatter-add) and cheap to differentiate.
        unsort = torch.empty_like(order)
        unsort[order] = torch.arange(order.numel(), device=order.device)
        y = (out[unsort].view(-1, K, D) * weights.unsqueeze(-1).to(out.dtype)).sum(dim=1)  # (N, dim)
        if self.shared_experts is not None:
            y = y + self.shared_experts(flat)
        balance = self.gate.balance_loss(scores, indices, B)
        return y.view(B, T, D), balance, counts.detach()
