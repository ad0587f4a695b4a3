"""FP8 training path: `FP8Linear`, the FP8 grouped matmul for MoE experts, and `convert_to_fp8`.

All three GEMMs of a linear layer run in FP8 (E4M3) with fine-grained scales (DeepSeek-V3 §3.3):

    Fprop  y  = x · Wᵀ      x 1×128 tiles,  W 128×128 blocks
    Dgrad  dx = dy · W      dy 1×128 tiles, Wᵀ 128×128 blocks (the same FP8 copy, transposed)
    Wgrad  dW = dyᵀ · x     dy and x in 128×1 tiles (transposed quantisation, along tokens)

Master weights and their gradients stay in the parameter's dtype (FP32 or BF16); the activation is
saved for backward in FP8 (already quantised 128×1 for Wgrad), not in high precision. Embedding,
output head, MoE gate, norms and the attention core are left alone, as in DeepSeek-V3.

    ok, why = fp8_available()                 # Hopper/Ada GPU + Triton?
    convert_to_fp8(model, backend="triton")   # or "reference" (PyTorch, runs anywhere)
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from model.kernels import BACKENDS, load_backend

log = logging.getLogger(__name__)

MIN_CAPABILITY = (8, 9)  # Ada (sm_89) and Hopper (sm_90) have FP8 tensor cores


def fp8_available() -> tuple[bool, str]:
    """(True, device) when the Triton FP8 kernels can run fast here, else (False, why not)."""
    if not torch.cuda.is_available():
        return False, ("no CUDA GPU: FP8 training needs an NVIDIA Hopper or Ada GPU "
                       "(use the 'reference' FP8 backend to run the PyTorch reference on the CPU)")
    try:
        import triton  # noqa: F401
    except ImportError:
        return False, "Triton is not installed (pip install triton)"
    major, minor = torch.cuda.get_device_capability()
    name = torch.cuda.get_device_name()
    if (major, minor) < MIN_CAPABILITY:
        return False, f"{name} (sm_{major}{minor}) has no FP8 tensor cores; FP8 needs sm_89 or newer"
    return True, f"{name} (sm_{major}{minor})"


class _FP8LinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, ops, out_dtype, need_wgrad):
        x2 = x.reshape(-1, x.shape[-1])  # (M, K)
        xtq = xts = None
        if need_wgrad:  # x is also needed 128×1 for Wgrad: saved in FP8 instead of x
            (xq, xs), (xtq, xts) = ops.quant_dual(x2)
        else:
            xq, xs = ops.quant_1x128(x2)
        wq, ws = ops.quant_128x128(weight)
        y = ops.gemm(xq, xs, wq, ws, out_dtype=out_dtype)  # (M, N)
        ctx.save_for_backward(xtq, xts, wq, ws)
        ctx.ops, ctx.x_shape, ctx.x_dtype, ctx.w_dtype = ops, x.shape, x.dtype, weight.dtype
        return y.view(*x.shape[:-1], y.shape[-1])

    @staticmethod
    def backward(ctx, dy):
        xtq, xts, wq, ws = ctx.saved_tensors
        ops = ctx.ops
        dy2 = dy.reshape(-1, dy.shape[-1])  # (M, N)
        want_dx, want_dw = ctx.needs_input_grad[:2]
        dx = dw = None
        if want_dx and want_dw:
            (dyq, dys), (dytq, dyts) = ops.quant_dual(dy2)
        elif want_dx:
            dyq, dys = ops.quant_1x128(dy2)
        elif want_dw:
            dytq, dyts = ops.quant_128x1(dy2)
        if want_dx:
            # 128×128 blocks are the same blocks of Wᵀ: transpose the FP8 copy, no requantisation.
            dx = ops.gemm(dyq, dys, wq.t().contiguous(), ws.t().contiguous(), out_dtype=ctx.x_dtype)
            dx = dx.view(ctx.x_shape)
        if want_dw:  # dytq (N, M) · xtq (K, M)ᵀ
            dw = ops.gemm(dytq, dyts, xtq, xts, out_dtype=torch.float32).to(ctx.w_dtype)
        return dx, dw, None, None, None


def _output_dtype(x: torch.Tensor) -> torch.dtype:
    """Under autocast (the trainer's BF16 mode) a linear layer returns the autocast dtype, as nn.Linear does."""
    kind = x.device.type
    if kind in ("cuda", "cpu") and torch.is_autocast_enabled(kind):
        return torch.get_autocast_dtype(kind)
    return x.dtype


@torch.compiler.disable  # host-side quantisation and kernel launches: keep them out of Dynamo graphs
def _apply(fn, *args):
    # The kernels pick their own precisions; autocast must not turn the reference's FP32 matmuls into BF16.
    with torch.autocast(args[0].device.type, enabled=False):
        return fn.apply(*args)


def _kernels(backend: str, x: torch.Tensor):
    """The backend's kernel functions, after checking Triton can run on x's device."""
    if backend == "triton" and x.device.type != "cuda" and os.environ.get("TRITON_INTERPRET", "0") in ("", "0"):
        raise RuntimeError(f"the Triton FP8 kernels need CUDA tensors, got {x.device.type} "
                           "(use the 'reference' backend, or TRITON_INTERPRET=1 to run Triton on the CPU)")
    return load_backend(backend)


def fp8_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
               backend: str = "triton") -> torch.Tensor:
    """F.linear with all three GEMMs in FP8; the bias is added in the output's precision."""
    need_wgrad = torch.is_grad_enabled() and weight.requires_grad  # no transposed copy for inference
    y = _apply(_FP8LinearFn, x, weight, _kernels(backend, x), _output_dtype(x), need_wgrad)
    return y if bias is None else y + bias.to(y.dtype)


