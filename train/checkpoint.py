"""Checkpoints: everything needed to resume bit for bit, written so a crash never leaves a fake one.

    RUN/checkpoints/step_00000080/
        model.pt         full model state dict (router biases included: they are buffers)
        optimizer.pt     AdamW state, keyed by parameter name
        sharded/         instead of the two above under FSDP2: torch.distributed.checkpoint files,
                         each rank writing its own shards (no gather onto one rank)
        trainer.json     step, tokens seen, loader position, schedule, the run's loss history
        rng_rank{R}.pt   torch / CUDA / NumPy / Python RNG states of each rank
        config.toml      the effective TrainConfig
        model_args.json  the ModelArgs the model was built with
        COMPLETE         written last: the file list with sizes

A checkpoint is written into a hidden `.step_XXXXXXXX.tmp` sibling and renamed into place after
COMPLETE is in it; `newest_checkpoint` only accepts directories whose COMPLETE lists files that are
all there at their recorded sizes. On gs:// or s3:// (no atomic rename) COMPLETE alone decides.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import re
import shutil

import numpy as np
import torch

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

log = logging.getLogger(__name__)

MARKER = "COMPLETE"
STEP_DIR = re.compile(r"^step_(\d{8})$")


def step_dir_name(step: int) -> str:
    return f"step_{step:08d}"


def checkpoints_dir(run_dir: str) -> str:
    return storage.join(run_dir, "checkpoints")


def _write_bytes(path: str, data: bytes) -> None:
    with storage.open_write(path) as f:
        f.write(data)


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _torch_load(path: str):
    return torch.load(io.BytesIO(storage.read_bytes(path)), map_location="cpu", weights_only=False)


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _no_barrier() -> None:
    return None


def _dcp():
    """torch.distributed.checkpoint, without its warning that a lone process saves or loads alone."""
    import warnings

    import torch.distributed.checkpoint as dcp

    warnings.filterwarnings("ignore", message="torch.distributed is disabled", category=UserWarning)
    return dcp


SHARDED = "sharded"


def save_checkpoint(run_dir: str, step: int, *, model_state: dict | None, optimizer_state: dict | None,
                    trainer_state: dict, config_toml: str, model_args: dict, keep: int,
                    rank: int = 0, barrier=_no_barrier, sharded_state: dict | None = None) -> str:
    """Write checkpoint `step` under RUN/checkpoints; every rank calls this (rank 0 writes the
    shared files, each rank its RNG state). Returns the final directory.

    With `sharded_state` ({"model": ..., "optimizer": ...} of DTensors, given on every rank) the
    weights go to `sharded/` through torch.distributed.checkpoint instead of model.pt/optimizer.pt."""
    root = checkpoints_dir(run_dir)
    final = storage.join(root, step_dir_name(step))
    remote = storage.is_remote(run_dir)
    tmp = final if remote else storage.join(root, f".{step_dir_name(step)}.tmp")
    if rank == 0:
        storage.makedirs(root)
        if storage.exists(tmp):
            storage.remove_tree(tmp)  # left by a crash during an earlier attempt at this step
        storage.makedirs(tmp)
    barrier()
    files: dict[str, int] = {}

    def put(name: str, data: bytes) -> None:
        _write_bytes(storage.join(tmp, name), data)
        files[name] = len(data)

    put(f"rng_rank{rank}.pt", _torch_bytes(rng_state()))
    if sharded_state is not None:
        _dcp().save(sharded_state, checkpoint_id=storage.join(tmp, SHARDED))
    if rank == 0:
        if sharded_state is None:
            put("model.pt", _torch_bytes(model_state))
            put("optimizer.pt", _torch_bytes(optimizer_state))
        put("trainer.json", json.dumps(trainer_state, indent=1).encode())
        put("config.toml", config_toml.encode())
        put("model_args.json", json.dumps(model_args, indent=1, default=str).encode())
    barrier()
    if rank == 0:
        for name in storage.listdir(tmp):  # the other ranks' RNG files and the sharded weights
            base = storage.basename(name)
            if base == SHARDED:
                for shard in storage.listdir(name):
                    files[f"{SHARDED}/{storage.basename(shard)}"] = storage.size(shard)
            elif base not in files and base != MARKER:
                files[base] = storage.size(name)
        marker = json.dumps({"step": step, "files": files}, indent=1).encode()
        storage.write_bytes_atomic(storage.join(tmp, MARKER), marker)
        if not remote:
            _replace_dir(tmp, final)
        prune(run_dir, keep)
        log.info("checkpoint %s written", final)
    barrier()
    return final


def _replace_dir(tmp: str, final: str) -> None:
    if os.path.exists(final):
        # Re-saving a step (a resumed run ending where it started): swap, so a complete one always exists.
        trash = final + ".old"
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)


def is_complete(path: str) -> bool:
    marker = storage.join(path, MARKER)
    if not storage.exists(marker):
        return False
    try:
        listed = json.loads(storage.read_bytes(marker))["files"]
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError):
        return False
    for name, size in listed.items():
        p = storage.join(path, name)
        if not storage.exists(p) or storage.size(p) != size:
            return False
    return True


def complete_checkpoints(run_dir: str) -> list[tuple[int, str]]:
    """(step, path) of every complete checkpoint of a run, oldest first."""
    root = checkpoints_dir(run_dir)
    if not storage.is_dir(root):
        return []
    found = []
    for path in storage.listdir(root):
        m = STEP_DIR.match(storage.basename(path))
        if m and is_complete(path):
            found.append((int(m.group(1)), path))
    return sorted(found)


def newest_checkpoint(run_dir: str) -> str | None:
    found = complete_checkpoints(run_dir)
    return found[-1][1] if found else None


def prune(run_dir: str, keep: int) -> None:
    """Delete all but the newest `keep` complete checkpoints, and unfinished ones left by crashes."""
    found = complete_checkpoints(run_dir)
    for _, path in found[:-keep] if keep > 0 else []:
        storage.remove_tree(path)
    root = checkpoints_dir(run_dir)
    for path in storage.listdir(root):
        base = storage.basename(path)
        if base.startswith(".step_") or (STEP_DIR.match(base) and not is_complete(path) and not storage.is_remote(path)):
            storage.remove_tree(path)


def resolve_checkpoint(path: str) -> str:
    """A checkpoint directory from a run directory, a checkpoints/ directory or a checkpoint itself."""
    if storage.exists(storage.join(path, MARKER)):
        if not is_complete(path):
            raise UserError(f"{path}: incomplete checkpoint (files missing or truncated)")
        return path
    run = storage.parent(path) if storage.basename(path) == "checkpoints" else path
    newest = newest_checkpoint(run)
    if newest is None:
        raise UserError(f"{path}: no complete checkpoint found")
    return newest


def load_checkpoint(path: str, rank: int = 0) -> dict:
    """The parts of checkpoint `path` (already resolved): model, optimizer, trainer, rng, args."""
    rng_path = storage.join(path, f"rng_rank{rank}.pt")
    sharded = storage.is_dir(storage.join(path, SHARDED))
    return {
        "path": path,
        "sharded": storage.join(path, SHARDED) if sharded else None,
        "model": None if sharded else _torch_load(storage.join(path, "model.pt")),
        "optimizer": None if sharded else _torch_load(storage.join(path, "optimizer.pt")),
        "trainer": json.loads(storage.read_bytes(storage.join(path, "trainer.json"))),
        "rng": _torch_load(rng_path) if storage.exists(rng_path) else None,
        "model_args": json.loads(storage.read_bytes(storage.join(path, "model_args.json"))),
    }


def model_args_from_dict(data: dict):
    """ModelArgs from its saved JSON, ignoring keys this version of the model no longer has."""
    import dataclasses

    from model.config import ModelArgs

    known = {f.name for f in dataclasses.fields(ModelArgs)}
    unknown = sorted(set(data) - known)
    if unknown:
        log.warning("ignoring model arguments this version does not know: %s", ", ".join(unknown))
    return ModelArgs(**{k: v for k, v in data.items() if k in known})


def load_for_inference(path: str, device: str = "cpu"):
    """(model in eval mode, ModelArgs, tokenizer path or None) from a run or checkpoint directory."""
    from model.transformer import Transformer

    ckpt = resolve_checkpoint(path)
    args = model_args_from_dict(json.loads(storage.read_bytes(storage.join(ckpt, "model_args.json"))))
    with torch.device(device):
        model = Transformer(args)  # real buffers (RoPE tables, counters) that state_dict leaves out
    sharded = storage.join(ckpt, SHARDED)
    if storage.is_dir(sharded):
        # Read into this process's unsharded state dict: DCP reshards on load, no process group needed.
        state = {"model": model.state_dict()}
        _dcp().load(state, checkpoint_id=sharded)
        model.load_state_dict(state["model"], strict=True)
    else:
        model.load_state_dict(_torch_load(storage.join(ckpt, "model.pt")), strict=True)
    model.eval()
    trainer = json.loads(storage.read_bytes(storage.join(ckpt, "trainer.json")))
    tokenizer = trainer.get("tokenizer")
    if tokenizer and not storage.exists(tokenizer):
        log.warning("%s: the run's tokenizer %s is gone; pass one explicitly", ckpt, tokenizer)
        tokenizer = None
    return model, args, tokenizer
