"""The DeepSeek-V3-style Transformer in one file, read top to bottom as one forward pass:
documents in packed rows, RMSNorm, RoPE (YaRN), Multi-head Latent Attention, the MoE router, DeepSeekMoE,
the block, multi-token prediction, and the `Transformer` that ties them together.

    model = Transformer(get_preset("tiny"))
    out = model(tokens[:, :-1], targets=tokens[:, 1:])      # ModelOutput
    out.loss.backward(); optimizer.step()
    model.update_router_biases()                           # exactly once per optimizer step
    model.expert_load_stats()["max_over_mean"]             # for the metrics log

`loss = main_loss + mtp_lambda · mtp_loss + seq_aux_alpha · balance_loss`; targets equal to IGNORE_INDEX
are ignored. Generation uses `new_kv_cache` + `decode` (absorbed MLA); see generation.py. The experts'
grouped matmul is in grouped_mm.py, parameter and FLOP counts in params.py.

Shapes: B batch, T new tokens, S cached+new tokens, H heads, C kv_lora_rank, R qk_rope_head_dim,
Dn qk_nope_head_dim, Dv v_head_dim, E routed experts, K experts per token, N tokens (B·T).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from model.config import ModelArgs
from model.grouped_mm import default_grouped_mm

IGNORE_INDEX = -100  # targets the loss skips (padding, and MTP targets past the end of a row)


# -- documents in packed rows ---------------------------------------------------------------------
# A token-shard row packs several documents (`doc_starts` gives their offsets). With segment ids the
# model keeps attention inside each document and restarts RoPE positions at each start, so packing does
# not leak context across documents:
#
#     seg = segment_ids_from_starts([[0, 5], [0]], length=8)   # [[0,0,0,0,0,1,1,1], [0,...,0]]
#     out = model(tokens, targets, segment_ids=seg)            # positions derived from seg


def segment_ids_from_starts(doc_starts, length: int, device=None) -> torch.Tensor:
    """Per row, the offsets where a document begins (lists or NumPy arrays) -> (B, length) int64 segment
    ids, stepping up at each start. The trainer's loader builds its batches with this too."""
    marks = torch.zeros(len(doc_starts), length, dtype=torch.int64)
    for row, starts in enumerate(doc_starts):
        starts = torch.as_tensor(starts, dtype=torch.int64)
        marks[row, starts[(starts > 0) & (starts < length)]] = 1  # a start at 0 opens the first segment anyway
    return marks.cumsum(dim=1).to(device)


def position_ids_from_segments(segment_ids: torch.Tensor) -> torch.Tensor:
    """(B, T) segment ids -> (B, T) positions restarting at 0 where the segment changes."""
    B, T = segment_ids.shape
    idx = torch.arange(T, device=segment_ids.device).expand(B, T)
    starts = torch.ones_like(segment_ids, dtype=torch.bool)
    starts[:, 1:] = segment_ids[:, 1:] != segment_ids[:, :-1]
    start_idx = torch.where(starts, idx, torch.zeros_like(idx)).cummax(dim=1).values
    return idx - start_idx


def document_causal_mask(segment_ids: torch.Tensor) -> torch.Tensor:
    """(B, T) segment ids -> bool (B, 1, T, T): query i may attend key j iff j <= i in the same segment."""
    T = segment_ids.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool, device=segment_ids.device).tril()
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    return (same & causal).unsqueeze(1)


# -- RMSNorm: on the residual stream and on MLA's query and KV latents -------------------------------


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)


# -- Rotary position embedding for MLA's decoupled key/query part, with the YaRN extension ----------
# Pre-training uses plain RoPE. Context extension (`args.yarn`) uses the reference `precompute_freqs_cis`
# YaRN table: interpolated (÷ rope_factor) and original frequencies blended with a linear ramp between
# the `beta_fast` and `beta_slow` correction dimensions of `original_seq_len`, and MLA multiplies its
# softmax scale by mscale² (see `yarn_softmax_mscale`). The reference switches YaRN on whenever
# max_seq_len > original_seq_len; here the switch is explicit, as in transformers' `rope_scaling`.
# Pairs are interleaved (x[2i], x[2i+1]) as in the reference. Positions are gathered per token, so
# `position_ids` may restart at document boundaries.


