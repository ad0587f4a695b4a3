"""`deepcorpus grpo`: GRPO with verifiable rewards, from a checkpoint (DeepSeekMath §4.1, DeepSeek-R1).

    deepcorpus grpo --init runs/sft --prompts gsm8k/train.jsonl --reward math --output runs/grpo
    deepcorpus grpo --init runs/prover --prompts statements.jsonl --reward lean --group-size 32 --output runs/rlpaf

The policy trains in train's Trainer: GRPOLoss (posttrain/objective.py) is its loss, the rollout
stream (posttrain/rollouts.py) its data, so clipping, autocast, checkpoints, `--resume`, the stop on
SIGTERM and DDP/FSDP2 are train's. The policy has no MTP modules (the objective never reaches them;
AdamW would keep no state for them). One record per step in metrics.jsonl:

    reward_mean, reward_std      over the step's rollouts (all ranks); reward_<name>_mean per part
    accuracy                     share of outputs whose task reward (math, lean, code) is 1
    kl                           mean k3 estimate per output token against the reference
    clip_fraction                share of output tokens (outputs, for ratio sequence) that were clipped
    entropy                      mean entropy of the policy per output token (nats)
    response_length              mean output tokens; truncated_fraction: outputs cut at max_new_tokens
    zero_advantage_groups        share of groups whose rewards were all equal (they teach nothing)
    rollouts_per_s               outputs sampled and scored per second of the rollout phase
    loss, policy_loss, grad_norm, lr, step_seconds, rollout_seconds, reference_step, rollout_batch
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass

import torch

from deepcorpus.core.errors import UserError
from posttrain.config import GRPOConfig
from train.metrics import MetricsLog, sparkline

log = logging.getLogger("posttrain")

SUMS = ("tokens", "outputs", "kl_sum", "clipped", "clip_units", "entropy_sum")


class GRPOMetrics(MetricsLog):
    """metrics.jsonl records of GRPO steps: the Trainer's StepResult, the loss's sums and the rollout
    batch's, summed over ranks (every rank calls `record`, in step order)."""

    def __init__(self, run_dir: str, *, loss, stream, parallel, log_every: int, total_steps: int, tensorboard: bool):
        super().__init__(run_dir, log_every=log_every, total_steps=total_steps, flops_per_token=None,
                         peak_flops=None, world=parallel.world, tensorboard=tensorboard, enabled=parallel.is_main)
        self.loss = loss
        self.stream = stream
        self.parallel = parallel
        self.reward_names = stream.reward.names

    def _reduce(self, values: dict, keys: list[str]) -> dict:
        t = torch.tensor([float(values.get(k, 0.0)) for k in keys], dtype=torch.float64, device=self.parallel.device)
        return dict(zip(keys, self.parallel.sum(t).tolist()))

    def record(self, r) -> dict:
        step = self._reduce(self.loss.take(), list(SUMS))
        batch_keys = ["outputs", "reward_sum", "reward_sq", "length_sum", "truncated", "groups", "groups_equal",
                      "correct"] + [f"reward_{n}_sum" for n in self.reward_names]
        batch = self._reduce(self.stream.last_stats, batch_keys)
        seconds = self._reduce({k: self.stream.last_stats.get(k, 0.0) for k in ("rollout_s", "generate_s")},
                               ["rollout_s", "generate_s"])
        world = self.parallel.world
        n = max(batch["outputs"], 1.0)
        mean = batch["reward_sum"] / n
        var = max(0.0, batch["reward_sq"] / n - mean ** 2) * n / max(n - 1, 1.0)
        self.tokens_seen += int(step["tokens"])
        rollout_s = seconds["rollout_s"] / world  # the ranks sample at the same time
        rec = {
            "step": r.step, "loss": r.loss, "policy_loss": r.main_loss, "balance_loss": r.balance_loss, "lr": r.lr,
            "grad_norm": r.grad_norm,
            "reward_mean": mean, "reward_std": math.sqrt(var),
            **{f"reward_{k}_mean": batch[f"reward_{k}_sum"] / n for k in self.reward_names},
            "accuracy": batch["correct"] / n if "correct" in self.stream.last_stats else None,
            "kl": step["kl_sum"] / max(step["tokens"], 1.0) if self.stream.reference is not None else None,
            "clip_fraction": step["clipped"] / max(step["clip_units"], 1.0),
            "entropy": step["entropy_sum"] / max(step["tokens"], 1.0),
            "response_length": batch["length_sum"] / n,
            "truncated_fraction": batch["truncated"] / n,
            "zero_advantage_groups": batch["groups_equal"] / max(batch["groups"], 1.0),
            "rollouts_per_s": batch["outputs"] / rollout_s if rollout_s > 0 else None,
            "rollout_seconds": rollout_s, "generate_seconds": seconds["generate_s"] / world,
            "rollout_batch": self.stream.batch_index,
            "reference_step": self.stream.reference.step if self.stream.reference is not None else None,
            "tokens_seen": self.tokens_seen, "step_seconds": r.seconds,
        }
        return self.write(rec, "grpo")


