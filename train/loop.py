"""The training step and loop: accumulation, clipping, autocast, bias updates, logging, checkpoints.

One optimizer step = `accum` micro-batches on each of `world` ranks. Each micro-batch's loss is
weighted by its share of the global batch's target tokens, so the gradient is the token mean over
the whole global batch, identical whether it was split across ranks or across micro-steps (DDP and
FSDP average gradients over ranks, hence the factor `world`). After `optimizer.step()` the MoE router
biases get their one aux-loss-free update per step.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import torch

from deepcorpus.core import storage
from train.loader import MicroBatch
from train.optim import Schedule
from train.parallel import Parallel

log = logging.getLogger("train")

# Dense BF16 peak FLOP/s by GPU name (the MFU denominator, also for FP8 runs, as torchtitan reports it).
GPU_PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "H800": 989e12, "GH200": 989e12, "A100": 312e12,
                 "A800": 312e12, "L40S": 362e12, "L4": 121e12, "B200": 2250e12}


def gpu_peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key in sorted(GPU_PEAK_BF16, key=len, reverse=True):
        if key in name:
            if key == "H100" and "PCIe" in name:
                return 756e12
            return GPU_PEAK_BF16[key]
    return None


@dataclass
class StepResult:
    step: int  # 1-based number of the finished optimizer step
    loss: float
    main_loss: float
    mtp_loss: float | None
    balance_loss: float | None
    grad_norm: float
    lr: float
    tokens: int  # global target tokens of the step
    seconds: float
    loader_seconds: float
    load_stats: dict = field(default_factory=dict)


class Trainer:
    """Runs optimizer steps on `model` (possibly DDP/FSDP-wrapped; `raw` is the Transformer)."""

    def __init__(self, model: torch.nn.Module, raw: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 schedule: Schedule, *, device: torch.device, parallel: Parallel, grad_clip: float = 1.0,
                 autocast_dtype: torch.dtype | None = None, wrapper: str = "none"):
        self.model = model
        self.raw = raw
        self.optimizer = optimizer
        self.schedule = schedule
        self.device = device
        self.parallel = parallel
        self.grad_clip = grad_clip
        self.autocast_dtype = autocast_dtype
        self.wrapper = wrapper  # "none", "ddp" or "fsdp": how gradient sync is held back

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _sync_context(self, last: bool):
        if self.wrapper == "ddp" and not last:
            return self.model.no_sync()
        if self.wrapper == "fsdp":
            self.model.set_requires_gradient_sync(last)
        return contextlib.nullcontext()

    def step(self, step: int, micro_batches: list[MicroBatch], loader_seconds: float = 0.0) -> StepResult:
        """Optimizer step number `step` (0-based) over this rank's micro-batches."""
        start = time.perf_counter()
        lr = self.schedule.apply(self.optimizer, step)
        self.model.train()
        counts = torch.tensor([float(mb.n_tokens) for mb in micro_batches], dtype=torch.float64)
        total_tokens = float(self.parallel.sum(counts.sum().reshape(1).to(self.device)).item())
        # Sums over this rank's micro-batches of (loss part x tokens): loss, main, mtp, balance.
        sums = torch.zeros(4, dtype=torch.float64, device=self.device)
        for i, mb in enumerate(micro_batches):
            mb = mb.to(self.device)
            with self._sync_context(last=i == len(micro_batches) - 1):
                with self._autocast():
                    out = self.model(mb.inputs, targets=mb.targets, segment_ids=mb.segment_ids)
                weight = mb.n_tokens / max(total_tokens, 1.0)
                (out.loss * (weight * self.parallel.world)).backward()
            parts = [out.loss, out.main_loss, out.mtp_loss, out.balance_loss]
            sums += torch.stack([(p.detach().double() if p is not None else sums.new_zeros(()))
                                 for p in parts]) * mb.n_tokens
        if self.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in self.model.parameters() if p.grad is not None])
        if hasattr(norm, "full_tensor"):  # FSDP2: a DTensor
            norm = norm.full_tensor()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        load_stats = self.raw.update_router_biases() if hasattr(self.raw, "update_router_biases") else {}
        sums = self.parallel.sum(sums) / max(total_tokens, 1.0)
        values = sums.tolist()
        has_mtp = getattr(self.raw, "mtp", None) is not None
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return StepResult(
            step=step + 1, loss=values[0], main_loss=values[1], mtp_loss=values[2] if has_mtp else None,
            balance_loss=values[3], grad_norm=float(norm), lr=lr, tokens=int(total_tokens),
            seconds=time.perf_counter() - start + loader_seconds, loader_seconds=loader_seconds,
            load_stats=load_stats or {},
        )


# --- logging ---------------------------------------------------------------------------------------