def yarn_correction_range(args: ModelArgs) -> tuple[int, int]:
    """The rope pairs [low, high] between which YaRN ramps from original to interpolated frequencies."""
    dim, base = args.qk_rope_head_dim, args.rope_theta

    def correction_dim(rotations: float) -> float:
        return dim * math.log(args.original_seq_len / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(correction_dim(args.beta_fast)), 0)
    high = min(math.ceil(correction_dim(args.beta_slow)), dim - 1)
    return low, high


def rope_frequencies(args: ModelArgs) -> torch.Tensor:
    """Inverse frequencies (qk_rope_head_dim // 2,), float64, YaRN-corrected under `args.yarn`."""
    dim, base = args.qk_rope_head_dim, args.rope_theta
    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if args.yarn:
        low, high = yarn_correction_range(args)
        span = high - low if high != low else 0.001  # the reference's guard, for an empty range only
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / span).clamp(0, 1)
        smooth = 1 - ramp  # 1: keep the original (high) frequency, 0: interpolate fully
        freqs = freqs * (smooth + (1 - smooth) / args.rope_factor)
    return freqs


def yarn_softmax_mscale(args: ModelArgs) -> float:
    """Factor on the attention softmax scale: mscale² under YaRN, 1 otherwise (reference MLA.__init__)."""
    if not args.yarn or args.rope_factor <= 1:
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


# -- Multi-head Latent Attention (DeepSeek-V2/V3), with a naive and an absorbed path -----------------
# - Keys and values are compressed jointly into a C-dim latent (wkv_a -> RMSNorm), expanded per head by
#   wkv_b; the RoPE part of the key (R dims) is computed from x directly and shared by all heads.
# - Queries are optionally low-rank (wq_a -> RMSNorm -> wq_b) when q_lora_rank > 0.
# - Naive path (training, `cache is None`): materialise K (B,T,H,Dn+R) and V (B,T,H,Dv) and call
#   `F.scaled_dot_product_attention`. The QK head dim (Dn+R, 192 in V3) differs from Dv (128), which the
#   flash kernel refuses, so we zero-pad V up to the QK dim and slice the output back: the padded columns
#   contribute exactly zero, the flash kernel becomes eligible on GPUs, and on CPU SDPA runs its fused or
#   math kernel. Costs (Dn+R-Dv)/Dv extra work in the P·V product only.
# - Absorbed path (generation, with an `MLACache`): cache only the normalised latent (C) and the rotated
#   shared key (R) per token, fold wkv_b's key half into the query and its value half into the output, as
#   the reference's `attn_impl="absorb"`. Both paths compute the same function (tests check float64).


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
        if pad > 0:  # see the MLA notes above: equal head dims keep SDPA's flash kernel eligible
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


# -- The MoE router: affinities, group-limited top-k, the aux-loss-free bias, the balance loss ------
# V3 gating: sigmoid affinities s; a per-expert bias b is added to s ONLY to choose experts (group
# score = sum of a group's top-2 biased scores, keep `topk_groups` groups, then top-k); the gating
# weights are the unbiased s of the chosen experts, normalised over them and times `route_scale`. V2
# gating: softmax affinities, group score = max, weights not normalised. Logits are computed in float32.
#
# The bias is a buffer (in `state_dict()`, so in checkpoints) kept in float32 even when the model is cast
# to bf16, because ±γ = 0.001 steps would vanish in bf16. The router does NOT update it: it reports the
# chosen experts' counts to the Transformer, which accumulates them once per forward (never again in an
# activation-checkpoint recompute) into `load_counts`; `Transformer.update_router_biases()` turns them
# into the ±γ update once per optimizer step (`apply_bias_update`).

_LOW_PRECISION = (torch.float16, torch.bfloat16)