class FP8Linear(nn.Linear):
    """An nn.Linear whose forward and backward GEMMs run in FP8 (same parameters, same state_dict)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, backend: str = "triton",
                 device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.backend = _checked(backend)

    @classmethod
    def from_linear(cls, linear: nn.Linear, backend: str = "triton") -> FP8Linear:
        """Wrap an existing layer, keeping its Parameter objects (optimizer state stays valid)."""
        new = cls.__new__(cls)
        nn.Module.__init__(new)
        new.in_features, new.out_features = linear.in_features, linear.out_features
        new.weight = linear.weight
        new.bias = linear.bias
        new.backend = _checked(backend)
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "meta":  # shape inference (parameter counting) needs no kernels
            return F.linear(x, self.weight, self.bias)
        return fp8_linear(x, self.weight, self.bias, self.backend)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, fp8_backend={self.backend}"


class _FP8GroupedMMFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, counts, ops, out_dtype, need_wgrad):
        xtq = xts = None
        if need_wgrad:
            (xq, xs), (xtq, xts) = ops.grouped_quant_dual(x, counts)
        else:
            xq, xs = ops.quant_1x128(x)
        wq, ws = ops.quant_128x128(w)  # (E, N, K), (E, Nb, Kb)
        y = ops.grouped_gemm(xq, xs, wq, ws, counts, out_dtype=out_dtype)
        ctx.save_for_backward(xtq, xts, wq, ws, counts)
        ctx.ops, ctx.x_dtype, ctx.w_dtype = ops, x.dtype, w.dtype
        return y

    @staticmethod
    def backward(ctx, dy):
        xtq, xts, wq, ws, counts = ctx.saved_tensors
        ops = ctx.ops
        want_dx, want_dw = ctx.needs_input_grad[:2]
        dx = dw = None
        if want_dx and want_dw:
            (dyq, dys), (dytq, dyts) = ops.grouped_quant_dual(dy, counts)
        elif want_dx:
            dyq, dys = ops.quant_1x128(dy)
        elif want_dw:
            dytq, dyts = ops.grouped_quant_128x1(dy, counts)
        if want_dx:
            wtq, wts = wq.transpose(1, 2).contiguous(), ws.transpose(1, 2).contiguous()
            dx = ops.grouped_gemm(dyq, dys, wtq, wts, counts, out_dtype=ctx.x_dtype)
        if want_dw:
            dw = ops.grouped_wgrad(dytq, dyts, xtq, xts, counts, out_dtype=torch.float32).to(ctx.w_dtype)
        return dx, dw, None, None, None, None


class FP8GroupedMM:
    """Drop-in for `Experts.grouped_mm(x_sorted (N, in), w (E, out, in), counts (E,)) -> (N, out)`."""

    def __init__(self, backend: str = "triton"):
        self.backend = _checked(backend)

    def __call__(self, x: torch.Tensor, w: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        if x.device.type == "meta":
            return x.new_empty(x.shape[0], w.shape[1])
        need_wgrad = torch.is_grad_enabled() and w.requires_grad
        return _apply(_FP8GroupedMMFn, x, w, counts, _kernels(self.backend, x), _output_dtype(x), need_wgrad)

    def __repr__(self) -> str:
        return f"FP8GroupedMM(backend={self.backend!r})"


def _checked(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown FP8 backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend


def _keeps_precision(name: str, parents: list[nn.Module]) -> bool:
    """Layers DeepSeek-V3 keeps in BF16/FP32: the output head and anything inside the MoE gate."""
    return name == "head" or any(type(p).__name__ == "Gate" for p in parents)


def convert_to_fp8(model: nn.Module, backend: str = "triton", exclude: Iterable[str] = ()) -> nn.Module:
    """Swap eligible nn.Linear layers for FP8Linear and MoE experts' grouped_mm for FP8GroupedMM, in place.

    `exclude`: fnmatch patterns of module names to keep in high precision as well (e.g. "mtp.*",
    "*.attn.wkv_b"). Parameters are kept (the same objects), so this can run before or after
    building the optimizer, and state_dict keys do not change.
    """
    _checked(backend)
    patterns = list(exclude)
    linears = experts = 0

    def excluded(qualname: str) -> bool:
        return any(fnmatch.fnmatchcase(qualname, p) for p in patterns)

    def visit(module: nn.Module, prefix: str, parents: list[nn.Module]) -> None:
        nonlocal linears, experts
        gmm = getattr(module, "grouped_mm", None)
        if callable(gmm) and not isinstance(gmm, FP8GroupedMM) and not excluded(prefix):
            module.grouped_mm = FP8GroupedMM(backend)
            experts += 1
        for name, child in module.named_children():
            qualname = f"{prefix}.{name}" if prefix else name
            if type(child) is nn.Linear and not _keeps_precision(name, [*parents, module]) and not excluded(qualname):
                setattr(module, name, FP8Linear.from_linear(child, backend))
                linears += 1
            else:
                visit(child, qualname, [*parents, module])

    visit(model, "", [])
    log.info("FP8 (%s backend): %d linear layers and %d expert groups converted", backend, linears, experts)
    return model
