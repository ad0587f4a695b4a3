"""`deepcorpus sft`: supervised fine-tuning from a checkpoint on prompt/completion or chat records.

    deepcorpus sft --init-from runs/base --data formal-out/sft.jsonl --steps 500 --output runs/sft
    torchrun --nproc_per_node 8 -m deepcorpus sft --init-from ~/DeepSeek-V2-Lite --data chats.parquet ...

The loss is train's (next-token cross-entropy, with MTP and the balance term when the model has
them) over the learnt tokens only: completions, assistant turns and their EOS; prompts and
everything before them are context. Examples are packed whole into rows, each its own document
(posttrain/sft_data.py). The rest is train's: the `build_*` components, the Trainer's loop, metrics.jsonl,
checkpoints, `--resume`, DDP/FSDP2 under torchrun.
"""

from __future__ import annotations

import json
import logging
import os
import time

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError
from posttrain.config import SFTConfig, cli_values, effective_config

log = logging.getLogger("posttrain")


def resume_point(output: str | None, resume: bool, command: str = "sft") -> str | None:
    """The checkpoint to continue from (--resume), refusing to write over a run's checkpoints otherwise,
    and into any directory that is neither new, empty, nor a `command` run of ours (core/outputs.py)."""
    from deepcorpus.core import outputs
    from train.checkpoint import newest_checkpoint

    if not output:
        raise UserError("--output RUN_DIR is required (checkpoints, metrics.jsonl and summary.json go there)")
    if storage.is_remote(output):
        raise UserError(f"{output}: the run directory must be local (metrics and checkpoints are written there)")
    outputs.check_run_output(output, command)
    newest = newest_checkpoint(output)
    if resume:
        if newest is None:
            log.info("--resume: no complete checkpoint in %s yet; starting from step 0", output)
        return newest
    if newest:
        raise UserError(f"{output}: holds checkpoints already ({os.path.basename(newest)}); add --resume to continue "
                        f"that run, or choose another --output")
    return None


def make_run_dir(run_dir: str, command: str, command_line: list[str]) -> None:
    """The run directory, marked as a `command` run of ours before anything else is written into it."""
    from deepcorpus.core import outputs

    os.makedirs(run_dir, exist_ok=True)
    outputs.mark_run_output(run_dir, command, command_line)


def command_config(args, cls, command: str):
    """(config, checkpoint to resume from) of an sft/grpo command line: defaults < --config <
    options, the run directory from either, and the run's own config when resuming."""
    values = cli_values(args, cls)
    output = values["output"]
    if not output and args.config:
        from train.config import load_file

        output = load_file(args.config, cls).get("output")
    resume_from = resume_point(output, args.resume, command)
    return effective_config(cls, {**values, "output": output}, args.config, resume_from), resume_from


def run(args) -> int:
    cfg, resume_from = command_config(args, SFTConfig, "sft")
    return sft(cfg, resume_from, args.command_line)


def sft(cfg: SFTConfig, resume_from: str | None, command: list[str]) -> int:
    from posttrain.init import build_policy, open_start, run_state
    from posttrain.sft_data import PackedSFTLoader, prepare_store
    from posttrain.templates import load_chat_template
    from train.checkpoint import build_checkpointer, load_checkpoint
    from train.config import write_toml
    from train.metrics import build_metrics, write_summary
    from train.optim import build_optimizer, build_schedule
    from train.parallel import build_parallel
    from train.trainer import build_trainer

    started = time.time()
    run_dir = cfg.output
    if not cfg.data:
        raise UserError("--data FILE is required: prompt/completion or chat records (JSONL or Parquet)")
    parallel = build_parallel(cfg)
    ckpt = load_checkpoint(resume_from, parallel.rank) if resume_from else None
    start = open_start(cfg, ckpt)
    cfg.tokenizer, cfg.tokenizer_hash = start.tokenizer_path, start.tokenizer_hash
    if parallel.is_main:
        make_run_dir(run_dir, "sft", command)
    chat = load_chat_template(cfg.chat_template, start.tokenizer_path, start.tokenizer, start.ids)
    store = prepare_store(run_dir, cfg, start, chat, parallel, resuming=ckpt is not None)
    micro = cfg.micro_batch_size or cfg.batch_size // parallel.world
    if micro < 1 or cfg.batch_size % (micro * parallel.world):
        raise UserError(f"batch_size {cfg.batch_size} must be a multiple of micro_batch_size x ranks "
                        f"({micro} x {parallel.world})")
    data = PackedSFTLoader(store, seq_len=cfg.seq_len, global_batch=cfg.batch_size, micro_batch=micro,
                           rank=parallel.rank, world=parallel.world, seed=cfg.seed, pad_id=start.ids.pad,
                           verbose=parallel.is_main)

    model = build_policy(cfg, start, parallel, cfg.seq_len, ckpt)
    optimizer = build_optimizer(cfg, model.module)
    schedule = build_schedule(cfg)
    checkpointer = build_checkpointer(cfg, parallel, model.args)
    checkpointer.run_state.update(run_state(start), kind="sft")
    metrics = build_metrics(cfg, model.module, cfg.seq_len, parallel)
    trainer = build_trainer(cfg, model, optimizer, schedule, data, metrics, checkpointer, parallel)
    if ckpt:
        trainer.load(ckpt)
        if parallel.is_main:
            log.info("resumed from %s at step %d", resume_from, trainer.steps_done)
        ckpt = None

    n_params = sum(p.numel() for p in model.module.parameters())
    counts = store.meta["counts"]
    if parallel.is_main:
        write_toml(cfg, os.path.join(run_dir, "config.toml"))
        rows = data.rows_in_epoch(0)
        log.info("sft: %d examples in %d rows of %d tokens per epoch (%.0f%% filled), %d steps of %d rows = %.1f "
                 "epochs; %s parameters from %s", len(store), rows, cfg.seq_len + 1,
                 100 * counts["tokens"] / (rows * (cfg.seq_len + 1)), cfg.steps, cfg.batch_size,
                 cfg.steps * cfg.batch_size / rows, f"{n_params:,}", cfg.init_from)
    outcome = trainer.train()
    if parallel.is_main:
        summary = write_summary(run_dir, cfg, command, step=outcome.step, tokens_seen=metrics.tokens_seen,
                                world=parallel.world, elapsed=time.time() - started, stopped=outcome.stopped,
                                last_saved=outcome.last_saved, parameters=n_params)
        summary.update(kind="sft", init_from=cfg.init_from, data=counts,
                       model={"init_from": cfg.init_from, "parameters": n_params})
        summary["counters"]["sft_data"] = counts
        with open(os.path.join(run_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
    parallel.shutdown()
    return 0
