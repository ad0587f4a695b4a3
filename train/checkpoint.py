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
State dicts are keyed by parameter name however the model was wrapped
(torch.distributed.checkpoint.state_dict), so a checkpoint does not care how it was trained.

`Checkpointer` (from `build_checkpointer`) is the trainer's handle on all of this: when to save, in
which format, and restoring a checkpoint into a model and optimizer.
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
from train.config import to_toml

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

    from model import ModelArgs

    known = {f.name for f in dataclasses.fields(ModelArgs)}
    unknown = sorted(set(data) - known)
    if unknown:
        log.warning("ignoring model arguments this version does not know: %s", ", ".join(unknown))
    data = {k: v for k, v in data.items() if k in known}
    if "yarn" not in data:
        # Written before YaRN became an explicit switch, when it was on whenever max_seq_len exceeded
        # original_seq_len; such checkpoints also predate MTP's input convention of DeepSeek's release.
        data["yarn"] = int(data.get("max_seq_len", 0)) > int(data.get("original_seq_len", 4096))
        if data.get("mtp_depth", ModelArgs.mtp_depth):
            log.warning("this checkpoint's MTP modules were trained on [hnorm(h); enorm(emb)] of the un-normed "
                        "hidden state; the model now feeds [enorm(emb); hnorm(norm(h))] as DeepSeek-V3's release "
                        "does, so their predictions (not the main head's) start off worse until trained further")
    return ModelArgs(**data)


def load_for_inference(path: str, device: str = "cpu"):
    """(model in eval mode, ModelArgs, tokenizer path or None) from a run or checkpoint directory."""
    from model import Transformer

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


class ModelStateReader:
    """The model weights of a checkpoint (already resolved), a few tensors at a time, for exports of
    models larger than memory: model.pt is memory-mapped (local) and tensors are copied out of it as
    asked; a sharded checkpoint's tensors are read from torch.distributed.checkpoint files by key, each
    `read` allocating only the tensors asked for (DCP reassembles the ranks' shards of each)."""

    def __init__(self, path: str):
        self.path = path
        sharded = storage.join(path, SHARDED)
        self.sharded = sharded if storage.is_dir(sharded) else None
        if self.sharded:
            if storage.is_remote(path):
                raise UserError(f"{path}: export reads sharded checkpoints from a local directory; copy it first")
            from torch.distributed.checkpoint import FileSystemReader

            meta = FileSystemReader(self.sharded).read_metadata().state_dict_metadata
            self._meta = {k.removeprefix("model."): v for k, v in meta.items()
                          if k.startswith("model.") and hasattr(v, "size")}
            self._state = None
        else:
            model_pt = storage.join(path, "model.pt")
            if storage.is_remote(path):
                self._state = _torch_load(model_pt)  # no memory map over the network: read it whole
            else:
                self._state = torch.load(model_pt, map_location="cpu", mmap=True, weights_only=True)

    def keys(self) -> list[str]:
        return list(self._meta) if self._state is None else list(self._state)

    def read(self, keys) -> dict[str, torch.Tensor]:
        keys = list(keys)
        missing = [k for k in keys if k not in (self._meta if self._state is None else self._state)]
        if missing:
            raise UserError(f"{self.path}: checkpoint has no {', '.join(missing[:3])}")
        if self._state is not None:
            return {k: self._state[k] for k in keys}
        part = {"model": {k: torch.empty(tuple(self._meta[k].size), dtype=self._meta[k].properties.dtype)
                          for k in keys}}
        _dcp().load(part, checkpoint_id=self.sharded)
        return part["model"]


# --- state dicts of a (possibly wrapped) model ------------------------------------------------------


def full_state_dicts(model, optimizer, data_parallel: str):
    """Full (unsharded) model and optimizer state dicts keyed by parameter name, on CPU."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    opts = StateDictOptions(full_state_dict=True, cpu_offload=data_parallel == "fsdp" or
                            any(p.is_cuda for p in model.parameters()))
    return get_model_state_dict(model, options=opts), get_optimizer_state_dict(model, optimizer, options=opts)


def sharded_state(model, optimizer) -> dict:
    """Model and optimizer state as this rank holds them (DTensor shards under FSDP2)."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_optimizer_state_dict

    return {"model": get_model_state_dict(model), "optimizer": get_optimizer_state_dict(model, optimizer)}


def load_state_dicts(model, optimizer, ckpt: dict) -> None:
    """Restore a checkpoint read by `load_checkpoint` into (wrapped) model and optimizer."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        set_model_state_dict,
        set_optimizer_state_dict,
    )

    if ckpt["sharded"]:
        # Each rank reads the pieces of its own shards (DCP reshards if the world size changed).
        state = sharded_state(model, optimizer)
        _dcp().load(state, checkpoint_id=ckpt["sharded"])
        set_model_state_dict(model, state["model"])
        set_optimizer_state_dict(model, optimizer, state["optimizer"])
        return
    opts = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, ckpt["model"], options=opts)
    set_optimizer_state_dict(model, optimizer, ckpt["optimizer"], options=opts)


# --- the trainer's component ---------------------------------------------------------------------


class Checkpointer:
    """Writes RUN/checkpoints/step_N every `every` steps (0: only when asked), keeping the newest
    `keep`, as full state dicts written by rank 0 or as every rank's shards (`sharded`). `run_state`
    (the tokenizer, say) goes into every trainer.json beside the trainer's own state."""

    def __init__(self, run_dir: str, parallel, *, every: int, keep: int, sharded: bool, config_toml: str,
                 model_args: dict, run_state: dict | None = None):
        self.run_dir = run_dir
        self.parallel = parallel
        self.every = every
        self.keep = keep
        self.sharded = sharded
        self.config_toml = config_toml
        self.model_args = model_args
        self.run_state = dict(run_state or {})

    def due(self, step: int) -> bool:
        return bool(self.every) and step % self.every == 0

    def save(self, step: int, model, optimizer, trainer_state: dict) -> str:
        """Checkpoint `step`; every rank calls this. `model` is the unwrapped module."""
        model_state = optimizer_state = shards = None
        if self.sharded:
            shards = sharded_state(model, optimizer)
        else:
            model_state, optimizer_state = full_state_dicts(model, optimizer, self.parallel.data_parallel)
        return save_checkpoint(
            self.run_dir, step, model_state=model_state, optimizer_state=optimizer_state,
            trainer_state={**trainer_state, **self.run_state}, config_toml=self.config_toml,
            model_args=self.model_args, keep=self.keep, rank=self.parallel.rank, barrier=self.parallel.barrier,
            sharded_state=shards)

    def restore(self, ckpt: dict, model, optimizer) -> dict:
        """Weights, optimizer state and this rank's RNG from `ckpt` (read by `load_checkpoint` for
        this rank); returns its trainer state."""
        load_state_dicts(model, optimizer, ckpt)
        if ckpt["rng"] is not None:
            set_rng_state(ckpt["rng"])
        return ckpt["trainer"]


def build_checkpointer(cfg, parallel, model_args) -> Checkpointer:
    """From the config's checkpoint section; sharded by default under FSDP2 (no gather onto rank 0)."""
    sharded = cfg.checkpoint_format == "sharded" or (cfg.checkpoint_format == "auto" and
                                                     parallel.data_parallel == "fsdp")
    return Checkpointer(cfg.output, parallel, every=cfg.checkpoint_every, keep=cfg.keep_checkpoints, sharded=sharded,
                        config_toml=to_toml(cfg), model_args=model_args.to_dict(),
                        run_state={"tokenizer": cfg.tokenizer, "tokenizer_hash": cfg.tokenizer_hash})