class Gate(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.n_experts = args.n_routed_experts
        self.topk = args.n_activated_experts
        self.n_groups = args.n_groups
        self.topk_groups = args.topk_groups
        self.score_func = args.score_func
        self.route_scale = args.route_scale
        self.normalize = args.normalize_weights
        # A Parameter, not an nn.Linear, so FP8 conversion leaves the router in high precision.
        self.weight = nn.Parameter(torch.empty(args.n_routed_experts, args.dim))
        self.register_buffer("bias", torch.zeros(args.n_routed_experts, dtype=torch.float32))
        # Tokens routed to each expert since the last bias update, and the window before (for stats).
        # Plain attributes, not buffers: DDP broadcasts rank 0's buffers before every forward, which
        # would overwrite each rank's own counts; update_router_biases all-reduces them instead.
        self.load_counts = torch.zeros(args.n_routed_experts, dtype=torch.int64)
        self.last_load = torch.zeros(args.n_routed_experts, dtype=torch.int64)

    def _apply(self, fn, recurse=True):
        before = self.bias
        super()._apply(fn, recurse)
        if self.bias.dtype in _LOW_PRECISION and before.dtype not in _LOW_PRECISION:
            # Keep the balancing bias in float32 (see the router notes above): move the original values,
            # not the rounded copy.
            self._buffers["bias"] = before.to(device=self.bias.device, dtype=torch.float32)
        # Follow the bias to its device; the counts are per-step scratch, so a move starts them afresh.
        self.load_counts = torch.zeros(self.n_experts, dtype=torch.int64, device=self.bias.device)
        self.last_load = torch.zeros(self.n_experts, dtype=torch.int64, device=self.bias.device)
        return self

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, dim) -> affinities (N, E), float32 (float64 for a float64 model)."""
        dtype = torch.promote_types(x.dtype, torch.float32)
        with torch.autocast(x.device.type, enabled=False):  # routing stays in float32 under bf16 autocast
            logits = F.linear(x.to(dtype), self.weight.to(dtype))
        return logits.softmax(dim=-1) if self.score_func == "softmax" else logits.sigmoid()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (N, dim) -> weights (N, K) in x's dtype, expert indices (N, K), affinities (N, E)."""
        scores = self.scores(x)
        choice = scores + self.bias.to(scores.dtype)  # the bias steers selection only
        if self.n_groups > 1:
            grouped = choice.view(x.shape[0], self.n_groups, -1)  # (N, G, E/G)
            if self.score_func == "sigmoid" and grouped.shape[-1] >= 2:
                group_scores = grouped.topk(2, dim=-1).values.sum(dim=-1)
            else:
                group_scores = grouped.amax(dim=-1)
            keep = group_scores.topk(self.topk_groups, dim=-1).indices  # (N, topk_groups)
            dropped = torch.ones_like(group_scores, dtype=torch.bool).scatter_(1, keep, False)
            choice = grouped.masked_fill(dropped.unsqueeze(-1), float("-inf")).flatten(1)
        indices = choice.topk(self.topk, dim=-1).indices  # (N, K)
        weights = scores.gather(1, indices)
        if self.normalize:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        return (weights * self.route_scale).to(x.dtype), indices, scores

    def balance_loss(self, scores: torch.Tensor, indices: torch.Tensor, batch: int) -> torch.Tensor:
        """V3's sequence-wise balance loss Σ_i f_i·P_i, averaged over sequences (α is applied by the caller).

        scores (B*T, E) affinities, indices (B*T, K). f_i = E/(K·T) · (tokens of the sequence routed to i),
        P_i = mean over the sequence of the affinities normalised to sum 1 per token.
        """
        E, K = self.n_experts, self.topk
        probs = (scores / scores.sum(dim=-1, keepdim=True)).view(batch, -1, E)  # (B, T, E)
        T = probs.shape[1]
        flat = indices.reshape(batch, T * K)
        routed = torch.zeros(batch, E, dtype=probs.dtype, device=probs.device)
        routed.scatter_add_(1, flat, torch.ones_like(flat, dtype=probs.dtype))
        f = routed * (E / (K * T))  # (B, E), no gradient: selection is discrete
        return (f * probs.mean(dim=1)).sum(dim=-1).mean()

    @torch.no_grad()
    def apply_bias_update(self, speed: float) -> None:
        """b_i += speed · sign(mean load − load_i), re-centred to zero mean; then start a new window."""
        load = self.load_counts.to(torch.float32)
        if load.sum() > 0:
            delta = speed * torch.sign(load.mean() - load)
            self.bias += (delta - delta.mean()).to(self.bias.dtype)
            self.last_load.copy_(self.load_counts)
        self.load_counts.zero_()


