"""Named model configurations: `tiny` (tests), `small` (~100M, CPU-trainable), `v2-lite`, `v3`.

    args = get_preset("small", vocab_size=32000, max_seq_len=1024)

v2-lite and v3 carry the published architectures (DeepSeek-V2-Lite, DeepSeek-V3) and the V3 report's
training hyper-parameters (γ 0.001, α 0.0001, λ 0.3, init std 0.006), set for pre-training: 4K
positions with plain RoPE. Context extension is the second, explicit setting: YaRN with the published
factor 40 over the 4K original length, which the presets carry,

    get_preset("v3", yarn=True, max_seq_len=32768)      # or: deepcorpus train --model yarn=true ...

(V3 extended to 32K, then 128K, for 1000 steps each.) A checkpoint imported from Hugging Face takes
both from its config.json.
"""

from __future__ import annotations

from deepcorpus.core.errors import UserError
from model.config import ModelArgs

_V3_TRAINING = dict(bias_update_speed=0.001, seq_aux_alpha=0.0001, mtp_lambda=0.3, init_std=0.006)

PRESETS: dict[str, dict] = {
    # A few hundred thousand parameters: every feature on (low-rank queries, groups, shared experts, MTP).
    "tiny": dict(
        vocab_size=2048, dim=64, n_layers=3, n_heads=4, q_lora_rank=32, kv_lora_rank=32,
        qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16, n_dense_layers=1, inter_dim=192,
        moe_inter_dim=32, n_routed_experts=8, n_shared_experts=1, n_activated_experts=2, n_groups=2,
        topk_groups=1, score_func="sigmoid", route_scale=1.0, mtp_depth=1, max_seq_len=512,
        **{**_V3_TRAINING, "init_std": 0.02},
    ),
    # ~100M total: trains slowly on a CPU, quickly on one GPU.
    "small": dict(
        vocab_size=32768, dim=512, n_layers=8, n_heads=8, q_lora_rank=0, kv_lora_rank=128,
        qk_nope_head_dim=64, qk_rope_head_dim=32, v_head_dim=64, n_dense_layers=1, inter_dim=1536,
        moe_inter_dim=256, n_routed_experts=24, n_shared_experts=1, n_activated_experts=4, n_groups=4,
        topk_groups=2, score_func="sigmoid", route_scale=2.5, mtp_depth=1, max_seq_len=2048,
        **{**_V3_TRAINING, "init_std": 0.02},
    ),
    "v2-lite": dict(
        vocab_size=102400, dim=2048, n_layers=27, n_heads=16, q_lora_rank=0, kv_lora_rank=512,
        qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, n_dense_layers=1, inter_dim=10944,
        moe_inter_dim=1408, n_routed_experts=64, n_shared_experts=2, n_activated_experts=6, n_groups=1,
        topk_groups=1, score_func="softmax", route_scale=1.0, mtp_depth=0, max_seq_len=4096, yarn=False,
        original_seq_len=4096, rope_factor=40, mscale=0.707, bias_update_speed=0.0, seq_aux_alpha=0.001,
        init_std=0.006,
    ),
    "v3": dict(
        vocab_size=129280, dim=7168, n_layers=61, n_heads=128, q_lora_rank=1536, kv_lora_rank=512,
        qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, n_dense_layers=3, inter_dim=18432,
        moe_inter_dim=2048, n_routed_experts=256, n_shared_experts=1, n_activated_experts=8, n_groups=8,
        topk_groups=4, score_func="sigmoid", route_scale=2.5, mtp_depth=1, max_seq_len=4096, yarn=False,
        original_seq_len=4096, rope_factor=40, mscale=1.0, **_V3_TRAINING,
    ),
}


def get_preset(name: str, **overrides) -> ModelArgs:
    """The preset's ModelArgs with `overrides` applied (e.g. vocab_size from the token shards)."""
    if name not in PRESETS:
        raise UserError(f"unknown model preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return ModelArgs.from_dict({**PRESETS[name], **overrides})
