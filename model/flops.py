"""Training FLOPs per token (forward + backward = 3 × forward), for MFU.

6·N per token for the activated matmul parameters N (embedding lookup excluded, output head included),
plus attention's score and value products: 6 · layers · heads · (qk_head_dim + v_head_dim) · seq_len
(no causal discount, as nanoGPT/PaLM count it). MTP modules add their block, projection and the shared
head once more per depth.
"""

from __future__ import annotations

from model.config import ModelArgs
from model.params import count_parameters


def training_flops_per_token(args: ModelArgs, seq_len: int, include_mtp: bool = True) -> float:
    counts = count_parameters(args)
    matmul_params = counts["activated"]  # already without the embedding lookup
    attn_layers = args.n_layers
    if include_mtp and args.mtp_depth:
        matmul_params += counts["mtp_activated"] + args.mtp_depth * args.vocab_size * args.dim
        attn_layers += args.mtp_depth
    attention = 6 * attn_layers * args.n_heads * (args.qk_head_dim + args.v_head_dim) * seq_len
    return float(6 * matmul_params + attention)