# -- DeepSeekMoE: shared experts plus fine-grained routed SwiGLU experts; the dense SwiGLU MLP -------
# Dispatch is sorted, never looped: the (token, expert) pairs are sorted by expert, the tokens gathered
# into one (N·K, dim) matrix, the experts run as grouped matmuls over their stacked (E, out, in) weights,
# and the outputs are put back in token order with the inverse permutation and summed with their gating
# weights. `Experts.grouped_mm` is a replaceable callable (FP8 swaps in its grouped GEMM). No tokens are
# dropped (V3).


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


# -- The block: pre-norm MLA attention, then a dense MLP or a DeepSeekMoE layer ---------------------


class Block(nn.Module):
    def __init__(self, layer_id: int, args: ModelArgs):
        super().__init__()
        self.attn_norm = RMSNorm(args.dim, args.norm_eps)
        self.attn = MLA(args)
        self.ffn_norm = RMSNorm(args.dim, args.norm_eps)
        self.ffn = MLP(args.dim, args.inter_dim) if layer_id < args.n_dense_layers else MoE(args)

    @property
    def is_moe(self) -> bool:
        return isinstance(self.ffn, MoE)

    def forward(self, x: torch.Tensor, rope, mask: torch.Tensor | None = None, cache: MLACache | None = None,
                start_pos: int = 0) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """x (B, T, dim) -> (x, balance loss or None, tokens per routed expert (E,) or None).

        The routing counts are returned rather than stashed on the module: the caller records them once
        per forward, so an activation-checkpoint recompute of this block (which discards its outputs) can
        never count the same tokens twice."""
        x = x + self.attn(self.attn_norm(x), rope, mask, cache, start_pos)
        if not self.is_moe:
            return x + self.ffn(self.ffn_norm(x)), None, None
        y, balance, counts = self.ffn(self.ffn_norm(x))
        return x + y, balance, counts


# -- Multi-token prediction (DeepSeek-V3 §2.2): D sequential modules, each one token further ---------
# Module k combines the previous depth's hidden state at position i with the embedding of token i+k,
#     h'_i = M_k [RMSNorm(Emb(t_{i+k})) ; RMSNorm(h^{k-1}_i)]      (M_k: 2·dim -> dim projection)
# runs one Transformer block over it and predicts token i+k+1 with the SHARED output head (after its own
# RMSNorm). The embedding comes first and h^{k-1} is the state the previous head read: the main model's
# hidden state after its final norm (k = 1), else depth k-1's after its own norm. That is the layout of
# DeepSeek-V3's released MTP weights (enorm, hnorm, eh_proj, shared_head) as transformers and vLLM run
# them (the paper's eq. 21 lists the two halves the other way round). Embedding and head are the main
# model's, passed in, never copied. The loss is (λ/D)·Σ_k CE_k. At inference the modules are simply not
# run (or dropped with `Transformer.drop_mtp()`): the main head never depends on them.


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
        """h_prev (B, T, dim) the state the previous head read, emb_next (B, T, dim) = Emb(t_{i+k})
        -> (h_k before this module's norm, balance, counts)."""
        h = self.proj(torch.cat([self.enorm(emb_next), self.hnorm(h_prev)], dim=-1))
        return self.block(h, rope, mask)


def shift_left(t: torch.Tensor, k: int, fill: int) -> torch.Tensor:
    """(B, T) -> (B, T): t[:, i + k], `fill` past the end."""
    if k == 0:
        return t
    return torch.cat([t[:, k:], t.new_full((t.shape[0], min(k, t.shape[1])), fill)], dim=1)[:, : t.shape[1]]


