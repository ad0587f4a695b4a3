"""Multi-head Latent Attention (DeepSeek-V2/V3), with a naive and an absorbed path.

Shapes: B batch, T new tokens, S cached+new tokens, H heads, C kv_lora_rank, R qk_rope_head_dim,
Dn qk_nope_head_dim, Dv v_head_dim.

- Keys and values are compressed jointly into a C-dim latent (wkv_a -> RMSNorm), expanded per head by
  wkv_b; the RoPE part of the key (R dims) is computed from x directly and shared by all heads.
- Queries are optionally low-rank (wq_a -> RMSNorm -> wq_b) when q_lora_rank > 0.
- Naive path (training, `cache is None`): materialise K (B,T,H,Dn+R) and V (B,T,H,Dv) and call
  `F.scaled_dot_product_attention`. The QK head dim (Dn+R, 192 in V3) differs from Dv (128), which the
  flash kernel refuses, so we zero-pad V up to the QK dim and slice the output back: the padded columns
  contribute exactly zero, the flash kernel becomes eligible on GPUs, and on CPU SDPA runs its fused or
  math kernel. Costs (Dn+R-Dv)/Dv extra work in the P·V product only.
- Absorbed path (generation, with an `MLACache`): cache only the normalised latent (C) and the rotated
  shared key (R) per token, fold wkv_b's key half into the query and its value half into the output, as
  the reference's `attn_impl="absorb"`. Both paths compute the same function (tests check float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from model.config import ModelArgs
from model.norm import RMSNorm
from model.rope import apply_rotary, yarn_softmax_mscale


@dataclass
class MLACache:
    """One layer's absorbed cache: latent (B, S_max, C) and rotated shared key (B, S_max, R)."""

    latent: torch.Tensor
    k_rope: torch.Tensor

    @staticmethod
    def new(args: ModelArgs, batch: int, max_len: int, dtype=None, device=None) -> MLACache:
        return MLACache(
            torch.zeros(batch, max_len, args.kv_lora_rank, dtype=dtype, device=device),
            torch.zeros(batch, max_len, args.qk_rope_head_dim, dtype=dtype, device=device),
        )

    @property
    def values_per_token(self) -> int:
        return self.latent.shape[-1] + self.k_rope.shape[-1]


