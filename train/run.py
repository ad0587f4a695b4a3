"""`deepcorpus train`: assemble config, data, model, optimizer and checkpoints, then run the loop.

    deepcorpus train --preset tiny --data out/tokens --steps 80 --output runs/tiny
    torchrun --nproc_per_node 8 -m deepcorpus train --preset small --data gs://b/tokens --output runs/s

Under torchrun every rank runs this; rank 0 writes the run directory. Data-parallel ranks use DDP
or FSDP2 (`fully_shard` per block), NCCL on GPUs and gloo on CPUs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import sys
import time

from deepcorpus.core.errors import UserError
from train import config as config_mod
from train import parallel as dp
from train.parallel import agree, full_state_dicts, load_state_dicts, setup_distributed, wrap_model

log = logging.getLogger("train")


def cli_values(args) -> dict:
    """The TrainConfig fields the user gave on the command line (None = not given)."""
    values = {}
    for name in config_mod.FIELDS:
        v = getattr(args, name, None)
        if name == "model":
            v = config_mod.parse_model_overrides(v) if v else None
        elif name == "data" and not v:
            v = None
        elif name == "resume" and not v:
            v = None
        values[name] = v
    return values


def count_params(args) -> int:
    from model.params import count_parameters
    from model.presets import get_preset

    overrides = config_mod.parse_model_overrides(getattr(args, "model", None) or [])
    counts = count_parameters(get_preset(args.preset or "tiny", **overrides))
    counts = {k: counts[k] for k in ("total", "activated", "mtp")}
    if args.json:
        print(json.dumps(counts))
    else:
        for k, v in counts.items():
            print(f"{k:>10}  {v:>18,}  ({_human(v)})")
    return 0


def _human(n: int) -> str:
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def run(args) -> int:
    from train.checkpoint import newest_checkpoint

    if getattr(args, "count_params", False):
        return count_params(args)
    values = cli_values(args)
    config_path = getattr(args, "config", None)
    output = values.get("output") or (config_mod.load_file(config_path).get("output") if config_path else None)
    if not output:
        raise UserError("--output RUN_DIR is required (checkpoints, metrics.jsonl and summary.json go there)")
    resume_from = None
    if getattr(args, "resume", False):
        resume_from = newest_checkpoint(output)
        if resume_from is None:
            log.info("--resume: no complete checkpoint in %s yet; starting from step 0", output)
    elif newest_checkpoint(output):
        raise UserError(f"{output}: holds checkpoints already ({os.path.basename(newest_checkpoint(output))}); "
                        f"add --resume to continue that run, or choose another --output")
    return train(values, config_path, resume_from, command=args.command_line)


def _device(cfg, parallel):
    import torch

    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise UserError("--device cuda, but no CUDA GPU is visible")
        return torch.device("cuda", parallel.local_rank)
    return torch.device("cpu")


def _set_cpu_threads(cfg, device, parallel) -> None:
    """Small models gain little from many intra-op threads and lose a lot when the cores are shared
    (threads spin at every op's barrier), so by default a rank takes half the cores it is due."""
    import torch

    if device.type != "cpu":
        return
    if cfg.cpu_threads:
        torch.set_num_threads(cfg.cpu_threads)
    elif "OMP_NUM_THREADS" not in os.environ:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", parallel.world))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // (2 * local)))


def _autocast_dtype(cfg, device):
    import torch

    if cfg.dtype == "bf16" or (cfg.dtype == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def build_model_args(cfg, info: dict):
    from model.presets import get_preset

    overrides = dict(cfg.model)
    vocab = int(info["vocab_size"])
    if overrides.get("vocab_size", vocab) < vocab:
        raise UserError(f"model vocab_size {overrides['vocab_size']} is smaller than the shards' vocabulary {vocab}")
    overrides.setdefault("vocab_size", vocab)
    from model.presets import PRESETS

    preset_max = PRESETS.get(cfg.preset, {}).get("max_seq_len", 0)
    overrides.setdefault("max_seq_len", max(preset_max, int(info["seq_len"])))
    return get_preset(cfg.preset, **overrides)


def _apply_fp8(cfg, model):
    try:
        from model.fp8 import convert_to_fp8, fp8_available
    except ImportError:
        raise UserError("--fp8: this build has no FP8 support (model/fp8.py is missing)") from None
    if cfg.fp8_backend != "reference":
        ok, reason = fp8_available()
        if not ok:
            hint = "" if "reference" in reason else "; --fp8-backend reference runs the pure-PyTorch kernels instead"
            raise UserError(f"--fp8: {reason}{hint}")
    convert_to_fp8(model, backend=cfg.fp8_backend)


def effective_config(values: dict, config_path: str | None, resume_from: str | None):
    """Defaults < --config file < options; when resuming, the checkpoint's config replaces the defaults."""
    if not resume_from:
        return config_mod.build_config(values, config_path)
    saved = config_mod.load_file(os.path.join(resume_from, "config.toml"))
    file_values = config_mod.load_file(config_path) if config_path else {}
    merged = {**saved, **file_values, **{k: v for k, v in values.items() if v is not None}}
    merged["model"] = {**saved.get("model", {}), **file_values.get("model", {}), **(values.get("model") or {})}
    return config_mod.TrainConfig(**merged).validate()


def train(values: dict, config_path: str | None = None, resume_from: str | None = None,
          command: list[str] | None = None) -> int:
    import torch

    from train import checkpoint as ckpt_mod
    from train.loader import TokenLoader, describe, open_sources
    from train.loop import MetricsLog, StopFlag, Trainer, gpu_peak_flops
    from train.optim import Schedule, build_optimizer

    started = time.time()
    ckpt = None
    cfg = effective_config(values, config_path, resume_from)
    run_dir = cfg.output
    if run_dir is None:
        raise UserError("--output RUN_DIR is required")
    if storage_is_remote(run_dir):
        raise UserError(f"{run_dir}: the run directory must be local (metrics and checkpoints are written there)")

    device_kind = "cuda" if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()) else "cpu"
    parallel = setup_distributed(device_kind)
    device = _device(cfg, parallel)
    _set_cpu_threads(cfg, device, parallel)
    if resume_from:
        ckpt = ckpt_mod.load_checkpoint(resume_from, parallel.rank)
    tokenizer_hash = cfg.tokenizer_hash or (ckpt["trainer"].get("tokenizer_hash") if ckpt else None)
    sources = open_sources(cfg.data, cfg.mixture, chunk_rows=cfg.chunk_rows, tokenizer_hash=tokenizer_hash)
    info = sources[0].info
    cfg.tokenizer_hash = info["tokenizer_hash"]
    if cfg.tokenizer is None and info.get("tokenizer"):
        cfg.tokenizer = info["tokenizer"]

    micro = cfg.micro_batch_size or cfg.batch_size // parallel.world
    if micro < 1 or cfg.batch_size % (micro * parallel.world):
        raise UserError(f"batch_size {cfg.batch_size} must be a multiple of micro_batch_size x ranks "
                        f"({micro} x {parallel.world})")
    loader = TokenLoader(sources, global_batch=cfg.batch_size, micro_batch=micro, rank=parallel.rank,
                         world=parallel.world, seed=cfg.seed, shuffle_buffer=cfg.shuffle_buffer,
                         workers=cfg.loader_workers, doc_mask=cfg.doc_mask, verbose=parallel.is_main)

    if ckpt:
        margs = ckpt_mod.model_args_from_dict(ckpt["model_args"])
    else:
        margs = build_model_args(cfg, info)
    if margs.vocab_size < int(info["vocab_size"]):
        raise UserError(f"the checkpoint's vocab_size {margs.vocab_size} is smaller than the shards' {info['vocab_size']}")
    if margs.max_seq_len < loader.seq_len:
        raise UserError(f"the shards' seq_len {loader.seq_len} exceeds the model's max_seq_len {margs.max_seq_len}")

    from model.transformer import Transformer

    torch.manual_seed(cfg.seed)
    model = Transformer(margs).to(device)
    if cfg.fp8:
        _apply_fp8(cfg, model)
    if cfg.activation_checkpointing:
        model.set_activation_checkpointing(True)
    raw = model
    wrapped, how = wrap_model(cfg, model, parallel, device)
    if cfg.compile:
        wrapped = torch.compile(wrapped)
    optimizer = build_optimizer(raw, lr=cfg.peak_lr(), weight_decay=cfg.weight_decay,
                                betas=(cfg.beta1, cfg.beta2), eps=cfg.eps)
    schedule = Schedule(cfg.peak_lr(), cfg.steps, cfg.warmup(), cfg.schedule, cfg.min_lr_ratio)

    start_step, tokens_seen = 0, 0
    if ckpt:
        load_state_dicts(raw, optimizer, ckpt)
        loader.load_state_dict(ckpt["trainer"]["loader"])
        start_step = int(ckpt["trainer"]["step"])
        tokens_seen = int(ckpt["trainer"].get("tokens_seen", 0))
        if ckpt["rng"] is not None:
            ckpt_mod.set_rng_state(ckpt["rng"])
        if parallel.is_main:
            log.info("resumed from %s at step %d", resume_from, start_step)
        ckpt = None  # free the copies

    flops = raw.num_flops_per_token(loader.seq_len) if hasattr(raw, "num_flops_per_token") else None
    metrics = MetricsLog(run_dir, log_every=cfg.log_every, total_steps=cfg.steps, flops_per_token=flops,
                         peak_flops=gpu_peak_flops(device), world=parallel.world, tensorboard=cfg.tensorboard,
                         enabled=parallel.is_main)
    metrics.tokens_seen = tokens_seen
    if parallel.is_main:
        os.makedirs(run_dir, exist_ok=True)
        config_mod.write_toml(cfg, os.path.join(run_dir, "config.toml"))
        metrics.truncate_after(start_step)
        n_params = sum(p.numel() for p in raw.parameters())
        log.info("data: %s", describe(sources))
        log.info("model: preset %s, %s parameters, vocab %d, seq_len %d; %s on %s x%d; batch %d = %d x %d accum x %d ranks",
                 cfg.preset, f"{n_params:,}", margs.vocab_size, loader.seq_len, how if how != "none" else "single process",
                 device, parallel.world, cfg.batch_size, micro, loader.accum, parallel.world)

    trainer = Trainer(wrapped, raw, optimizer, schedule, device=device, parallel=parallel,
                      grad_clip=cfg.grad_clip, autocast_dtype=_autocast_dtype(cfg, device), wrapper=how)

    use_sharded = cfg.checkpoint_format == "sharded" or (cfg.checkpoint_format == "auto" and how == "fsdp")

    def save(step: int) -> str:
        model_state = optim_state = shards = None
        if use_sharded:
            shards = dp.sharded_state(raw, optimizer)
        else:
            model_state, optim_state = full_state_dicts(raw, optimizer, how)
        trainer_state = {"step": step, "tokens_seen": metrics.tokens_seen, "loader": loader.state_dict(),
                         "schedule": dataclasses.asdict(schedule), "tokenizer": cfg.tokenizer,
                         "tokenizer_hash": cfg.tokenizer_hash, "world": parallel.world}
        return ckpt_mod.save_checkpoint(
            run_dir, step, model_state=model_state, optimizer_state=optim_state, trainer_state=trainer_state,
            config_toml=config_mod.to_toml(cfg), model_args=margs.to_dict(), keep=cfg.keep_checkpoints,
            rank=parallel.rank, barrier=parallel.barrier, sharded_state=shards)

    step = start_step
    last_saved = start_step if resume_from else None
    stopped = False
    batches = iter(loader)
    try:
        with StopFlag() as stop:
            while step < cfg.steps:
                t0 = time.perf_counter()
                micro_batches = next(batches)
                loader_s = time.perf_counter() - t0
                result = trainer.step(step, micro_batches, loader_s)
                step = result.step
                metrics.record(result)
                if not math.isfinite(result.loss):
                    raise UserError(f"loss became {result.loss} at step {step}; lower --lr or check the data")
                want_stop = agree(stop.requested, parallel)
                if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or step == cfg.steps or want_stop:
                    save(step)
                    last_saved = step
                if want_stop:
                    stopped = True
                    break
    finally:
        batches.close()
        metrics.close()

    if parallel.is_main:
        write_summary(run_dir, cfg, command, step=step, tokens_seen=metrics.tokens_seen, world=parallel.world,
                      elapsed=time.time() - started, stopped=stopped, last_saved=last_saved,
                      parameters=sum(p.numel() for p in raw.parameters()))
    if parallel.distributed:
        torch.distributed.barrier()
        if parallel.owns_group:
            torch.distributed.destroy_process_group()
    return 0


def write_summary(run_dir: str, cfg, command, *, step: int, tokens_seen: int, world: int, elapsed: float,
                  stopped: bool, last_saved: int | None, parameters: int) -> dict:
    """RUN/summary.json for `deepcorpus report`, and the loss-curve summary on stdout."""
    from deepcorpus.core.metrics import read_metrics
    from train import checkpoint as ckpt_mod
    from train.loop import loss_curve_summary

    records = [r for r in read_metrics(run_dir) if r.get("step", 0) <= step]
    final = ckpt_mod.newest_checkpoint(run_dir)
    summary = {
        "command": command,
        "counters": {"train": {"steps": step, "tokens_seen": tokens_seen, "ranks": world,
                               "checkpoints_kept": len(ckpt_mod.complete_checkpoints(run_dir))}},
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


def storage_is_remote(path: str) -> bool:
    from deepcorpus.core import storage

    return storage.is_remote(path)
