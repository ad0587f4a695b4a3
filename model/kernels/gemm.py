"""Triton FP8 × FP8 GEMM with fine-grained scales applied in the kernel: C = A · Bᵀ.

A (M, K) is FP8 with one scale per row per 128 columns (1×128). B (N, K) is FP8 with either one
scale per 128×128 block (a weight: Fprop, Dgrad) or one per row per 128 columns (an activation
gradient or activation quantised 128×1: Wgrad). The K loop steps 128 at a time; each chunk's
`tl.dot` (tensor cores, FP32 result) is scaled by both operands' scales and added to an FP32
accumulator: DeepSeek-V3's promotion of partial sums every 128 elements of K. (Hopper's FP8 wgmma
accumulates inside a chunk with reduced precision, which Triton allows by default for FP8; the
per-chunk promotion is what bounds that error, as on DeepSeek's H800s.) The output is FP32 or BF16.

Both operands must have K contiguous (FP8 wgmma on Hopper reads K-major tiles), which is why the
Dgrad path transposes the FP8 weight copy instead of passing a strided view.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

from model.kernels.groups import BLOCK
from model.kernels.reference import cdiv


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


# Problems at least this large (M·N·K) are autotuned; smaller ones take `fixed_config` at once, so a
# model with many small layer shapes does not spend minutes compiling candidates at its first step.
AUTOTUNE_MIN_WORK = 2**33
INTERPRETER_CONFIG = {"BLOCK_M": 32, "BLOCK_N": 32, "GROUP_M": 4, "num_warps": 4, "num_stages": 1}


def fixed_config(m: int, b_scale_rows: int = BLOCK) -> dict:
    """Meta-parameters without tuning: the interpreter's small tiles, or a sound H100 default."""
    if interpreting():  # the interpreter runs every program in numpy: one small config
        return dict(INTERPRETER_CONFIG)
    if b_scale_rows == 1:  # Wgrad: a scale per row of B; 128×128 with 8 warps would spill 16 bytes
        return {"BLOCK_M": 64, "BLOCK_N": 256, "GROUP_M": 8, "num_warps": 8, "num_stages": 3}
    if m <= 64:
        return {"BLOCK_M": 64, "BLOCK_N": 128, "GROUP_M": 8, "num_warps": 4, "num_stages": 4}
    return {"BLOCK_M": 128, "BLOCK_N": 128, "GROUP_M": 8, "num_warps": 8, "num_stages": 4}


def gemm_configs() -> list[triton.Config]:
    """Block shapes tried on the GPU (H100: 128-wide K chunks, deep pipelines for FP8)."""
    # (BLOCK_M, BLOCK_N, num_warps, num_stages): few enough that autotuning each new (N, K) stays quick,
    # and none spills registers on sm_90 (ptxas -v; 128×256 and 128×128 with 4 warps do: the FP32
    # accumulator and the chunk's dot result are both live). `python -m model.kernels.compile_check
    # --all-configs` rechecks them.
    shapes = [(128, 128, 8, 4), (128, 128, 8, 3), (64, 256, 8, 3), (256, 64, 8, 4), (64, 128, 4, 4), (128, 64, 4, 4)]
    return [
        triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "GROUP_M": 8}, num_warps=w, num_stages=s)
        for bm, bn, w, s in shapes
    ]


@triton.jit
def scaled_chunk(acc, a, b, a_s, b_s):
    """acc + (A_chunk · B_chunkᵀ) · s_a · s_b: one 128-wide K chunk promoted to FP32."""
    return acc + tl.dot(a, b) * a_s[:, None] * b_s[None, :]


