"""What a run records: RUN/metrics.jsonl (one object per step), the progress line, TensorBoard, and at
the end RUN/summary.json with the loss curve on stdout. MFU divides by the GPU's dense BF16 peak.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys

import torch

from deepcorpus.core import storage

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

    def record(self, r) -> dict:
        """Log one `StepResult` (train.trainer); returns its metrics.jsonl record."""
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
        return self.write(rec, "train")

    def write(self, rec: dict, tag: str) -> dict:
        """Append one step's record to metrics.jsonl (and TensorBoard under `tag/`), and print the
        progress line every `log_every` steps; a no-op on ranks other than the first."""
        if not self.enabled:
            return rec
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        step = rec["step"]
        if self.tb is not None:
            for k, v in rec.items():
                if k != "step" and isinstance(v, (int, float)) and v is not None:
                    self.tb.add_scalar(f"{tag}/{k}", v, step)
        if step % self.log_every == 0 or step == 1 or step == self.total_steps:
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


def write_summary(run_dir: str, cfg, command: list[str], *, step: int, tokens_seen: int, world: int,
                  elapsed: float, stopped: bool, last_saved: int | None, parameters: int) -> dict:
    """RUN/summary.json for `deepcorpus report`, and the loss-curve summary on stdout."""
    from deepcorpus.core.metrics import read_metrics
    from train.checkpoint import complete_checkpoints, newest_checkpoint

    records = [r for r in read_metrics(run_dir) if r.get("step", 0) <= step]
    final = newest_checkpoint(run_dir)
    summary = {
        "command": command,
        "counters": {"train": {"steps": step, "tokens_seen": tokens_seen, "ranks": world,
                               "checkpoints_kept": len(complete_checkpoints(run_dir))}},
        "elapsed_s": elapsed,
        "steps": step, "target_steps": cfg.steps, "stopped_early": stopped,
        "first_loss": records[0]["loss"] if records else None,
        "last_loss": records[-1]["loss"] if records else None,
        "min_loss": min(r["loss"] for r in records) if records else None,
        "tokens_seen": tokens_seen,
        "checkpoint": final, "last_saved_step": last_saved,
        "model": {"preset": cfg.preset, "parameters": parameters},
    }
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(loss_curve_summary(records))
    print(f"checkpoint: {final}")
    if stopped:
        print(f"stopped at step {step} of {cfg.steps}; continue with --resume")
    sys.stdout.flush()
    return summary


def build_metrics(cfg, model, seq_len: int, parallel) -> MetricsLog:
    """From the config's logging section; rank 0 writes, MFU from the model's FLOPs per token."""
    return MetricsLog(cfg.output, log_every=cfg.log_every, total_steps=cfg.steps,
                      flops_per_token=model.num_flops_per_token(seq_len), peak_flops=gpu_peak_flops(parallel.device),
                      world=parallel.world, tensorboard=cfg.tensorboard, enabled=parallel.is_main)
