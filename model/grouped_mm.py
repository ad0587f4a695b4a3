"""Grouped matrix multiply for MoE experts: rows sorted by expert, one weight matrix per expert.

    grouped_mm(x_sorted (N, in), w (E, out, in), counts (E,) int) -> (N, out)
    rows [offs[e-1], offs[e]) of x_sorted are multiplied by w[e].T

`default_grouped_mm` uses `torch._grouped_mm` (one kernel for all experts, forward and backward, no
host sync) where this build supports the device/dtype (probed once, cached; bf16 only under
torch.compile), else `padded_bmm`: scatter
the rows into an (E, max_count, in) buffer and run one `torch.bmm` — still no Python loop over experts,
but one host sync for max_count and wasted work when the load is skewed. `looped_mm` is the per-expert
Python loop kept only as the test oracle and the benchmark's baseline.
"""

from __future__ import annotations

import functools
import threading

import torch


def _row_positions(counts: torch.Tensor, n_rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For sorted rows: the expert of each row and its index within that expert's block."""
    expert = torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts, output_size=n_rows)
    starts = torch.cumsum(counts, 0) - counts
    return expert, torch.arange(n_rows, device=counts.device) - starts[expert]


def padded_bmm(x: torch.Tensor, w: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    E, out_dim, _ = w.shape
    n = x.shape[0]
    if n == 0:
        return x.new_zeros(0, out_dim)
    expert, pos = _row_positions(counts, n)
    capacity = int(counts.max())  # the one host sync of this path
    padded = x.new_zeros(E, capacity, x.shape[1])
    padded = padded.index_put((expert, pos), x)  # out-of-place, so autograd flows to x
    return torch.bmm(padded, w.transpose(1, 2))[expert, pos]  # (E, cap, out) -> (N, out)


def looped_mm(x: torch.Tensor, w: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Reference only: one matmul per expert in a Python loop."""
    outs, start = [], 0
    for e, c in enumerate(counts.tolist()):
        outs.append(x[start : start + c] @ w[e].T)
        start += c
    return torch.cat(outs) if outs else x.new_zeros(0, w.shape[1])


def torch_grouped_mm(x: torch.Tensor, w: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    offs = torch.cumsum(counts, 0, dtype=torch.int32)
    return torch._grouped_mm(x, w.transpose(-2, -1), offs=offs)


@functools.cache
def _grouped_mm_works(device_type: str, device_index: int | None, dtype: torch.dtype, k: int, n: int) -> bool:
    """Does torch._grouped_mm run forward and backward here for this dtype and these row lengths?"""
    if not hasattr(torch, "_grouped_mm"):
        return False
    device = torch.device(device_type, device_index) if device_index is not None else torch.device(device_type)
    result = []

    def probe() -> None:
        try:
            x = torch.randn(8, k, device=device, dtype=dtype, requires_grad=True)
            w = torch.randn(2, n, k, device=device, dtype=dtype, requires_grad=True)
            y = torch_grouped_mm(x, w, torch.tensor([3, 5], device=device))
            y.backward(torch.randn_like(y))
            result.append(True)
        except (RuntimeError, NotImplementedError, TypeError):
            result.append(False)

    # The first call can come from inside an activation-checkpointed forward, whose saved-tensor hooks
    # would record the probe's tensors too (and then see fewer on recompute); those hooks and grad mode
    # are thread-local, so a thread of its own keeps the probe out of the model's autograd graph.
    thread = threading.Thread(target=probe, name="grouped-mm-probe")
    thread.start()
    thread.join()
    return bool(result and result[0])


def _use_torch_grouped_mm(x: torch.Tensor, w: torch.Tensor) -> bool:
    if x.device.type == "meta" or x.dtype != w.dtype:
        return False
    if torch.compiler.is_compiling():
        # The traced (fake-tensor) kernel accepts bf16 only, whatever eager CPU accepts; no probing here.
        return x.dtype == torch.bfloat16 and hasattr(torch, "_grouped_mm")
    return _grouped_mm_works(x.device.type, x.device.index, x.dtype, w.shape[2], w.shape[1])


def default_grouped_mm(x: torch.Tensor, w: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    if torch.is_autocast_enabled(x.device.type):
        # Autocast does not cover these ops: cast as it would for a matmul, so bf16 training runs the
        # experts in bf16 (and on the grouped kernel) rather than in float32.
        dtype = torch.get_autocast_dtype(x.device.type)
        x, w = x.to(dtype), w.to(dtype)
    if _use_torch_grouped_mm(x, w):
        return torch_grouped_mm(x, w, counts)
    return padded_bmm(x, w, counts)