@triton.jit
def _gemm_kernel(
    a_ptr, b_ptr, c_ptr, sa_ptr, sb_ptr, M, N, K,
    stride_am, stride_bn, stride_cm, stride_sam, stride_sbn,
    B_SCALE_ROWS: tl.constexpr, BLOCK_K: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr,
):
    # Program order walks GROUP_M row tiles per column tile so A and B tiles stay in L2.
    pid = tl.program_id(0)
    n_m = tl.cdiv(M, BLOCK_M)
    n_n = tl.cdiv(N, BLOCK_N)
    per_group = GROUP_M * n_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = tl.minimum(n_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % group_rows
    pid_n = (pid % per_group) // group_rows

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    mask_m = offs_m < M
    mask_n = offs_n < N
    a_ptrs = a_ptr + offs_m.to(tl.int64)[:, None] * stride_am + offs_k[None, :]
    b_ptrs = b_ptr + offs_n.to(tl.int64)[None, :] * stride_bn + offs_k[:, None]  # (BLOCK_K, BLOCK_N), K-major
    sa_ptrs = sa_ptr + offs_m * stride_sam
    sb_ptrs = sb_ptr + (offs_n // B_SCALE_ROWS) * stride_sbn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for kb in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - kb * BLOCK_K
        a = tl.load(a_ptrs, mask=mask_m[:, None] & (offs_k[None, :] < k_left), other=0.0)
        b = tl.load(b_ptrs, mask=mask_n[None, :] & (offs_k[:, None] < k_left), other=0.0)
        a_s = tl.load(sa_ptrs + kb, mask=mask_m, other=0.0)
        b_s = tl.load(sb_ptrs + kb, mask=mask_n, other=0.0)
        acc = scaled_chunk(acc, a, b, a_s, b_s)
        a_ptrs += BLOCK_K
        b_ptrs += BLOCK_K
    c_ptrs = c_ptr + offs_m.to(tl.int64)[:, None] * stride_cm + offs_n[None, :]
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=mask_m[:, None] & mask_n[None, :])


_gemm_kernel_tuned = triton.autotune(configs=gemm_configs(), key=["N", "K", "B_SCALE_ROWS"])(_gemm_kernel)


def launch(kernel, tuned, work: int, config: dict, grid, *args, **meta) -> None:
    """Run `tuned` (autotuned) on problems of at least AUTOTUNE_MIN_WORK, else `kernel` with `config`."""
    if work >= AUTOTUNE_MIN_WORK and not interpreting():
        tuned[grid](*args, **meta)
        return
    kernel[grid(config)](*args, **meta, **config)


def k_contiguous(t: torch.Tensor) -> bool:
    """The last dimension is contiguous (a size-1 last dimension counts, whatever its stride)."""
    return t.shape[-1] <= 1 or t.stride(-1) == 1


def check_operands(a: torch.Tensor, sa: torch.Tensor, b: torch.Tensor, sb: torch.Tensor) -> int:
    """Validate shapes and layouts; returns B_SCALE_ROWS (1: per-row scales, 128: block scales)."""
    m, k = a.shape
    n = b.shape[-2]
    assert b.shape[-1] == k, f"K mismatch: A {tuple(a.shape)} vs B {tuple(b.shape)}"
    assert k_contiguous(a) and k_contiguous(b), "FP8 operands must be contiguous along K"
    assert sa.shape == (m, cdiv(k, BLOCK)) and k_contiguous(sa), f"A scales {tuple(sa.shape)}"
    assert sb.shape[-1] == cdiv(k, BLOCK) and k_contiguous(sb), f"B scales {tuple(sb.shape)}"
    if sb.shape[-2] == n:
        return 1
    assert sb.shape[-2] == cdiv(n, BLOCK), f"B scales {tuple(sb.shape)} fit neither rows nor blocks of {n}"
    return BLOCK


def gemm(a, sa, b, sb, out_dtype=torch.float32, out=None):
    """C (M, N) = A · Bᵀ from FP8 operands and their FP32 scales (see module docstring)."""
    b_rows = check_operands(a, sa, b, sb)
    m, k = a.shape
    n = b.shape[0]
    if out is None:
        out = torch.empty(m, n, dtype=out_dtype, device=a.device)
    assert out.shape == (m, n) and k_contiguous(out)
    if m == 0 or n == 0:
        return out
    if k == 0:
        return out.zero_()

    def grid(meta):
        return (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)

    launch(
        _gemm_kernel, _gemm_kernel_tuned, m * n * k, fixed_config(m, b_rows), grid,
        a, b, out, sa, sb, m, n, k, a.stride(0), b.stride(0), out.stride(0), sa.stride(0), sb.stride(0),
        B_SCALE_ROWS=b_rows, BLOCK_K=BLOCK,
    )
    return out
