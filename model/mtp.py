"""Multi-token prediction (DeepSeek-V3 §2.2): D sequential modules, each predicting one token further.

Module k combines the previous depth's hidden state at position i with the embedding of token i+k,
    h'_i = M_k [RMSNorm(h^{k-1}_i) ; RMSNorm(Emb(t_{i+k}))]      (M_k: 2·dim -> dim projection)
runs one Transformer block over it and predicts token i+k+1 with the SHARED output head (after its own
RMSNorm). Embedding and head are the main model's, passed in, never copied. The loss is
(λ/D)·Σ_k CE_k. At inference the modules are simply not run (or dropped with `Transformer.drop_mtp()`):
the main head never depends on them.
"""

from __future__ import annotations

import torch
from torch import nn

from model.block import Block
from model.config import ModelArgs
from model.norm import RMSNorm


class MTPModule(nn.Module):
    def __init__(self, depth: int, args: ModelArgs):
        super().__init__()
        self.depth = depth
        self.hnorm = RMSNorm(args.dim, args.norm_eps)
        self.enorm = RMSNorm(args.dim, args.norm_eps)
        self.proj = nn.Linear(2 * args.dim, args.dim, bias=False)
        # MoE when the main model has MoE layers (V3's MTP block is a MoE block), else dense.
        self.block = Block(args.n_layers if args.n_moe_layers else 0, args)
        self.norm = RMSNorm(args.dim, args.norm_eps)

    def forward(self, h_prev: torch.Tensor, emb_next: torch.Tensor, rope, mask=None):
        """h_prev (B, T, dim), emb_next (B, T, dim) = Emb(t_{i+k}) -> (h_k, balance, counts)."""
        h = self.proj(torch.cat([self.hnorm(h_prev), self.enorm(emb_next)], dim=-1))
        return self.block(h, rope, mask)


def shift_left(t: torch.Tensor, k: int, fill: int) -> torch.Tensor:
    """(B, T) -> (B, T): t[:, i + k], `fill` past the end."""
    if k == 0:
        return t
    return torch.cat([t[:, k:], t.new_full((t.shape[0], min(k, t.shape[1])), fill)], dim=1)[:, : t.shape[1]]
