"""Accounting: parameter counts without allocating (the model is built on the meta device), and
training FLOPs per token for MFU.

    count_parameters(get_preset("v3"))  # {"total": ~671e9, "activated": ~37e9, "mtp": ~11.7e9, ...}
    training_flops_per_token(get_preset("small"), seq_len=2048)

`total` covers the main model, embedding and output head included. `activated` is what one token
computes with: total minus the routed experts it does not use ((E − K) per MoE layer) and minus the input
embedding table (a lookup, not a matmul; `activated_with_embedding` keeps it). That convention gives
V3 36.63B ("37B") and V2-Lite 2.45B ("2.4B"); counting the embedding would give 37.55B and 2.66B, which
V2-Lite's published figure rules out. `mtp` is the MTP modules' own parameters (they share the
embedding and head), reported apart as the V3 report does (671B + MTP).

FLOPs (forward + backward = 3 × forward): 6·N per token for the activated matmul parameters N (embedding
lookup excluded, output head included), plus attention's score and value products:
6 · layers · heads · (qk_head_dim + v_head_dim) · seq_len (no causal discount, as nanoGPT/PaLM count it).
MTP modules add their block, projection and the shared head once more per depth.
"""

from __future__ import annotations

import torch

from model.config import ModelArgs
from model.transformer import Transformer


def count_parameters(args: ModelArgs) -> dict:
    with torch.device("meta"):
        model = Transformer(args)
    total = mtp = embedding = 0
    for name, p in model.named_parameters():
        if name.startswith("mtp."):
            mtp += p.numel()
        else:
            total += p.numel()
        if name.startswith(("embed.", "head.")):
            embedding += p.numel()
    per_expert = 3 * args.dim * args.moe_inter_dim
    idle_experts = args.n_routed_experts - args.n_activated_experts
    with_embedding = total - args.n_moe_layers * idle_experts * per_expert
    mtp_activated = mtp - (args.mtp_depth * idle_experts * per_expert if args.n_moe_layers else 0)
    return {"total": total, "activated": with_embedding - args.vocab_size * args.dim, "mtp": mtp,
            "mtp_activated": mtp_activated, "activated_with_embedding": with_embedding,
            "embedding_and_head": embedding}


def training_flops_per_token(args: ModelArgs, seq_len: int, include_mtp: bool = True) -> float:
    counts = count_parameters(args)
    matmul_params = counts["activated"]  # already without the embedding lookup
    attn_layers = args.n_layers
    if include_mtp and args.mtp_depth:
        matmul_params += counts["mtp_activated"] + args.mtp_depth * args.vocab_size * args.dim
        attn_layers += args.mtp_depth
    attention = 6 * attn_layers * args.n_heads * (args.qk_head_dim + args.v_head_dim) * seq_len
    return float(6 * matmul_params + attention)
