"""`deepcorpus train --init-from PATH`: start a run (step 0, fresh optimizer and schedule) from trained
weights, for continued pre-training on a new corpus.

PATH is a local Hugging Face checkpoint of DeepSeek-V2, V2-Lite, V3 or Coder-V2 style (config.json
and safetensors: the architecture comes from its config.json, FP8 block-scaled weights of the V3
release are dequantised), or a run or checkpoint of ours (context extension: the same weights with
`--model yarn=true --model max_seq_len=32768`).

The token shards must be made with the checkpoint's own tokenizer: their recorded hash must be its
tokenizer.json's (for a run of ours: the hash its own shards recorded). Re-serialised copies of the
same tokenizer hash differently; `--tokenizer FILE` names the file the shards were made with, and is
accepted when it is the checkpoint's tokenizer in content (vocabulary, merges, special tokens,
pre-tokenizer, normalizer, decoder).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

log = logging.getLogger("train")

# Overrides that would change a parameter's shape; the weights decide these. mtp_depth may change:
# MTP modules the checkpoint lacks start fresh, extra ones are left out.
SHAPE_FIELDS = ("vocab_size", "dim", "n_layers", "n_heads", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim",
                "qk_rope_head_dim", "v_head_dim", "n_dense_layers", "inter_dim", "moe_inter_dim",
                "n_routed_experts", "n_shared_experts")
# What decides how a tokenizer.json encodes; the rest (post-processor, padding, truncation) does not
# change the ids of a text encoded without special tokens, as the tokenize pipeline encodes.
TOKENIZER_CONTENT = ("model", "added_tokens", "normalizer", "pre_tokenizer", "decoder")


@dataclass
class InitSource:
    path: str
    kind: str  # "hf" or "run"
    args: object  # ModelArgs
    tokenizer: str | None  # the checkpoint's tokenizer.json, when it has one
    tokenizer_hash: str | None
    checkpoint: str | None = None  # kind "run": the resolved checkpoint directory

    def describe(self) -> str:
        return f"{self.path} ({'Hugging Face checkpoint' if self.kind == 'hf' else 'checkpoint ' + str(self.checkpoint)})"


def open_source(path: str) -> InitSource:
    """What --init-from names: its ModelArgs and tokenizer, no weights read yet."""
    from model.hf import args_from_hf_config, is_hf_checkpoint
    from train.checkpoint import model_args_from_dict, resolve_checkpoint

    if storage.is_remote(path):
        raise UserError(f"--init-from {path}: must be a local directory (no hub or bucket downloads)")
    if not os.path.isdir(path):
        raise UserError(f"--init-from {path}: no such directory")
    if is_hf_checkpoint(path):
        config_path = os.path.join(path, "config.json")
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        except json.JSONDecodeError as e:
            raise UserError(f"{config_path}: malformed JSON ({e})") from None
        tok = os.path.join(path, "tokenizer.json")
        tok = tok if os.path.isfile(tok) else None
        return InitSource(path, "hf", args_from_hf_config(config, config_path), tok, _sha256(tok) if tok else None)
    ckpt = resolve_checkpoint(path)
    args = model_args_from_dict(json.loads(storage.read_bytes(storage.join(ckpt, "model_args.json"))))
    trainer = json.loads(storage.read_bytes(storage.join(ckpt, "trainer.json")))
    tok = trainer.get("tokenizer")
    return InitSource(path, "run", args, tok if tok and storage.exists(tok) else None, trainer.get("tokenizer_hash"),
                      checkpoint=ckpt)


def model_args(source: InitSource, overrides: dict):
    """The checkpoint's ModelArgs with the config's [model] overrides that keep every shape."""
    changed = [k for k in SHAPE_FIELDS if k in overrides and overrides[k] != getattr(source.args, k)]
    if changed:
        raise UserError(f"--init-from {source.path}: --model {changed[0]}={overrides[changed[0]]} would change the "
                        f"shape of its weights ({changed[0]} is {getattr(source.args, changed[0])} there)")
    return source.args.replace(**overrides) if overrides else source.args


def check_tokenizer(source: InitSource, shards_hash: str, tokenizer: str | None) -> str | None:
    """Refuse shards made with another tokenizer than the checkpoint's; returns the tokenizer.json path
    to record for the run (the one given, else the checkpoint's)."""
    own = source.tokenizer
    if source.tokenizer_hash == shards_hash:
        return tokenizer or own
    hint = (f"tokenize the corpus with {own}" if own else "tokenize the corpus with the checkpoint's tokenizer")
    if not tokenizer:
        raise UserError(f"the token shards were made with tokenizer {shards_hash[:12]}, but {source.path}'s is "
                        f"{str(source.tokenizer_hash)[:12]}: {hint}, or pass --tokenizer FILE (the file the shards "
                        "were made with) if it is the same tokenizer")
    given = _sha256(tokenizer)
    if given != shards_hash:
        raise UserError(f"--tokenizer {tokenizer}: {given[:12]} is not the tokenizer the shards were made with "
                        f"({shards_hash[:12]})")
    if own is None:
        log.warning("%s has no tokenizer.json to compare with; trusting --tokenizer %s", source.path, tokenizer)
        return tokenizer
    if _content(tokenizer) != _content(own):
        raise UserError(f"--tokenizer {tokenizer} is another tokenizer than {own} (vocabulary, merges or special "
                        f"tokens differ): {hint}")
    log.info("--tokenizer %s is %s in content (re-serialised); accepted", tokenizer, own)
    return tokenizer


def load_weights(source: InitSource, model) -> None:
    """Copy the source's weights into `model` (built from `model_args(source, ...)`), in place."""
    import torch

    if source.kind == "hf":
        from model.hf import HfCheckpoint, load_hf_weights

        with HfCheckpoint(source.path) as ckpt:
            report = load_hf_weights(model, ckpt)
        log.info("init: %d tensors from %s%s", len(report["loaded"]), source.path,
                 f" ({len(report['fresh'])} initialised fresh)" if report["fresh"] else "")
        return
    from train.checkpoint import ModelStateReader

    reader = ModelStateReader(source.checkpoint)
    state = model.state_dict()
    have = set(reader.keys())
    missing = [k for k in state if k not in have]
    if any(not k.startswith("mtp.") for k in missing):
        raise UserError(f"{source.checkpoint}: has no {', '.join(k for k in missing if not k.startswith('mtp.'))[:200]}")
    with torch.no_grad():
        for key in state:
            if key in have:
                state[key].copy_(reader.read([key])[key])
    if missing:
        log.warning("%s: no weights for %s; they start freshly initialised", source.checkpoint,
                    ", ".join(sorted({".".join(k.split(".")[:2]) for k in missing})))
    log.info("init: %d tensors from %s", len(state) - len(missing), source.checkpoint)


def _sha256(path: str) -> str:
    return hashlib.sha256(storage.read_bytes(path)).hexdigest()


def _content(path: str) -> dict:
    try:
        data = json.loads(storage.read_bytes(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path}: not a tokenizer.json") from None
    return {k: data.get(k) for k in TOKENIZER_CONTENT}