class MLA(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.n_heads = args.n_heads
        self.q_lora_rank = args.q_lora_rank
        self.kv_lora_rank = args.kv_lora_rank
        self.qk_nope_head_dim = args.qk_nope_head_dim
        self.qk_rope_head_dim = args.qk_rope_head_dim
        self.qk_head_dim = args.qk_head_dim
        self.v_head_dim = args.v_head_dim
        if self.q_lora_rank > 0:
            self.wq_a = nn.Linear(args.dim, self.q_lora_rank, bias=False)
            self.q_norm = RMSNorm(self.q_lora_rank, args.norm_eps)
            self.wq_b = nn.Linear(self.q_lora_rank, self.n_heads * self.qk_head_dim, bias=False)
        else:
            self.wq = nn.Linear(args.dim, self.n_heads * self.qk_head_dim, bias=False)
        self.wkv_a = nn.Linear(args.dim, self.kv_lora_rank + self.qk_rope_head_dim, bias=False)
        self.kv_norm = RMSNorm(self.kv_lora_rank, args.norm_eps)
        self.wkv_b = nn.Linear(self.kv_lora_rank, self.n_heads * (self.qk_nope_head_dim + self.v_head_dim), bias=False)
        self.wo = nn.Linear(self.n_heads * self.v_head_dim, args.dim, bias=False)
        self.softmax_scale = self.qk_head_dim**-0.5 * yarn_softmax_mscale(args)

    def _queries(self, x: torch.Tensor, cos, sin) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        q = self.wq(x) if self.q_lora_rank == 0 else self.wq_b(self.q_norm(self.wq_a(x)))
        q = q.view(B, T, self.n_heads, self.qk_head_dim)
        q_nope, q_rope = q.split([self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1)
        return q_nope, apply_rotary(q_rope, cos, sin)  # (B, T, H, Dn), (B, T, H, R)

    def _latent(self, x: torch.Tensor, cos, sin) -> tuple[torch.Tensor, torch.Tensor]:
        kv, k_rope = self.wkv_a(x).split([self.kv_lora_rank, self.qk_rope_head_dim], dim=-1)
        k_rope = apply_rotary(k_rope.unsqueeze(2), cos, sin).squeeze(2)  # (B, T, R), shared by the heads
        return self.kv_norm(kv), k_rope  # (B, T, C), (B, T, R)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor | None = None,
                cache: MLACache | None = None, start_pos: int = 0) -> torch.Tensor:
        """x (B, T, dim) -> (B, T, dim).

        mask: None for plain causal attention, else a bool (B, 1, T, T) "may attend" mask (documents).
        cache: absorbed path; the new tokens sit at cache slots [start_pos, start_pos + T) and attend to
        every slot before them (a causal mask inside the new chunk), or, with `mask` a bool
        (B, T, start_pos + T), to the slots it allows (padded batches in generation).
        """
        if cache is not None:
            return self._forward_absorbed(x, rope, cache, start_pos, mask)
        return self._forward_naive(x, rope, mask)

    def _forward_naive(self, x, rope, mask):
        B, T, _ = x.shape
        cos, sin = rope
        q_nope, q_rope = self._queries(x, cos, sin)
        latent, k_rope = self._latent(x, cos, sin)
        kv = self.wkv_b(latent).view(B, T, self.n_heads, self.qk_nope_head_dim + self.v_head_dim)
        k_nope, v = kv.split([self.qk_nope_head_dim, self.v_head_dim], dim=-1)
        q = torch.cat([q_nope, q_rope], dim=-1).transpose(1, 2)  # (B, H, T, Dn+R)
        k = torch.cat([k_nope, k_rope.unsqueeze(2).expand(-1, -1, self.n_heads, -1)], dim=-1).transpose(1, 2)
        v = v.transpose(1, 2)  # (B, H, T, Dv)
        pad = self.qk_head_dim - self.v_head_dim
        if pad > 0:  # see the module docstring: equal head dims keep SDPA's flash kernel eligible
            v = F.pad(v, (0, pad))
        if mask is None:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.softmax_scale)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.softmax_scale)
        out = out[..., : self.v_head_dim] if pad > 0 else out
        return self.wo(out.transpose(1, 2).flatten(2))  # (B, T, H*Dv) -> (B, T, dim)

    def _forward_absorbed(self, x, rope, cache: MLACache, start_pos: int, mask: torch.Tensor | None = None):
        B, T, _ = x.shape
        end = start_pos + T
        cos, sin = rope
        q_nope, q_rope = self._queries(x, cos, sin)
        latent, k_rope = self._latent(x, cos, sin)
        cache.latent[:B, start_pos:end] = latent.to(cache.latent.dtype)
        cache.k_rope[:B, start_pos:end] = k_rope.to(cache.k_rope.dtype)
        wkv_b = self.wkv_b.weight.view(self.n_heads, -1, self.kv_lora_rank)  # (H, Dn+Dv, C)
        w_k, w_v = wkv_b[:, : self.qk_nope_head_dim], wkv_b[:, self.qk_nope_head_dim :]
        q_latent = torch.einsum("bthd,hdc->bthc", q_nope, w_k)  # the key up-projection folded into q
        lat, kr = cache.latent[:B, :end].to(x.dtype), cache.k_rope[:B, :end].to(x.dtype)
        scores = (torch.einsum("bthc,bsc->bths", q_latent, lat)
                  + torch.einsum("bthr,bsr->bths", q_rope, kr)) * self.softmax_scale  # (B, T, H, S)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, :, None, :], float("-inf"))
        elif T > 1:
            key_pos = torch.arange(end, device=x.device)
            query_pos = torch.arange(start_pos, end, device=x.device)
            future = key_pos[None, :] > query_pos[:, None]  # (T, S)
            scores = scores.masked_fill(future[None, :, None, :], float("-inf"))
        probs = scores.softmax(dim=-1, dtype=torch.promote_types(scores.dtype, torch.float32)).to(x.dtype)
        out = torch.einsum("bths,bsc->bthc", probs, lat)
        out = torch.einsum("bthc,hdc->bthd", out, w_v)  # the value up-projection folded into the output
        return self.wo(out.flatten(2))
