"""Data parallelism: who this process is among the ranks, its device, and DDP or FSDP2 around the model.

Under torchrun each process is one data-parallel rank (NCCL on GPUs, gloo on CPUs). DDP keeps a
full replica per rank; FSDP2 (`fully_shard`) shards parameters, gradients and optimizer state.
`Parallel.data_parallel` names which of the two wraps the model: "none" in a single process, else
"ddp" or "fsdp". Expert parallelism would add a second mesh dimension for the MoE experts; nothing
here assumes there is only one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from deepcorpus.core.errors import UserError


@dataclass
class Parallel:
    """Who this process is among the data-parallel ranks, and the device it computes on."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    data_parallel: str = "none"  # what wraps the model: "none", "ddp" or "fsdp"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
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

    def shutdown(self) -> None:
        """Wait for every rank, then leave the process group if this run made it."""
        if self.distributed:
            torch.distributed.barrier()
            if self.owns_group:
                torch.distributed.destroy_process_group()


def build_parallel(cfg) -> Parallel:
    """This process's rank from torchrun's environment (joining or creating the process group), the
    wrapper `cfg.distributed` asks for, and the device `cfg.device` asks for."""
    use_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise UserError("--device cuda, but no CUDA GPU is visible")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        parallel = Parallel(device=torch.device("cuda", 0) if use_cuda else torch.device("cpu"))
    else:
        rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
        owns = not torch.distributed.is_initialized()
        if owns:
            if use_cuda:
                torch.cuda.set_device(local_rank)
            torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")
        parallel = Parallel(rank=rank, world=world, local_rank=local_rank, owns_group=owns,
                            data_parallel="fsdp" if cfg.distributed == "fsdp" else "ddp",
                            device=torch.device("cuda", local_rank) if use_cuda else torch.device("cpu"))
    _set_cpu_threads(cfg, parallel)
    return parallel


def _set_cpu_threads(cfg, parallel: Parallel) -> None:
    """Small models gain little from many intra-op threads and lose a lot when the cores are shared
    (threads spin at every op's barrier), so by default a rank takes half the cores it is due."""
    if parallel.device.type != "cpu":
        return
    if cfg.cpu_threads:
        torch.set_num_threads(cfg.cpu_threads)
    elif "OMP_NUM_THREADS" not in os.environ:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", parallel.world))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // (2 * local)))


def wrap_model(model: torch.nn.Module, parallel: Parallel) -> torch.nn.Module:
    """`model` under the wrapper `parallel.data_parallel` names (FSDP2 shards it in place)."""
    if parallel.data_parallel == "fsdp":
        from torch.distributed.fsdp import fully_shard

        # One FSDP unit per block; the root unit holds embedding, head and the MTP modules, whose
        # parameters the model also uses outside their forward (the shared head and norms).
        for block in model.layers:
            fully_shard(block)
        fully_shard(model)
        return model
    if parallel.data_parallel == "ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP

        device = parallel.device
        return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    return model


def agree(flag: bool, parallel: Parallel) -> bool:
    """Every rank stops at the same step if any was asked to."""
    if not parallel.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    if torch.distributed.get_backend() == "nccl":
        t = t.cuda()
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return bool(t.item())
