"""Parameter counts without allocating: the model is built on the meta device.

    count_parameters(get_preset("v3"))  # {"total": ~671e9, "activated": ~37e9, "mtp": ~11.7e9, ...}

`total` covers the main model, embedding and output head included. `activated` is what one token
computes with: total minus the routed experts it does not use ((E − K) per MoE layer) and minus the input
embedding table (a lookup, not a matmul; `activated_with_embedding` keeps it). That convention gives
V3 36.63B ("37B") and V2-Lite 2.45B ("2.4B"); counting the embedding would give 37.55B and 2.66B, which
V2-Lite's published figure rules out. `mtp` is the MTP modules' own parameters (they share the
embedding and head), reported apart as the V3 report does (671B + MTP).
"""

from __future__ import annotations

import torch

from model.config import ModelArgs


def count_parameters(args: ModelArgs) -> dict:
    from model.transformer import Transformer

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
