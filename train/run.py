"""`deepcorpus train`: the effective config, its components, the Trainer, the summary.

    deepcorpus train --preset tiny --data out/tokens --steps 80 --output runs/tiny
    torchrun --nproc_per_node 8 -m deepcorpus train --preset small --data gs://b/tokens --output runs/s

Under torchrun every rank runs this; rank 0 writes the run directory. Data-parallel ranks use DDP
or FSDP2 (`fully_shard` per block), NCCL on GPUs and gloo on CPUs. Each component is built from its
part of TrainConfig by a `build_*` function next to it:

    parallel  train.parallel.build_parallel      ranks, device, DDP/FSDP2
    data      train.loader.build_data            the token-shard loader of this rank
    model     train.model_setup.build_model      Transformer, FP8, activation checkpointing, wrapper
    optim     train.optim.build_optimizer, build_schedule
    ckpt      train.checkpoint.build_checkpointer
    metrics   train.metrics.build_metrics        metrics.jsonl, progress line, TensorBoard
    trainer   train.trainer.build_trainer        the loop and `save`
"""

from __future__ import annotations

import json
import logging
import os
import time

from deepcorpus.core import storage
from deepcorpus.core.command import check_output
from deepcorpus.core.errors import UserError
from train import config as config_mod

log = logging.getLogger("train")


def run(args) -> int:
    if args.count_params:
        return count_params(args)
    values = cli_values(args)
    output = values["output"] or (config_mod.load_file(args.config).get("output") if args.config else None)
    if not output:
        raise UserError("--output RUN_DIR is required (checkpoints, metrics.jsonl and summary.json go there)")
    check_output(output, "dir")  # given in --config: checked here, before any work, as the option is
    if not args.resume:
        config_mod.build_config(values, args.config)  # the file's values checked before torch loads
    from train.checkpoint import newest_checkpoint

    resume_from = None
    if args.resume:
        resume_from = newest_checkpoint(output)
        if resume_from is None:
            log.warning("--resume: no complete checkpoint in %s yet; starting from step 0", output)
    elif newest_checkpoint(output):
        raise UserError(f"{output}: holds checkpoints already ({os.path.basename(newest_checkpoint(output))}); "
                        f"add --resume to continue that run, or choose another --output")
    command = args.command_line  # as typed, recorded in summary.json
    return train(values, args.config, resume_from, command)


def cli_values(args) -> dict:
    """The TrainConfig fields the user gave on the command line (None = not given)."""
    values = {}
    for name in config_mod.FIELDS:
        v = getattr(args, name, None)
        if name == "model":
            v = config_mod.parse_model_overrides(v) if v else None
        elif name in ("data", "resume") and not v:
            v = None
        values[name] = v
    return values


def train(values: dict, config_path: str | None, resume_from: str | None, command: list[str]) -> int:
    from train import init_from
    from train.checkpoint import build_checkpointer, load_checkpoint, model_args_from_dict
    from train.loader import build_data, describe
    from train.metrics import build_metrics, write_summary
    from train.model_setup import build_model
    from train.optim import build_optimizer, build_schedule
    from train.parallel import build_parallel
    from train.trainer import build_trainer

    started = time.time()
    cfg = config_mod.effective_config(values, config_path, resume_from)
    run_dir = cfg.output
    if run_dir is None:
        raise UserError("--output RUN_DIR is required")
    if storage.is_remote(run_dir):
        raise UserError(f"{run_dir}: the run directory must be local (metrics and checkpoints are written there)")

    parallel = build_parallel(cfg)
    ckpt = load_checkpoint(resume_from, parallel.rank) if resume_from else None
    if ckpt and not cfg.tokenizer_hash:
        cfg.tokenizer_hash = ckpt["trainer"].get("tokenizer_hash")
    # --init-from: weights (and the architecture) from a checkpoint, the run itself from step 0. A
    # resumed run continues from its own checkpoint instead.
    source = init_from.open_source(cfg.init_from) if cfg.init_from and not ckpt else None
    if source is not None and values.get("preset"):
        log.warning("--preset %s is ignored: --init-from %s gives the architecture", cfg.preset, cfg.init_from)
    given_tokenizer = cfg.tokenizer
    data = build_data(cfg, parallel)
    info = data.sources[0].info
    cfg.tokenizer_hash = info["tokenizer_hash"]  # recorded, so a resumed run refuses other shards
    if source is not None:
        cfg.tokenizer = init_from.check_tokenizer(source, cfg.tokenizer_hash, given_tokenizer)
    if cfg.tokenizer is None and info.get("tokenizer"):
        cfg.tokenizer = info["tokenizer"]

    if ckpt:
        model = build_model(cfg, info, parallel, model_args_from_dict(ckpt["model_args"]))
    elif source is not None:
        if parallel.is_main:
            log.info("init: weights from %s", source.describe())
        model = build_model(cfg, info, parallel, init_from.model_args(source, cfg.model),
                            load_weights=lambda module: init_from.load_weights(source, module))
    else:
        model = build_model(cfg, info, parallel)
    optimizer = build_optimizer(cfg, model.module)
    schedule = build_schedule(cfg)
    checkpointer = build_checkpointer(cfg, parallel, model.args)
    checkpointer.run_state["add_bos"] = info.get("add_bos")  # how the shards began documents, for export
    metrics = build_metrics(cfg, model.module, data.seq_len, parallel)
    trainer = build_trainer(cfg, model, optimizer, schedule, data, metrics, checkpointer, parallel)
    if ckpt:
        trainer.load(ckpt)
        if parallel.is_main:
            log.info("resumed from %s at step %d", resume_from, trainer.steps_done)
        ckpt = None  # free the copies

    n_params = sum(p.numel() for p in model.module.parameters())
    if parallel.is_main:
        os.makedirs(run_dir, exist_ok=True)
        config_mod.write_toml(cfg, os.path.join(run_dir, "config.toml"))
        log.info("data: %s", describe(data.sources))
        origin = f"from {cfg.init_from}" if source is not None else f"preset {cfg.preset}"
        log.info("model: %s, %s parameters, vocab %d, seq_len %d; %s on %s x%d; batch %d = %d x %d accum x %d ranks",
                 origin, f"{n_params:,}", model.args.vocab_size, data.seq_len,
                 parallel.data_parallel if parallel.distributed else "single process", parallel.device,
                 parallel.world, cfg.batch_size, data.micro_batch, data.accum, parallel.world)

    outcome = trainer.train()
    if parallel.is_main:
        write_summary(run_dir, cfg, command, step=outcome.step, tokens_seen=metrics.tokens_seen,
                      world=parallel.world, elapsed=time.time() - started, stopped=outcome.stopped,
                      last_saved=outcome.last_saved, parameters=n_params)
    parallel.shutdown()
    return 0


def count_params(args) -> int:
    from model import count_parameters, get_preset

    # The model the run would build: the preset and [model] of --config, then the options.
    cfg = config_mod.build_config(cli_values(args), args.config)
    counts = count_parameters(get_preset(cfg.preset, **cfg.model))
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
