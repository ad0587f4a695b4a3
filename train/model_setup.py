"""The model a run trains: ModelArgs from the preset and the shards, the Transformer, FP8,
activation checkpointing, DDP or FSDP2, torch.compile.

`TrainModel.module` is the Transformer itself (state dicts, router biases, FLOPs); `wrapped` is what
a training step calls: the same module under the data-parallel wrapper and torch.compile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from deepcorpus.core.errors import UserError
from model import PRESETS, ModelArgs, Transformer, get_preset
from model.fp8 import convert_to_fp8, fp8_available
from train.parallel import Parallel, wrap_model


@dataclass
class TrainModel:
    module: Transformer
    wrapped: torch.nn.Module
    args: ModelArgs


def model_args(cfg, info: dict) -> ModelArgs:
    """The preset with the config's [model] overrides, sized for the shards' vocabulary and length."""
    overrides = dict(cfg.model)
    vocab = int(info["vocab_size"])
    if overrides.get("vocab_size", vocab) < vocab:
        raise UserError(f"model vocab_size {overrides['vocab_size']} is smaller than the shards' vocabulary {vocab}")
    overrides.setdefault("vocab_size", vocab)
    preset_max = PRESETS.get(cfg.preset, {}).get("max_seq_len", 0)
    overrides.setdefault("max_seq_len", max(preset_max, int(info["seq_len"])))
    return get_preset(cfg.preset, **overrides)


def build_model(cfg, info: dict, parallel: Parallel, args: ModelArgs | None = None,
                load_weights: Callable[[Transformer], None] | None = None) -> TrainModel:
    """A freshly initialised model (seeded by `cfg.seed`) for the shards `info` describes; `args`
    (a checkpoint's) replace the ones the config would give. `load_weights(module)` (--init-from)
    fills the weights in before FP8 conversion and the data-parallel wrapper."""
    args = args or model_args(cfg, info)
    if args.vocab_size < int(info["vocab_size"]):
        raise UserError(f"the checkpoint's vocab_size {args.vocab_size} is smaller than the shards' {info['vocab_size']}")
    if args.max_seq_len < int(info["seq_len"]):
        raise UserError(f"the shards' seq_len {info['seq_len']} exceeds the model's max_seq_len {args.max_seq_len}")
    torch.manual_seed(cfg.seed)
    module = Transformer(args).to(parallel.device)
    if load_weights is not None:
        load_weights(module)
    if cfg.fp8:
        apply_fp8(module, cfg.fp8_backend)
    if cfg.activation_checkpointing:
        module.set_activation_checkpointing(True)
    wrapped = wrap_model(module, parallel)
    if cfg.compile:
        wrapped = torch.compile(wrapped)
    return TrainModel(module, wrapped, args)


def apply_fp8(model: Transformer, backend: str) -> None:
    if backend != "reference":
        ok, reason = fp8_available()
        if not ok:
            hint = "" if "reference" in reason else "; --fp8-backend reference runs the pure-PyTorch kernels instead"
            raise UserError(f"--fp8: {reason}{hint}")
    convert_to_fp8(model, backend=backend)
