"""Export a trained checkpoint as a Hugging Face model directory, shard by shard.

    summary = export_hf("runs/small", "exports/small", dtype="bf16")   # the newest checkpoint
    AutoModelForCausalLM.from_pretrained("exports/small")               # DeepseekV3ForCausalLM

DIR gets what `transformers.AutoModelForCausalLM.from_pretrained` and vLLM/SGLang read:

    config.json                     DeepSeek's fields (model.hf.hf_config), the release's RoPE keys
    generation_config.json          BOS/EOS/PAD
    model-0000K-of-0000N.safetensors  the weights in DeepSeek's key layout, bf16 or fp32 (router fp32)
    model.safetensors.index.json    key -> shard, total size
    tokenizer.json, tokenizer_config.json, special_tokens_map.json   (interop.tokenizer_files)
    deepcorpus.json                 where it came from: run, step, tokenizer hash, command

Peak memory is one output shard plus the checkpoint tensors it is cut from: the plan (keys, shapes,
shard boundaries) comes from the ModelArgs alone, then each shard's tensors are read (memory-mapped
model.pt, or by key from a sharded DCP checkpoint), written and dropped. The directory is built as
DIR.partial and renamed when complete, so DIR is never half written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time

import torch

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError
from model.hf import HfTensor, architecture, hf_config, hf_tensors
from train.checkpoint import (
    ModelStateReader,
    checkpoints_dir,
    is_complete,
    model_args_from_dict,
    resolve_checkpoint,
    step_dir_name,
)

log = logging.getLogger("export")

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}
MARKER = ".deepcorpus-export"  # in DIR.partial only: what a later export may clear away


def parse_size(text: str) -> int:
    """'5GB', '500MB', '2GiB', '1000000' -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise UserError(f"--max-shard-size: expected a size like 5GB or 500MB, got {text!r}")
    unit = (m.group(2) or "B").upper()
    base = 1024 if "I" in unit else 1000
    power = "BKMGT".index(unit[0]) if unit[0] in "KMGT" else 0
    size = int(float(m.group(1)) * base**power)
    if size <= 0:
        raise UserError(f"--max-shard-size must be positive, got {text!r}")
    return size


def find_checkpoint(path: str, step: int | None) -> str:
    """Checkpoint `step` of run `path` (must be complete), or the newest when step is None; `path` may
    also be a checkpoint directory itself."""
    if step is None:
        return resolve_checkpoint(path)
    ckpt = storage.join(checkpoints_dir(path), step_dir_name(step))
    if not storage.exists(ckpt):
        raise UserError(f"{path}: no checkpoint for step {step} (looked for {ckpt})")
    if not is_complete(ckpt):
        raise UserError(f"{ckpt}: incomplete checkpoint (files missing or truncated)")
    return ckpt


def plan_shards(tensors: list[HfTensor], dtype: torch.dtype, max_bytes: int) -> list[list[HfTensor]]:
    """Consecutive tensors in groups of at most `max_bytes` (a larger tensor gets a shard of its own)."""
    shards, current, size = [], [], 0
    for t in tensors:
        n = _nbytes(t, dtype)
        if current and size + n > max_bytes:
            shards.append(current)
            current, size = [], 0
        current.append(t)
        size += n
    if current:
        shards.append(current)
    return shards


