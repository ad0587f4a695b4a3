"""Fine-grained FP8 GEMM kernels (DeepSeek-V3 recipe): Triton on the GPU, plain PyTorch as the oracle.

Two backends with the same functions (see `reference.py` for the conventions):

    ops = load_backend("triton")      # or "reference"
    xq, xs = ops.quant_1x128(x)       # activations, 1×128 tiles
    wq, ws = ops.quant_128x128(w)     # weights, 128×128 blocks
    y = ops.gemm(xq, xs, wq, ws, out_dtype=torch.bfloat16)   # x @ w.T

The Triton kernels also run on the CPU under TRITON_INTERPRET=1 (slowly; that is how CI tests them).
"""

from __future__ import annotations

from types import SimpleNamespace

OPS = ("quant_1x128", "quant_128x1", "quant_128x128", "quant_dual", "grouped_quant_128x1", "grouped_quant_dual",
       "gemm", "grouped_gemm", "grouped_wgrad")
BACKENDS = ("triton", "reference")


def load_backend(name: str) -> SimpleNamespace:
    """The kernel functions of one backend, imported on first use (Triton is slow to import)."""
    if name == "reference":
        from model.kernels import reference as mod

        return SimpleNamespace(name=name, **{op: getattr(mod, op) for op in OPS})
    if name == "triton":
        from model.kernels import gemm, grouped_gemm, quant

        fns = {op: getattr(m, op) for m in (quant, gemm, grouped_gemm) for op in OPS if hasattr(m, op)}
        return SimpleNamespace(name=name, **fns)
    raise ValueError(f"unknown FP8 backend {name!r}; choose one of {', '.join(BACKENDS)}")
