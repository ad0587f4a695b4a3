"""Data parallelism: the process group, DDP or FSDP2 around the model, and its state dicts.

Under torchrun each process is one data-parallel rank (NCCL on GPUs, gloo on CPUs). DDP keeps a
full replica per rank; FSDP2 (`fully_shard`) shards parameters, gradients and optimizer state.
State dicts are keyed by parameter name either way (torch.distributed.checkpoint.state_dict), so a
checkpoint does not care how it was trained. Expert parallelism would add a second mesh dimension
for the MoE experts; nothing here assumes there is only one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass
class Parallel:
    """Who this process is among the data-parallel ranks."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False  # this run created the process group, so it tears it down

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.distributed:
            torch.distributed.barrier()

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            torch.distributed.all_reduce(t)
        return t


def setup_distributed(device_kind: str) -> Parallel:
    """This process's rank from torchrun's environment; joins (or creates) the process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Parallel()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    owns = not torch.distributed.is_initialized()
    if owns:
        backend = "nccl" if device_kind == "cuda" else "gloo"
        if device_kind == "cuda":
            torch.cuda.set_device(local_rank)
        torch.distributed.init_process_group(backend=backend)
    return Parallel(rank=rank, world=world, local_rank=local_rank, owns_group=owns)


def wrap_model(cfg, model, parallel, device):
    """DDP or FSDP2 around the model; returns (wrapped, how)."""
    if not parallel.distributed:
        return model, "none"
    if cfg.distributed == "fsdp":
        from torch.distributed.fsdp import fully_shard

        # One FSDP unit per block; the root unit holds embedding, head and the MTP modules, whose
        # parameters the model also uses outside their forward (the shared head and norms).
        for block in model.layers:
            fully_shard(block)
        fully_shard(model)
        return model, "fsdp"
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    return DDP(model, device_ids=ids), "ddp"


def full_state_dicts(model, optimizer, wrapper: str):
    """Full (unsharded) model and optimizer state dicts keyed by parameter name, on CPU."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    opts = StateDictOptions(full_state_dict=True, cpu_offload=wrapper == "fsdp" or
                            any(p.is_cuda for p in model.parameters()))
    return get_model_state_dict(model, options=opts), get_optimizer_state_dict(model, optimizer, options=opts)


def sharded_state(model, optimizer) -> dict:
    """Model and optimizer state as this rank holds them (DTensor shards under FSDP2)."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_optimizer_state_dict

    return {"model": get_model_state_dict(model), "optimizer": get_optimizer_state_dict(model, optimizer)}


def load_state_dicts(model, optimizer, ckpt: dict) -> None:
    """Restore a checkpoint read by `train.checkpoint.load_checkpoint` into (wrapped) model and optimizer."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        set_model_state_dict,
        set_optimizer_state_dict,
    )

    if ckpt["sharded"]:
        from train.checkpoint import _dcp

        # Each rank reads the pieces of its own shards (DCP reshards if the world size changed).
        state = sharded_state(model, optimizer)
        _dcp().load(state, checkpoint_id=ckpt["sharded"])
        set_model_state_dict(model, state["model"])
        set_optimizer_state_dict(model, optimizer, state["optimizer"])
        return
    opts = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, ckpt["model"], options=opts)
    set_optimizer_state_dict(model, optimizer, ckpt["optimizer"], options=opts)


def agree(flag: bool, parallel) -> bool:
    """Every rank stops at the same step if any was asked to."""
    if not parallel.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    if torch.distributed.get_backend() == "nccl":
        t = t.cuda()
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return bool(t.item())
