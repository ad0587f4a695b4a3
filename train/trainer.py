"""The Trainer: optimizer steps (accumulation, clipping, autocast, router-bias updates) and the loop
around them (metrics, checkpoints, stopping cleanly on a signal).

One optimizer step = `accum` micro-batches on each of `world` ranks. Each micro-batch's loss is
weighted by its share of the global batch's target tokens, so the gradient is the token mean over
the whole global batch, identical whether it was split across ranks or across micro-steps (DDP and
FSDP average gradients over ranks, hence the factor `world`). After `optimizer.step()` the MoE router
biases get their one aux-loss-free update per step.

What a step computes is `loss_fn(model, micro_batch)`, by default the pre-training loss. Another kind
of training supplies its own loss and data: `data` is any iterable of per-step lists of micro-batches
with `state_dict()`/`load_state_dict()` (its position, saved in each checkpoint); a micro-batch has
`.to(device)` and `.n_tokens` (the count its loss is a mean over); `loss_fn` returns a `ModelOutput`
whose `loss` is what is minimised (`main_loss`, `mtp_loss`, `balance_loss` are logged; None = absent).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch.distributed.tensor import DTensor

from deepcorpus.core.errors import UserError
from model import ModelOutput
from train.checkpoint import Checkpointer
from train.metrics import MetricsLog
from train.model_setup import TrainModel
from train.optim import Schedule
from train.parallel import Parallel, agree

log = logging.getLogger("train")


def language_model_loss(model: torch.nn.Module, mb) -> ModelOutput:
    """Next-token prediction (plus MTP and the balance loss) on a `train.loader.MicroBatch`."""
    return model(mb.inputs, targets=mb.targets, segment_ids=mb.segment_ids)


LossFn = Callable[[torch.nn.Module, object], ModelOutput]


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


@dataclass
class TrainOutcome:
    step: int  # optimizer steps done
    stopped: bool  # a signal ended the run before its last step
    last_saved: int | None  # step of the newest checkpoint this run wrote or resumed from


class Trainer:
    """Trains `model` for `steps` optimizer steps on `data`, recording each in `metrics` and saving
    through `checkpointer` (None: never saves).

        trainer = Trainer(model, optimizer, schedule, data, metrics, parallel=parallel, steps=1000,
                          checkpointer=checkpointer)
        trainer.load(ckpt)           # optional: continue a run
        outcome = trainer.train()    # or trainer.step(i, micro_batches) one at a time
    """

    def __init__(self, model: TrainModel, optimizer: torch.optim.Optimizer, schedule: Schedule, data,
                 metrics: MetricsLog, *, parallel: Parallel, steps: int, checkpointer: Checkpointer | None = None,
                 grad_clip: float = 1.0, autocast_dtype: torch.dtype | None = None,
                 loss_fn: LossFn = language_model_loss):
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.data = data
        self.metrics = metrics
        self.parallel = parallel
        self.device = parallel.device
        self.steps = steps
        self.checkpointer = checkpointer
        self.grad_clip = grad_clip
        self.autocast_dtype = autocast_dtype
        self.loss_fn = loss_fn
        self.steps_done = 0
        self.last_saved: int | None = None

    # -- one optimizer step --

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _sync_context(self, last: bool):
        """Gradients are reduced over ranks on the last micro-batch of a step only."""
        wrapped = self.model.wrapped
        if self.parallel.data_parallel == "ddp" and not last:
            return wrapped.no_sync()
        if self.parallel.data_parallel == "fsdp":
            wrapped.set_requires_gradient_sync(last)
        return contextlib.nullcontext()

    def step(self, step: int, micro_batches: list, loader_seconds: float = 0.0) -> StepResult:
        """Optimizer step number `step` (0-based) over this rank's micro-batches."""
        start = time.perf_counter()
        lr = self.schedule.apply(self.optimizer, step)
        wrapped = self.model.wrapped
        wrapped.train()
        counts = torch.tensor([float(mb.n_tokens) for mb in micro_batches], dtype=torch.float64)
        total_tokens = float(self.parallel.sum(counts.sum().reshape(1).to(self.device)).item())
        # Sums over this rank's micro-batches of (loss part x tokens): loss, main, mtp, balance.
        sums = torch.zeros(4, dtype=torch.float64, device=self.device)
        has_mtp = False
        for i, mb in enumerate(micro_batches):
            mb = mb.to(self.device)
            with self._sync_context(last=i == len(micro_batches) - 1):
                with self._autocast():
                    out = self.loss_fn(wrapped, mb)
                weight = mb.n_tokens / max(total_tokens, 1.0)
                (out.loss * (weight * self.parallel.world)).backward()
            parts = [out.loss, out.main_loss, out.mtp_loss, out.balance_loss]
            has_mtp = has_mtp or out.mtp_loss is not None
            sums += torch.stack([(p.detach().double() if p is not None else sums.new_zeros(()))
                                 for p in parts]) * mb.n_tokens
        if self.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(wrapped.parameters(), self.grad_clip)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in wrapped.parameters() if p.grad is not None])
        if isinstance(norm, DTensor):  # FSDP2
            norm = norm.full_tensor()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        load_stats = self.model.module.update_router_biases()
        sums = self.parallel.sum(sums) / max(total_tokens, 1.0)
        values = sums.tolist()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return StepResult(
            step=step + 1, loss=values[0], main_loss=values[1], mtp_loss=values[2] if has_mtp else None,
            balance_loss=values[3], grad_norm=float(norm), lr=lr, tokens=int(total_tokens),
            seconds=time.perf_counter() - start + loader_seconds, loader_seconds=loader_seconds,
            load_stats=load_stats,
        )

    # -- the loop --

    def train(self) -> TrainOutcome:
        """Steps from `steps_done` to `steps`; checkpoints when due, at the end, and when SIGTERM or
        Ctrl-C asks the run to stop (every rank stops at the same step)."""
        self.metrics.truncate_after(self.steps_done)  # a resumed run rewrites what came after its checkpoint
        stopped = False
        batches = iter(self.data)
        try:
            with StopFlag() as stop:
                while self.steps_done < self.steps:
                    t0 = time.perf_counter()
                    micro_batches = next(batches)
                    result = self.step(self.steps_done, micro_batches, time.perf_counter() - t0)
                    self.steps_done = step = result.step
                    self.metrics.record(result)
                    if not math.isfinite(result.loss):
                        raise UserError(f"loss became {result.loss} at step {step}; lower --lr or check the data")
                    want_stop = agree(stop.requested, self.parallel)
                    if self.checkpointer is not None and (self.checkpointer.due(step) or step == self.steps
                                                          or want_stop):
                        self.save()
                    if want_stop:
                        stopped = True
                        break
        finally:
            batches.close()
            self.metrics.close()
        return TrainOutcome(self.steps_done, stopped, self.last_saved)

    # -- checkpoints --

    def state_dict(self) -> dict:
        """What trainer.json holds besides the run's facts: where the run stands."""
        return {"step": self.steps_done, "tokens_seen": self.metrics.tokens_seen, "loader": self.data.state_dict(),
                "schedule": dataclasses.asdict(self.schedule), "world": self.parallel.world}

    def save(self) -> str:
        """Checkpoint the run as it stands after `steps_done` steps; every rank calls this."""
        path = self.checkpointer.save(self.steps_done, self.model.module, self.optimizer, self.state_dict())
        self.last_saved = self.steps_done
        return path

    def load(self, ckpt: dict) -> None:
        """Continue from a checkpoint read by `train.checkpoint.load_checkpoint` for this rank: weights,
        optimizer, RNG, the data position, the step and the tokens seen."""
        state = self.checkpointer.restore(ckpt, self.model.module, self.optimizer)
        self.data.load_state_dict(state["loader"])
        self.steps_done = self.last_saved = int(state["step"])
        self.metrics.tokens_seen = int(state.get("tokens_seen", 0))


def build_trainer(cfg, model: TrainModel, optimizer, schedule, data, metrics, checkpointer,
                  parallel: Parallel) -> Trainer:
    """The Trainer for the config's run length, clipping and autocast dtype (bf16 on a GPU by default)."""
    bf16 = cfg.dtype == "bf16" or (cfg.dtype == "auto" and parallel.device.type == "cuda")
    return Trainer(model, optimizer, schedule, data, metrics, parallel=parallel, steps=cfg.steps,
                   checkpointer=checkpointer, grad_clip=cfg.grad_clip,
                   autocast_dtype=torch.bfloat16 if bf16 else None)


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