# -- The Transformer: embedding, blocks, head, MTP; load balancing; generation's cached decode ------


@dataclass
class ModelOutput:
    logits: torch.Tensor  # (B, T, vocab) from the main head
    loss: torch.Tensor | None = None  # main + λ·mtp + α·balance; None without targets
    main_loss: torch.Tensor | None = None
    mtp_loss: torch.Tensor | None = None  # mean over the D depths; None when MTP is off
    balance_loss: torch.Tensor | None = None  # Σ over MoE layers of Σ_i f_i·P_i (before α)


@dataclass
class KVCache:
    """Absorbed-MLA cache for every layer. `pos` is the number of slots filled; `valid` (B, max_len)
    marks slots holding real tokens (False: left padding of a shorter prompt); `next_pos` (B,) is
    each row's RoPE position for its next real token."""

    layers: list[MLACache]
    max_len: int
    valid: torch.Tensor
    next_pos: torch.Tensor
    pos: int = 0

    @property
    def values_per_token(self) -> int:
        return sum(c.values_per_token for c in self.layers)


class Transformer(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.args = args
        self.embed = nn.Embedding(args.vocab_size, args.dim)
        self.rope = RotaryEmbedding(args)
        self.layers = nn.ModuleList(Block(i, args) for i in range(args.n_layers))
        self.norm = RMSNorm(args.dim, args.norm_eps)
        self.head = nn.Linear(args.dim, args.vocab_size, bias=False)
        self.mtp = nn.ModuleList(MTPModule(k, args) for k in range(1, args.mtp_depth + 1)) if args.mtp_depth else None
        self.activation_checkpointing = False
        self.init_weights()

    # -- set-up -------------------------------------------------------------------------------------

    def init_weights(self) -> None:
        """Normal(0, init_std) for every matrix (V3: 0.006), ones for norms, zero router bias."""
        std = self.args.init_std
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, std)
            elif isinstance(m, Experts):
                for w in (m.w1, m.w2, m.w3):
                    nn.init.normal_(w, 0.0, std)
            elif isinstance(m, Gate):
                nn.init.normal_(m.weight, 0.0, std)
                m.bias.zero_()
            elif isinstance(m, RMSNorm):
                nn.init.ones_(m.weight)

    def set_activation_checkpointing(self, enabled: bool = True) -> None:
        """Recompute each block in backward (non-reentrant torch.utils.checkpoint) to save memory."""
        self.activation_checkpointing = enabled

    def drop_mtp(self) -> None:
        """Remove the MTP modules (inference); the main head's outputs are unchanged."""
        self.mtp = None

    def moe_gates(self) -> dict[str, Gate]:
        return {name.removesuffix(".ffn.gate"): m for name, m in self.named_modules() if isinstance(m, Gate)}

    # -- training forward ---------------------------------------------------------------------------

    def forward(self, tokens: torch.Tensor, targets: torch.Tensor | None = None,
                segment_ids: torch.Tensor | None = None, position_ids: torch.Tensor | None = None) -> ModelOutput:
        """tokens (B, T) long; targets (B, T) long (IGNORE_INDEX ignored); segment_ids (B, T) document ids
        within each row: attention stays inside a document and, unless position_ids (B, T) are given,
        positions restart at each document. MTP modules read the later targets themselves
        (targets[:, i+k]), padding past T with IGNORE_INDEX."""
        B, T = tokens.shape
        if T > self.args.max_seq_len:
            raise ValueError(f"sequence length {T} exceeds max_seq_len={self.args.max_seq_len}")
        if position_ids is not None and int(position_ids.max()) >= self.args.max_seq_len:
            raise ValueError(f"position {int(position_ids.max())} is beyond max_seq_len={self.args.max_seq_len}")
        mask = None
        if segment_ids is not None:
            mask = document_causal_mask(segment_ids)
            if position_ids is None:
                position_ids = position_ids_from_segments(segment_ids)
        if position_ids is None:
            position_ids = torch.arange(T, device=tokens.device)
        rope = self.rope(position_ids)

        h = self.embed(tokens)
        balance = h.new_zeros((), dtype=torch.float32)
        for layer in self.layers:
            h, layer_balance, counts = self._run_block(layer, h, rope, mask)
            balance = balance + self._account(layer, layer_balance, counts)
        hidden = self.norm(h)
        logits = self.head(hidden)
        if targets is None:
            return ModelOutput(logits=logits, balance_loss=balance)

        main_loss = _cross_entropy(logits, targets)
        mtp_loss = None
        if self.mtp is not None and len(self.mtp):
            # Token i+k of the input is targets[i+k-1] (the trainer shifted by one).
            losses = []
            for k, logits_k, mtp_balance in self._mtp_depths(hidden, lambda k: shift_left(targets, k - 1, IGNORE_INDEX),
                                                             rope, mask):
                balance = balance + mtp_balance
                losses.append(_cross_entropy(logits_k, shift_left(targets, k, IGNORE_INDEX)))
            mtp_loss = torch.stack(losses).mean()
        loss = main_loss + self.args.seq_aux_alpha * balance
        if mtp_loss is not None:
            loss = loss + self.args.mtp_lambda * mtp_loss
        return ModelOutput(logits=logits, loss=loss, main_loss=main_loss, mtp_loss=mtp_loss, balance_loss=balance)

    def _mtp_depths(self, hidden: torch.Tensor, tokens_ahead, rope, mask):
        """Run the MTP modules in turn from the main model's normed state `hidden`; yields (k, logits_k,
        balance loss of the depth). `tokens_ahead(k)` (B, T) is token i+k at position i (IGNORE_INDEX or
        anything past the end: those positions' predictions are never scored)."""
        for module in self.mtp:
            k = module.depth
            emb = self.embed(tokens_ahead(k).clamp_min(0))
            h_k, layer_balance, counts = self._run_block(module, hidden, emb, rope, mask)
            hidden = module.norm(h_k)
            yield k, self.head(hidden), self._account(module.block, layer_balance, counts)

    @torch.no_grad()
    def mtp_logits(self, tokens: torch.Tensor, segment_ids: torch.Tensor | None = None) -> list[torch.Tensor]:
        """What each MTP depth predicts on tokens (B, T): entry k-1 is (B, T-k, vocab), its position i
        predicting token i+k+1 from the main model's state at i and tokens i+1 .. i+k (speculative
        decoding, and the check that exported MTP weights mean the same in transformers)."""
        if not self.mtp:
            return []
        B, T = tokens.shape
        mask = document_causal_mask(segment_ids) if segment_ids is not None else None
        positions = position_ids_from_segments(segment_ids) if segment_ids is not None else torch.arange(T, device=tokens.device)
        rope = self.rope(positions)
        h = self.embed(tokens)
        for layer in self.layers:
            h, _, _ = layer(h, rope, mask)
        ahead = self._mtp_depths(self.norm(h), lambda k: shift_left(tokens, k, 0), rope, mask)
        return [logits_k[:, : T - k] for k, logits_k, _ in ahead]

    def _run_block(self, block: nn.Module, *inputs):
        if self.activation_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(block, *inputs, use_reentrant=False)
        return block(*inputs)

    def _account(self, block: Block, balance: torch.Tensor | None, counts: torch.Tensor | None) -> torch.Tensor:
        """Record a block's routing counts (training forward only, once) and return its balance loss."""
        if counts is None:
            return torch.zeros((), device=self.head.weight.device)
        if self.training and torch.is_grad_enabled():
            block.ffn.gate.load_counts += counts
        return balance.float()

    # -- load balancing -----------------------------------------------------------------------------

    @torch.no_grad()
    def update_router_biases(self, speed: float | None = None) -> dict:
        """Apply the aux-loss-free bias update to every router from the tokens counted since the last
        call, then reset the counts. Call exactly once per optimizer step, after `optimizer.step()`.
        Under torch.distributed the counts are summed over ranks first so every rank applies the same
        update. Returns `expert_load_stats()` of the finished step."""
        speed = self.args.bias_update_speed if speed is None else speed
        gates = list(self.moe_gates().values())
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            for gate in gates:
                torch.distributed.all_reduce(gate.load_counts)
        for gate in gates:
            gate.apply_bias_update(speed)
        return self.expert_load_stats()

    def expert_load_stats(self) -> dict:
        """Per MoE layer max/min load over mean load (1.0 = balanced), from the tokens counted since the
        last bias update, or from the last finished window when none are counted yet."""
        layers = {}
        for name, gate in self.moe_gates().items():
            load = gate.load_counts if int(gate.load_counts.sum()) else gate.last_load
            total = int(load.sum())
            if total == 0:
                continue
            load = load.double()
            mean = load.mean()
            layers[name] = {"max_over_mean": float(load.max() / mean), "min_over_mean": float(load.min() / mean),
                            "tokens": total}
        ratios = [v["max_over_mean"] for v in layers.values()]
        return {
            "max_over_mean": max(ratios) if ratios else None,
            "mean_max_over_mean": sum(ratios) / len(ratios) if ratios else None,
            "layers": layers,
        }

    # -- generation ---------------------------------------------------------------------------------

    def new_kv_cache(self, batch: int, max_len: int | None = None, dtype=None) -> KVCache:
        max_len = min(max_len or self.args.max_seq_len, self.args.max_seq_len)
        dtype = dtype or self.head.weight.dtype
        device = self.head.weight.device
        return KVCache([MLACache.new(self.args, batch, max_len, dtype, device) for _ in self.layers], max_len,
                       valid=torch.zeros(batch, max_len, dtype=torch.bool, device=device),
                       next_pos=torch.zeros(batch, dtype=torch.long, device=device))

    @torch.no_grad()
    def decode(self, tokens: torch.Tensor, cache: KVCache, valid: torch.Tensor | None = None) -> torch.Tensor:
        """Run new tokens (B, T) through the absorbed-MLA path into cache slots [pos, pos + T); returns the
        main head's logits (B, T, vocab) and advances the cache. `valid` (B, T) bool marks real tokens
        where rows are left-padded to a common length: padding takes no position and no one attends to it."""
        B, T = tokens.shape
        start, end = cache.pos, cache.pos + T
        if end > cache.max_len:
            raise ValueError(f"KV cache full: {start} + {T} tokens > max_len {cache.max_len}")
        if valid is None:
            valid = torch.ones(B, T, dtype=torch.bool, device=tokens.device)
        positions = (cache.next_pos[:, None] + valid.long().cumsum(dim=1) - 1).clamp_min(0)  # (B, T)
        cache.valid[:, start:end] = valid
        cache.next_pos += valid.long().sum(dim=1)
        mask = None
        if not bool(cache.valid[:, :end].all()):
            slots = torch.arange(end, device=tokens.device)
            query_slots = slots[start:end, None]
            # A padding query sees itself only, so its (unused) output stays finite.
            mask = (slots <= query_slots) & (cache.valid[:, None, :end] | (slots == query_slots))  # (B, T, S)
        rope = self.rope(positions)
        h = self.embed(tokens)
        for layer, layer_cache in zip(self.layers, cache.layers):
            h, _, _ = layer(h, rope, mask, layer_cache, start)
        cache.pos = end
        return self.head(self.norm(h))

    # -- accounting ---------------------------------------------------------------------------------

    def num_flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token (forward + backward) for MFU; see params.py."""
        from model.params import training_flops_per_token  # params.py builds a Transformer: import late

        return training_flops_per_token(self.args, seq_len or self.args.max_seq_len,
                                        include_mtp=self.mtp is not None)


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the targets that are not ignored; 0 (not NaN) when a batch has none, e.g. an MTP depth
    longer than the sequence or an all-padding micro-batch."""
    targets = targets.flatten()
    total = F.cross_entropy(logits.flatten(0, 1).float(), targets, ignore_index=IGNORE_INDEX, reduction="sum")
    return total / (targets != IGNORE_INDEX).sum().clamp_min(1)