def _out_dtype(t: HfTensor, dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if t.router else dtype  # transformers keeps the router in float32 too


def _nbytes(t: HfTensor, dtype: torch.dtype) -> int:
    n = 1
    for d in t.shape:
        n *= d
    return n * _out_dtype(t, dtype).itemsize


def _tokenizer_bytes(trainer: dict, tokenizer: str | None, ckpt: str) -> tuple[bytes, str]:
    """The run's tokenizer.json bytes (checked against the hash its shards recorded) and its path."""
    import hashlib

    path = tokenizer or trainer.get("tokenizer")
    expected = trainer.get("tokenizer_hash")
    if not path:
        raise UserError(f"{ckpt}: the run recorded no tokenizer; pass --tokenizer PATH (the tokenizer.json its "
                        "shards were made with) or --no-tokenizer")
    if not storage.exists(path):
        raise UserError(f"{path}: the run's tokenizer is gone; pass --tokenizer PATH or --no-tokenizer")
    data = storage.read_bytes(path)
    actual = hashlib.sha256(data).hexdigest()
    if expected and actual != expected:
        raise UserError(f"{path}: tokenizer {actual[:12]} is not the one the run's shards were made with "
                        f"({expected[:12]}); pass that one with --tokenizer")
    return data, path


def export_hf(run: str, output: str, *, step: int | None = None, dtype: str = "bf16", max_shard_bytes: int = 5 * 10**9,
              tokenizer: str | None = None, with_tokenizer: bool = True, add_bos: bool | None = None,
              include_mtp: bool = True, command: list[str] | None = None) -> dict:
    """Write checkpoint `step` of `run` (newest by default) to `output` in the Hugging Face layout;
    returns the summary (also in output/deepcorpus.json)."""
    started = time.time()
    if dtype not in DTYPES:
        raise UserError(f"--dtype must be one of {', '.join(DTYPES)} (got {dtype!r})")
    if storage.is_remote(output):
        raise UserError(f"{output}: export writes a local directory (copy it to the bucket afterwards)")
    output = os.path.abspath(output)
    if os.path.exists(output) and (not os.path.isdir(output) or os.listdir(output)):
        raise UserError(f"{output}: exists and is not empty; choose another --output")
    ckpt = find_checkpoint(run, step)
    args = model_args_from_dict(json.loads(storage.read_bytes(storage.join(ckpt, "model_args.json"))))
    trainer = json.loads(storage.read_bytes(storage.join(ckpt, "trainer.json")))
    step_done = int(trainer.get("step", _step_of(ckpt)))
    tok_data = tok_path = None
    if with_tokenizer:
        tok_data, tok_path = _tokenizer_bytes(trainer, tokenizer, ckpt)
    add_bos = bool(trainer.get("add_bos")) if add_bos is None else add_bos

    partial = output.rstrip(os.sep) + ".partial"
    if os.path.exists(partial):
        if not os.path.isfile(os.path.join(partial, MARKER)):
            raise UserError(f"{partial}: exists and was not left by an export; move it away")
        shutil.rmtree(partial)  # an earlier export of ours that did not finish
    os.makedirs(partial)
    open(os.path.join(partial, MARKER), "w").close()

    out_dtype = DTYPES[dtype]
    tensors = hf_tensors(args, include_mtp=include_mtp)
    shards = plan_shards(tensors, out_dtype, max_shard_bytes)
    reader = ModelStateReader(ckpt)
    names = [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    weight_map, total = {}, 0
    stats = {"max_shard_bytes": 0}
    log.info("exporting %s (%s) as %s, %s, %d tensors in %d shard(s) to %s", ckpt, "sharded" if reader.sharded else
             "model.pt", architecture(args), dtype, len(tensors), len(shards), output)
    for i, (shard, name) in enumerate(zip(shards, names)):
        nbytes = _write_shard(reader, shard, out_dtype, os.path.join(partial, name), args)
        stats["max_shard_bytes"] = max(stats["max_shard_bytes"], nbytes)
        weight_map.update({t.key: name for t in shard})
        total += nbytes
        log.info("shard %d/%d written: %s, %.1f MB", i + 1, len(shards), name, nbytes / 1e6)

    ids = {"bos_id": None, "eos_id": None, "pad_id": None}
    if tok_data is not None:
        from interop.tokenizer_files import write_tokenizer_files

        ids = write_tokenizer_files(tok_data, partial, add_bos=add_bos, model_max_length=args.max_seq_len,
                                    name=tok_path)
    config = hf_config(args, bos_id=ids["bos_id"], eos_id=ids["eos_id"], pad_id=ids["pad_id"],
                       dtype="bfloat16" if dtype == "bf16" else "float32", include_mtp=include_mtp)
    generation = {k: v for k, v in (("bos_token_id", ids["bos_id"]), ("eos_token_id", ids["eos_id"]),
                                    ("pad_token_id", ids["pad_id"])) if v is not None}
    summary = {
        "format": "hf", "architecture": architecture(args), "run": os.path.abspath(run) if not storage.is_remote(run) else run,
        "checkpoint": ckpt, "step": step_done, "dtype": dtype, "parameters": sum(_numel(t.shape) for t in tensors
                                                                               if not _is_copy(t)),
        "shards": len(shards), "total_bytes": total, "mtp_layers": config["num_nextn_predict_layers"],
        "tokenizer": tok_path, "tokenizer_hash": trainer.get("tokenizer_hash"), "add_bos": add_bos if tok_data else None,
        "command": command, "seconds": round(time.time() - started, 1), **stats,
    }
    for file, content in (("config.json", config), ("generation_config.json", generation),
                          ("model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map}),
                          ("deepcorpus.json", summary)):
        with open(os.path.join(partial, file), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2, ensure_ascii=False)
            f.write("\n")
    os.remove(os.path.join(partial, MARKER))
    if os.path.isdir(output):
        os.rmdir(output)  # empty, checked above
    os.replace(partial, output)
    return summary


def _write_shard(reader: ModelStateReader, shard: list[HfTensor], dtype: torch.dtype, path: str, args) -> int:
    from safetensors.torch import save_file

    sources = reader.read(dict.fromkeys(t.source for t in shard))
    out = {}
    for t in shard:
        src = sources[t.source]
        value = src[t.expert] if t.expert is not None else src
        out[t.key] = value.to(_out_dtype(t, dtype)).contiguous().clone()
    if architecture(args) == "DeepseekV2ForCausalLM":
        _check_no_router_bias(reader, shard)
    nbytes = sum(v.numel() * v.element_size() for v in out.values())
    save_file(out, path, metadata={"format": "pt"})
    return nbytes


def _check_no_router_bias(reader: ModelStateReader, shard: list[HfTensor]) -> None:
    """DeepseekV2 has no correction bias: a softmax router must not have learnt one."""
    for key in {t.source.removesuffix(".weight") + ".bias" for t in shard if t.source.endswith("ffn.gate.weight")}:
        bias = reader.read([key])[key]
        if bool(bias.ne(0).any()):
            raise UserError(f"{key} is non-zero, but softmax routing exports as DeepseekV2, which has no router "
                            "bias (train with bias_update_speed=0, or use sigmoid routing for DeepseekV3)")


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _is_copy(t: HfTensor) -> bool:
    """The MTP layers' copies of the embedding and head."""
    return t.source in ("embed.weight", "head.weight") and t.key.startswith("model.layers.")


def _step_of(ckpt: str) -> int:
    m = re.search(r"step_(\d+)$", ckpt.rstrip("/"))
    return int(m.group(1)) if m else 0
