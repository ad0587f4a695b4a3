"""`ModelArgs`: every hyper-parameter of the DeepSeek-V3-style model, in one plain dataclass.

Field names follow the DeepSeek-V3 reference (`inference/model.py`) where it has one; the training-only
knobs (γ of the aux-loss-free bias, α of the sequence-wise balance loss, MTP depth and λ, init std) are
the V3 report's. `presets.py` holds the named configurations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from deepcorpus.core.errors import UserError


@dataclass
class ModelArgs:
    vocab_size: int = 2048
    dim: int = 64
    n_layers: int = 3
    n_heads: int = 4
    # Multi-head Latent Attention (MLA)
    q_lora_rank: int = 0  # 0: full-rank query projection (V2-Lite); > 0: low-rank query compression (V3)
    kv_lora_rank: int = 32
    qk_nope_head_dim: int = 16
    qk_rope_head_dim: int = 8
    v_head_dim: int = 16
    # Feed-forward: the first n_dense_layers are dense SwiGLU MLPs, the rest DeepSeekMoE
    n_dense_layers: int = 1
    inter_dim: int = 256
    moe_inter_dim: int = 32
    n_routed_experts: int = 8
    n_shared_experts: int = 1
    n_activated_experts: int = 2
    n_groups: int = 1  # expert groups for group-limited (node-limited) routing
    topk_groups: int = 1  # groups a token may route to
    score_func: str = "sigmoid"  # "sigmoid" (V3) or "softmax" (V2)
    route_scale: float = 1.0
    norm_topk_prob: bool | None = None  # None: normalise the top-k weights for sigmoid only, as the reference
    # Load balancing
    bias_update_speed: float = 0.001  # γ of the aux-loss-free bias update
    seq_aux_alpha: float = 0.0001  # α of the complementary sequence-wise balance loss
    # Multi-token prediction
    mtp_depth: int = 1  # D sequential MTP modules; 0 turns MTP off
    mtp_lambda: float = 0.3
    # Positions: plain RoPE for pre-training; YaRN (`yarn = True`) for context extension. The switch is
    # explicit: a long max_seq_len alone never turns YaRN on (V3 pre-trained at 4K with plain RoPE, then
    # extended with YaRN, factor 40 over original_seq_len 4096). The rope_factor, beta_* and mscale
    # settings are read only under YaRN.
    max_seq_len: int = 512
    yarn: bool = False
    original_seq_len: int = 4096
    rope_theta: float = 10000.0
    rope_factor: float = 40.0
    beta_fast: int = 32
    beta_slow: int = 1
    mscale: float = 1.0
    # Initialisation and norms
    init_std: float = 0.006
    norm_eps: float = 1e-6

    def __post_init__(self):
        self.validate()

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    @property
    def n_moe_layers(self) -> int:
        return max(self.n_layers - self.n_dense_layers, 0)

    @property
    def normalize_weights(self) -> bool:
        return self.score_func == "sigmoid" if self.norm_topk_prob is None else bool(self.norm_topk_prob)

    def validate(self) -> None:
        def bad(msg):
            raise UserError(f"model config: {msg}")

        for name in ("vocab_size", "dim", "n_layers", "n_heads", "kv_lora_rank", "qk_nope_head_dim",
                     "v_head_dim", "max_seq_len"):
            if getattr(self, name) <= 0:
                bad(f"{name} must be positive, got {getattr(self, name)}")
        if self.qk_rope_head_dim <= 0 or self.qk_rope_head_dim % 2:
            bad(f"qk_rope_head_dim must be a positive even number, got {self.qk_rope_head_dim}")
        if self.score_func not in ("sigmoid", "softmax"):
            bad(f"score_func must be 'sigmoid' or 'softmax', got {self.score_func!r}")
        if not 0 <= self.n_dense_layers <= self.n_layers:
            bad(f"n_dense_layers must be in [0, n_layers={self.n_layers}], got {self.n_dense_layers}")
        if self.n_moe_layers or self.mtp_depth:
            if self.n_routed_experts <= 0 or not 0 < self.n_activated_experts <= self.n_routed_experts:
                bad(f"need 0 < n_activated_experts ({self.n_activated_experts}) <= n_routed_experts "
                    f"({self.n_routed_experts})")
            if self.n_groups <= 0 or self.n_routed_experts % self.n_groups:
                bad(f"n_routed_experts ({self.n_routed_experts}) must divide into n_groups ({self.n_groups})")
            if not 0 < self.topk_groups <= self.n_groups:
                bad(f"topk_groups must be in [1, n_groups={self.n_groups}], got {self.topk_groups}")
            per_group = self.n_routed_experts // self.n_groups
            if self.topk_groups * per_group < self.n_activated_experts:
                bad(f"topk_groups x experts per group ({self.topk_groups} x {per_group}) is fewer than "
                    f"n_activated_experts ({self.n_activated_experts})")
        if self.mtp_depth < 0:
            bad(f"mtp_depth must be >= 0, got {self.mtp_depth}")
        if self.yarn and not (self.rope_factor >= 1 and self.original_seq_len > 0):
            bad(f"yarn needs rope_factor >= 1 and original_seq_len > 0, got {self.rope_factor} and "
                f"{self.original_seq_len}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelArgs:
        """Build from a (checkpoint's) dict; unknown keys are an error so a typo never passes silently."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise UserError(f"model config: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return cls(**d)

    def replace(self, **changes) -> ModelArgs:
        return ModelArgs.from_dict({**self.to_dict(), **changes})
