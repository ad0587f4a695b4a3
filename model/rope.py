"""Rotary position embedding for MLA's decoupled key/query part, with the YaRN long-context extension.

The frequency table follows the reference `precompute_freqs_cis`: when `max_seq_len` exceeds
`original_seq_len`, YaRN blends interpolated (÷ rope_factor) and original frequencies with a linear ramp
between the `beta_fast` and `beta_slow` correction dimensions, and MLA multiplies its softmax scale by
mscale² (see `yarn_softmax_mscale`). Pairs are interleaved (x[2i], x[2i+1]) as in the reference.
Positions are gathered per token, so `position_ids` may restart at document boundaries.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from model.config import ModelArgs


def rope_frequencies(args: ModelArgs) -> torch.Tensor:
    """Inverse frequencies (qk_rope_head_dim // 2,), float64, YaRN-corrected when extending context."""
    dim, base = args.qk_rope_head_dim, args.rope_theta
    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if args.max_seq_len > args.original_seq_len:

        def correction_dim(rotations: float) -> float:
            return dim * math.log(args.original_seq_len / (rotations * 2 * math.pi)) / (2 * math.log(base))

        low = max(math.floor(correction_dim(args.beta_fast)), 0)
        high = min(math.ceil(correction_dim(args.beta_slow)), dim - 1)
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low + 1e-3)).clamp(0, 1)
        smooth = 1 - ramp  # 1: keep the original (high) frequency, 0: interpolate fully
        freqs = freqs * (smooth + (1 - smooth) / args.rope_factor)
    return freqs


def yarn_softmax_mscale(args: ModelArgs) -> float:
    """Factor on the attention softmax scale: mscale² under YaRN, 1 otherwise (reference MLA.__init__)."""
    if args.max_seq_len <= args.original_seq_len:
        return 1.0
    mscale = 0.1 * args.mscale * math.log(args.rope_factor) + 1.0
    return mscale * mscale


class RotaryEmbedding(nn.Module):
    """Holds cos/sin tables for positions [0, max_seq_len); `forward(position_ids)` gathers them."""

    def __init__(self, args: ModelArgs):
        super().__init__()
        angles = torch.outer(torch.arange(args.max_seq_len, dtype=torch.float64), rope_frequencies(args))
        # Not persistent: derived from ModelArgs, so checkpoints stay free of it and it follows .to(device).
        self.register_buffer("cos", angles.cos().float(), persistent=False)  # (S, R/2)
        self.register_buffer("sin", angles.sin().float(), persistent=False)
        self.max_seq_len = args.max_seq_len

    def forward(self, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """position_ids (B, T) or (T,) -> cos, sin each (B or 1, T, 1, R/2), broadcastable over heads."""
        if position_ids.dim() == 1:
            position_ids = position_ids.unsqueeze(0)
        return self.cos[position_ids].unsqueeze(2), self.sin[position_ids].unsqueeze(2)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, T, H, R) rotated pairwise by the angles in cos/sin (B|1, T, 1, R/2)."""
    pairs = x.unflatten(-1, (-1, 2))  # (B, T, H, R/2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)
