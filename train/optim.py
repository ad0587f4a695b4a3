"""AdamW and the learning-rate schedule: linear warm-up, then DeepSeek's multi-step or cosine decay.

DeepSeek LLM (arXiv 2401.02954) keeps the peak rate for 80% of the steps, then drops to 31.6% of
it, and at 90% to 10%. DeepSeek-V3 decays with a cosine instead. The schedule is a pure function of
the step, so resuming needs only the step number. `build_optimizer` and `build_schedule` make both
from the config's optimizer-and-schedule section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Schedule:
    peak_lr: float
    total_steps: int
    warmup_steps: int = 0
    kind: str = "multistep"  # "multistep", "cosine" or "constant"
    min_lr_ratio: float = 0.1  # cosine: where it ends

    def lr_at(self, step: int) -> float:
        """Learning rate for optimizer step `step` (0-based)."""
        if step < self.warmup_steps:
            return self.peak_lr * (step + 1) / self.warmup_steps
        if self.kind == "constant":
            return self.peak_lr
        if self.kind == "multistep":
            if step < 0.8 * self.total_steps:
                return self.peak_lr
            if step < 0.9 * self.total_steps:
                return self.peak_lr * 0.316
            return self.peak_lr * 0.1
        if self.kind == "cosine":
            span = max(1, self.total_steps - self.warmup_steps - 1)
            progress = min(1.0, (step - self.warmup_steps) / span)
            floor = self.peak_lr * self.min_lr_ratio
            return floor + 0.5 * (self.peak_lr - floor) * (1 + math.cos(math.pi * progress))
        raise ValueError(f"unknown schedule {self.kind!r}")

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        lr = self.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Matrices (linear and expert weights, embeddings) decay; vectors (norms, biases) do not."""
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def adamw(model: torch.nn.Module, *, lr: float, weight_decay: float = 0.1,
          betas: tuple[float, float] = (0.9, 0.95), eps: float = 1e-8) -> torch.optim.AdamW:
    params = list(model.parameters())
    sharded = any(type(p).__name__ == "DTensor" or type(p.data).__name__ == "DTensor" for p in params)
    on_cuda = any(p.is_cuda for p in params) and not sharded
    # fused AdamW is one kernel per step on a GPU; FSDP2's DTensor parameters and CPUs take the
    # default (foreach) path, which is also what makes CPU runs bit-for-bit repeatable.
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=betas, eps=eps,
                             fused=True if on_cuda else None)


def build_optimizer(cfg, model: torch.nn.Module) -> torch.optim.AdamW:
    """AdamW over the unwrapped model (FSDP2 shards it in place: its parameters are the DTensors)."""
    return adamw(model, lr=cfg.peak_lr(), weight_decay=cfg.weight_decay, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps)


def build_schedule(cfg) -> Schedule:
    return Schedule(cfg.peak_lr(), cfg.steps, cfg.warmup(), cfg.schedule, cfg.min_lr_ratio)
