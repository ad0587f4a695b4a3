"""A Transformer block: pre-norm MLA attention, then a dense MLP or a DeepSeekMoE layer.

`forward` returns (hidden, balance_loss, expert_counts) rather than stashing the routing counts on the
module: the caller records the counts once per forward, so an activation-checkpoint recompute of this
block (which discards its outputs) can never count the same tokens twice.
"""

from __future__ import annotations

import torch
from torch import nn

from model.config import ModelArgs
from model.mla import MLA, MLACache
from model.moe import MLP, MoE
from model.norm import RMSNorm


class Block(nn.Module):
    def __init__(self, layer_id: int, args: ModelArgs):
        super().__init__()
        self.layer_id = layer_id
        self.attn_norm = RMSNorm(args.dim, args.norm_eps)
        self.attn = MLA(args)
        self.ffn_norm = RMSNorm(args.dim, args.norm_eps)
        self.ffn = MLP(args.dim, args.inter_dim) if layer_id < args.n_dense_layers else MoE(args)

    @property
    def is_moe(self) -> bool:
        return isinstance(self.ffn, MoE)

    def forward(self, x: torch.Tensor, rope, mask: torch.Tensor | None = None, cache: MLACache | None = None,
                start_pos: int = 0) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """x (B, T, dim) -> (x, balance loss or None, tokens per routed expert (E,) or None)."""
        x = x + self.attn(self.attn_norm(x), rope, mask, cache, start_pos)
        if not self.is_moe:
            return x + self.ffn(self.ffn_norm(x)), None, None
        y, balance, counts = self.ffn(self.ffn_norm(x))
        return x + y, balance, counts
