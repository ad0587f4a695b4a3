"""The DeepSeek-V3-style Transformer: embedding, MLA + (dense | DeepSeekMoE) blocks, head, MTP.

    model = Transformer(get_preset("tiny"))
    out = model(tokens[:, :-1], targets=tokens[:, 1:])      # ModelOutput
    out.loss.backward(); optimizer.step()
    model.update_router_biases()                           # exactly once per optimizer step
    model.expert_load_stats()["max_over_mean"]             # for the metrics log

`loss = main_loss + mtp_lambda · mtp_loss + seq_aux_alpha · balance_loss`; targets equal to -100 are
ignored. MTP modules read the later targets themselves (targets[:, i+k]), padding past T with -100.
Generation uses `new_kv_cache` + `decode` (absorbed MLA); see generate.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from model.block import Block
from model.config import ModelArgs
from model.documents import document_causal_mask, position_ids_from_segments
from model.gate import Gate
from model.mla import MLACache
from model.moe import Experts
from model.mtp import MTPModule, shift_left
from model.norm import RMSNorm
from model.rope import RotaryEmbedding

IGNORE_INDEX = -100


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
                position_ids: torch.Tensor | None = None, segment_ids: torch.Tensor | None = None,
                doc_mask: torch.Tensor | None = None) -> ModelOutput:
        """tokens (B, T) long; targets (B, T) long (-100 ignored); position_ids (B, T); segment_ids (B, T)
        document ids within each row: attention stays inside a document and, unless position_ids are
        given, positions restart at each document. `doc_mask` is either the same (B, T) segment ids or
        a ready bool (B, T, T) "query may attend key" mask (then positions are as given or 0..T-1)."""
        mask = None
        if doc_mask is not None:
            if doc_mask.dim() == 3:
                mask = doc_mask.unsqueeze(1).bool()  # (B, 1, T, T), broadcast over heads
            elif segment_ids is None:
                segment_ids = doc_mask
        B, T = tokens.shape
        if T > self.args.max_seq_len:
            raise ValueError(f"sequence length {T} exceeds max_seq_len={self.args.max_seq_len}")
        if position_ids is not None and int(position_ids.max()) >= self.args.max_seq_len:
            raise ValueError(f"position {int(position_ids.max())} is beyond max_seq_len={self.args.max_seq_len}")
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
        logits = self.head(self.norm(h))
        if targets is None:
            return ModelOutput(logits=logits, balance_loss=balance)

        main_loss = _cross_entropy(logits, targets)
        mtp_loss = None
        if self.mtp is not None and len(self.mtp):
            losses, h_k = [], h
            for module in self.mtp:
                k = module.depth
                # Token i+k of the input is targets[i+k-1] (the trainer shifted by one).
                next_tokens = shift_left(targets, k - 1, IGNORE_INDEX).clamp_min(0)
                h_k, layer_balance, counts = self._run_block(module, h_k, self.embed(next_tokens), rope, mask)
                balance = balance + self._account(module.block, layer_balance, counts)
                logits_k = self.head(module.norm(h_k))
                losses.append(_cross_entropy(logits_k, shift_left(targets, k, IGNORE_INDEX)))
            mtp_loss = torch.stack(losses).mean()
        loss = main_loss + self.args.seq_aux_alpha * balance
        if mtp_loss is not None:
            loss = loss + self.args.mtp_lambda * mtp_loss
        return ModelOutput(logits=logits, loss=loss, main_loss=main_loss, mtp_loss=mtp_loss, balance_loss=balance)

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
        """Training FLOPs per token (forward + backward) for MFU; see flops.py."""
        from model.flops import training_flops_per_token

        return training_flops_per_token(self.args, seq_len or self.args.max_seq_len,
                                        include_mtp=self.mtp is not None)


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the targets that are not ignored; 0 (not NaN) when a batch has none, e.g. an MTP depth
    longer than the sequence or an all-padding micro-batch."""
    targets = targets.flatten()
    total = F.cross_entropy(logits.flatten(0, 1).float(), targets, ignore_index=IGNORE_INDEX, reduction="sum")
    return total / (targets != IGNORE_INDEX).sum().clamp_min(1)