def progress_line(rec: dict, total: int) -> str:
    parts = [f"step {rec['step']}/{total}", f"reward {rec['reward_mean']:.3f} ± {rec['reward_std']:.3f}"]
    if rec.get("accuracy") is not None:
        parts.append(f"acc {rec['accuracy']:.3f}")
    if rec.get("kl") is not None:
        parts.append(f"kl {rec['kl']:.4f}")
    parts += [f"clip {rec['clip_fraction']:.3f}", f"entropy {rec['entropy']:.3f}", f"len {rec['response_length']:.1f}"]
    if rec.get("rollouts_per_s"):
        parts.append(f"{rec['rollouts_per_s']:,.1f} rollouts/s")
    parts.append(f"lr {rec['lr']:.2e}")
    return " | ".join(parts)


def reward_curve_summary(records: list[dict]) -> str:
    recs = [r for r in records if r.get("reward_mean") is not None]
    if not recs:
        return "no steps logged"
    rewards = [r["reward_mean"] for r in recs]
    lines = [f"reward curve over {len(recs)} steps (step {recs[0]['step']} to {recs[-1]['step']}):",
             f"  first {rewards[0]:.3f}   last {rewards[-1]:.3f}   max {max(rewards):.3f}",
             f"  {rewards[0]:.2f} {sparkline(rewards)} {rewards[-1]:.2f}"]
    picks = sorted({round(i * (len(recs) - 1) / 7) for i in range(8)})
    lines.append("  step    " + "".join(f"{recs[i]['step']:>8}" for i in picks))
    lines.append("  reward  " + "".join(f"{recs[i]['reward_mean']:>8.3f}" for i in picks))
    if recs[-1].get("kl") is not None:
        lines.append("  kl      " + "".join(f"{recs[i]['kl']:>8.4f}" for i in picks))
    return "\n".join(lines)


def run(args) -> int:
    from posttrain.sft import command_config

    cfg, resume_from = command_config(args, GRPOConfig, "grpo")
    return grpo(cfg, resume_from, args.command_line)


def grpo(cfg: GRPOConfig, resume_from: str | None, command: list[str]) -> int:
    from posttrain.generation import check_backend
    from posttrain.init import open_start
    from posttrain.rewards import build_reward
    from posttrain.rollouts import prepare_prompts
    from posttrain.sft import make_run_dir
    from posttrain.templates import load_chat_template, load_prompt_template
    from train.checkpoint import load_checkpoint
    from train.parallel import build_parallel

    started = time.time()
    run_dir = cfg.output
    if not cfg.prompts:
        raise UserError("--prompts FILE is required: prompt records (JSONL or Parquet) with what the reward checks")
    check_backend(cfg.generation_backend)
    parallel = build_parallel(cfg)
    ckpt = load_checkpoint(resume_from, parallel.rank) if resume_from else None
    start = open_start(cfg, ckpt)
    cfg.tokenizer, cfg.tokenizer_hash = start.tokenizer_path, start.tokenizer_hash
    if parallel.is_main:
        make_run_dir(run_dir, "grpo", command)
    chat = load_chat_template(cfg.chat_template, start.tokenizer_path, start.tokenizer, start.ids)
    prompt_template = load_prompt_template(cfg.prompt_template)
    reward = build_reward(cfg)
    prompts = prepare_prompts(run_dir, cfg.prompts, reward, parallel, resuming=ckpt is not None)
    reward.start()  # a missing Lean runner stops the run here, before any model is built
    try:
        return _train(cfg, resume_from, command, started,
                      Inputs(parallel, ckpt, start, chat, prompt_template, reward, prompts))
    finally:
        reward.close()


@dataclass
class Inputs:
    """What a GRPO run reads before it builds models: its ranks, the checkpoint it resumes, the tokenizer
    and templates, the reward and the prompts."""

    parallel: object
    ckpt: dict | None
    start: object
    chat: object
    prompt_template: str
    reward: object
    prompts: object


