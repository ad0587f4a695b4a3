"""The MoE router: affinities, group-limited top-k selection, the aux-loss-free bias, the balance loss.

V3 gating: sigmoid affinities s; a per-expert bias b is added to s ONLY to choose experts (group
score = sum of a group's top-2 biased scores, keep `topk_groups` groups, then top-k); the gating weights
are the unbiased s of the chosen experts, normalised over them and times `route_scale`. V2 gating:
softmax affinities, group score = max, weights not normalised. Logits are computed in float32.

The bias is a buffer (in `state_dict()`, so in checkpoints) kept in float32 even when the model is cast
to bf16, because ±γ = 0.001 steps would vanish in bf16. The router does NOT update it: it reports the
chosen experts' counts to the Transformer, which accumulates them once per forward (never again in an
activation-checkpoint recompute) into `load_counts`; `Transformer.update_router_biases()` turns them
into the ±γ update once per optimizer step (`apply_bias_update`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from model.config import ModelArgs

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
            # Keep the balancing bias in float32 (see the module docstring): move the original values,
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