class MetricsLog:
    """RUN/metrics.jsonl (one object per step), the progress line, and optional TensorBoard."""

    def __init__(self, run_dir: str, *, log_every: int, total_steps: int, flops_per_token: float | None,
                 peak_flops: float | None, world: int, tensorboard: bool = False, enabled: bool = True):
        self.path = os.path.join(run_dir, "metrics.jsonl")
        self.log_every = log_every
        self.total_steps = total_steps
        self.flops_per_token = flops_per_token
        self.peak = peak_flops * world if peak_flops else None
        self.enabled = enabled
        self.tb = None
        self.tokens_seen = 0
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                from deepcorpus.core.errors import UserError

                raise UserError("--tensorboard needs the tensorboard package (pip install tensorboard)") from None
            self.tb = SummaryWriter(os.path.join(run_dir, "tensorboard"))

    def truncate_after(self, step: int) -> None:
        """A resumed run rewrites history from its checkpoint on: drop records of later steps."""
        if not (self.enabled and os.path.exists(self.path)):
            return
        keep = []
        with open(self.path) as f:
            for line in f:
                try:
                    if json.loads(line).get("step", 0) <= step:
                        keep.append(line if line.endswith("\n") else line + "\n")
                except json.JSONDecodeError:
                    continue  # a line cut by the interruption
        storage.write_bytes_atomic(self.path, "".join(keep).encode())

    def record(self, r: StepResult) -> dict:
        self.tokens_seen += r.tokens
        tokens_per_s = r.tokens / r.seconds if r.seconds > 0 else None
        mfu = None
        if self.peak and self.flops_per_token and tokens_per_s:
            mfu = self.flops_per_token * tokens_per_s / self.peak
        rec = {
            "step": r.step, "loss": r.loss, "main_loss": r.main_loss, "mtp_loss": r.mtp_loss,
            "balance_loss": r.balance_loss, "lr": r.lr, "grad_norm": r.grad_norm, "tokens_per_s": tokens_per_s,
            "mfu": mfu, "expert_load_max_over_mean": r.load_stats.get("max_over_mean"),
            "tokens_seen": self.tokens_seen, "step_seconds": r.seconds,
            "loader_share": r.loader_seconds / r.seconds if r.seconds > 0 else None,
        }
        if not self.enabled:
            return rec
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if self.tb is not None:
            for k, v in rec.items():
                if k != "step" and isinstance(v, (int, float)) and v is not None:
                    self.tb.add_scalar(f"train/{k}", v, r.step)
        if r.step % self.log_every == 0 or r.step == 1 or r.step == self.total_steps:
            log.info(progress_line(rec, self.total_steps))
        return rec

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def progress_line(rec: dict, total: int) -> str:
    parts = [f"step {rec['step']}/{total}", f"loss {rec['loss']:.4f}"]
    if rec.get("mtp_loss") is not None:
        parts.append(f"mtp {rec['mtp_loss']:.4f}")
    parts.append(f"lr {rec['lr']:.2e}")
    if rec.get("tokens_per_s"):
        parts.append(f"{rec['tokens_per_s']:,.0f} tok/s")
    if rec.get("mfu") is not None:
        parts.append(f"mfu {100 * rec['mfu']:.1f}%")
    if rec.get("expert_load_max_over_mean") is not None:
        parts.append(f"load max/mean {rec['expert_load_max_over_mean']:.2f}")
    parts.append(f"grad {rec['grad_norm']:.2f}")
    return " | ".join(parts)


# --- the end-of-run summary ------------------------------------------------------------------------

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 48) -> str:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return ""
    # Average into at most `width` buckets so a long run still fits on one line.
    n = len(vals)
    w = min(width, n)
    buckets = [vals[i * n // w:(i + 1) * n // w] for i in range(w)]
    means = [sum(b) / len(b) for b in buckets if b]
    lo, hi = min(means), max(means)
    span = hi - lo or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * len(SPARK)))] for v in means)


def loss_curve_summary(records: list[dict]) -> str:
    """First/last/min loss, a sparkline, and the loss at a few evenly spaced steps."""
    recs = [r for r in records if r.get("loss") is not None]
    if not recs:
        return "no steps logged"
    losses = [r["loss"] for r in recs]
    best = min(recs, key=lambda r: r["loss"])
    lines = [
        f"loss curve over {len(recs)} steps (step {recs[0]['step']} to {recs[-1]['step']}):",
        f"  first {losses[0]:.4f}   last {losses[-1]:.4f}   min {best['loss']:.4f} (step {best['step']})",
        f"  {losses[0]:.2f} {sparkline(losses)} {losses[-1]:.2f}",
    ]
    picks = sorted({round(i * (len(recs) - 1) / 7) for i in range(8)})
    lines.append("  step  " + "".join(f"{recs[i]['step']:>8}" for i in picks))
    lines.append("  loss  " + "".join(f"{recs[i]['loss']:>8.3f}" for i in picks))
    return "\n".join(lines)


# --- stopping cleanly --------------------------------------------------------------------------------


class StopFlag:
    """SIGTERM / SIGINT ask the loop to checkpoint and stop at the next step boundary (preemption);
    a second signal interrupts at once."""

    def __init__(self):
        self.requested = False
        self._old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("signal %d: finishing this step, writing a checkpoint, then stopping", signum)

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False