def _train(cfg: GRPOConfig, resume_from: str | None, command: list[str], started: float, inputs: Inputs) -> int:
    from posttrain.generation import build_backend
    from posttrain.init import build_policy, run_state
    from posttrain.objective import GRPOLoss, Objective
    from posttrain.reference import Reference
    from posttrain.rollouts import RolloutStream
    from train.checkpoint import build_checkpointer, complete_checkpoints, newest_checkpoint
    from train.config import write_toml
    from train.optim import build_optimizer, build_schedule
    from train.trainer import Trainer

    run_dir = cfg.output
    parallel, ckpt, start, reward, prompts = inputs.parallel, inputs.ckpt, inputs.start, inputs.reward, inputs.prompts

    # The objective never reaches MTP modules: the policy has none (its checkpoints say mtp_depth 0).
    model = build_policy(cfg, start, parallel, cfg.max_new_tokens + 1, ckpt, overrides={"mtp_depth": 0})
    optimizer = build_optimizer(cfg, model.module)
    schedule = build_schedule(cfg)
    checkpointer = build_checkpointer(cfg, parallel, model.args)
    checkpointer.run_state.update(run_state(start), kind="grpo")
    bf16 = cfg.dtype == "bf16" or (cfg.dtype == "auto" and parallel.device.type == "cuda")
    autocast = torch.bfloat16 if bf16 else None
    objective = Objective.from_config(cfg)
    loss = GRPOLoss(objective, model.args.seq_aux_alpha)
    reference = Reference(model, parallel, run_dir) if cfg.beta > 0 else None
    backend = build_backend(cfg, model, parallel, start, run_dir, autocast)
    stream = RolloutStream(cfg=cfg, policy=model, reference=reference, backend=backend, reward=reward, prompts=prompts,
                           start=start, chat=inputs.chat, prompt_template=inputs.prompt_template, objective=objective,
                           parallel=parallel, run_dir=run_dir, autocast_dtype=autocast)
    metrics = GRPOMetrics(run_dir, loss=loss, stream=stream, parallel=parallel, log_every=cfg.log_every,
                          total_steps=cfg.steps, tensorboard=cfg.tensorboard)
    trainer = Trainer(model, optimizer, schedule, stream, metrics, parallel=parallel, steps=cfg.steps,
                      checkpointer=checkpointer, grad_clip=cfg.grad_clip, autocast_dtype=autocast, loss_fn=loss)
    if ckpt:
        trainer.load(ckpt)
        if parallel.is_main:
            log.info("resumed from %s at step %d (rollout batch %d)", resume_from, trainer.steps_done,
                     stream.batch_index)
        ckpt = inputs.ckpt = None  # free the copies
    elif reference is not None:
        reference.refresh(0)

    n_params = sum(p.numel() for p in model.module.parameters())
    if parallel.is_main:
        write_toml(cfg, os.path.join(run_dir, "config.toml"))
        settings = objective.__dict__
        log.info("grpo: %d prompts; %d per rollout batch x G=%d outputs of at most %d tokens; %d steps per batch "
                 "(%d passes x %d mini-batches); objective %s (%s); reward %s; %s parameters from %s",
                 len(prompts), cfg.prompts_per_step, cfg.group_size, cfg.max_new_tokens, stream.steps_per_batch,
                 cfg.policy_updates, cfg.mini_batches, cfg.variant,
                 ", ".join(f"{k} {v}" for k, v in settings.items() if k != "max_new_tokens"), cfg.reward,
                 f"{n_params:,}", cfg.init_from)
    try:
        outcome = trainer.train()
    finally:
        backend.close()
    if reference is not None:
        reference.prune()
    if parallel.is_main:
        from deepcorpus.core.metrics import read_metrics

        records = [r for r in read_metrics(run_dir) if r.get("step", 0) <= outcome.step]
        first, last = (records[0], records[-1]) if records else ({}, {})
        summary = {
            "kind": "grpo", "command": command, "init_from": cfg.init_from, "elapsed_s": time.time() - started,
            "steps": outcome.step, "target_steps": cfg.steps, "stopped_early": outcome.stopped,
            "rollout_batches": stream.batch_index + 1, "prompts": len(prompts), "reward": cfg.reward,
            "objective": {"variant": cfg.variant, **objective.__dict__},
            "first_reward": first.get("reward_mean"), "last_reward": last.get("reward_mean"),
            "max_reward": max((r["reward_mean"] for r in records), default=None),
            "first_accuracy": first.get("accuracy"), "last_accuracy": last.get("accuracy"),
            "last_kl": last.get("kl"), "tokens_seen": metrics.tokens_seen,
            "checkpoint": newest_checkpoint(run_dir), "last_saved_step": outcome.last_saved,
            "counters": {"grpo": {"steps": outcome.step, "rollout_batches": stream.batch_index + 1,
                                  "output_tokens": metrics.tokens_seen, "ranks": parallel.world,
                                  "checkpoints_kept": len(complete_checkpoints(run_dir))}},
            "model": {"init_from": cfg.init_from, "parameters": n_params},
        }
        with open(os.path.join(run_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        print(reward_curve_summary(records))
        print(f"checkpoint: {summary['checkpoint']}")
        if outcome.stopped:
            print(f"stopped at step {outcome.step} of {cfg.steps}; continue with --resume")
        sys.stdout.flush()
    parallel.shutdown()
    return 0
