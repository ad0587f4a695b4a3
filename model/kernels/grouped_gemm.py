"""Triton grouped FP8 GEMMs for MoE experts: one launch for all experts, tokens sorted by expert.

`grouped_gemm` (Fprop and Dgrad): rows of A (T, K) are sorted by group; group g's rows are
multiplied by B[g]ᵀ where B (E, N, K) is a stack of 128×128-block-quantised expert weights. The
grid runs over the group tile table (`groups.py`): each program finds its group from
`tile_group`, so no host sync and no per-expert launch. Spare tiles return at once.

`grouped_wgrad`: out[g] (N, K) = Σ over group g's tokens of dY[t]ᵀ X[t], from the transposed,
group-aligned 128×1 quantisation of both (`quant.grouped_quant_128x1`, whose tile-padded layout
gives every tile its own aligned, zero-padded 128 columns); one program per (group, N tile,
K tile) loops over the group's tiles without token masks (so the loads pipeline), promoting and
scaling every partial sum per tile exactly as in the dense GEMM. Empty groups write zeros.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from model.kernels.gemm import check_operands, interpreting, k_contiguous, launch, scaled_chunk
from model.kernels.groups import BLOCK, group_tiles


def grouped_config() -> dict:
    if interpreting():
        return {"BLOCK_N": 32, "num_warps": 4, "num_stages": 1}
    return {"BLOCK_N": 128, "num_warps": 8, "num_stages": 4}


def wgrad_config() -> dict:
    if interpreting():
        return {"BLOCK_M": 32, "BLOCK_N": 32, "num_warps": 4, "num_stages": 1}
    return {"BLOCK_M": 64, "BLOCK_N": 256, "num_warps": 8, "num_stages": 3}


def grouped_configs() -> list[triton.Config]:
    return [
        triton.Config({"BLOCK_N": bn}, num_warps=w, num_stages=s)
        for bn, w, s in [(128, 8, 4), (128, 8, 3), (64, 4, 4)]  # spill-free on sm_90 (see gemm.gemm_configs)
    ]


def wgrad_configs() -> list[triton.Config]:
    return [
        triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=w, num_stages=s)
        for bm, bn, w, s in [(64, 256, 8, 3), (64, 128, 4, 4), (128, 64, 4, 4)]  # spill-free on sm_90
    ]


@triton.jit
def _grouped_gemm_kernel(
    a_ptr, b_ptr, c_ptr, sa_ptr, sb_ptr, N, K,
    counts_ptr, row_start_ptr, tile_start_ptr, tile_group_ptr, n_groups,
    stride_am, stride_be, stride_bn, stride_cm, stride_sam, stride_sbe, stride_sbn,
    BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_N: tl.constexpr,
):
    pid_t = tl.program_id(0)
    pid_n = tl.program_id(1)
    g = tl.load(tile_group_ptr + pid_t)
    if g >= n_groups:
        return
    first_row = tl.load(row_start_ptr + g)
    m0 = first_row + (pid_t - tl.load(tile_start_ptr + g)) * BLOCK_M
    m_end = first_row + tl.load(counts_ptr + g)

    offs_m = m0 + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    mask_m = offs_m < m_end
    mask_n = offs_n < N
    a_ptrs = a_ptr + offs_m.to(tl.int64)[:, None] * stride_am + offs_k[None, :]
    b_ptrs = b_ptr + g.to(tl.int64) * stride_be + offs_n.to(tl.int64)[None, :] * stride_bn + offs_k[:, None]
    sa_ptrs = sa_ptr + offs_m * stride_sam
    sb_ptrs = sb_ptr + g * stride_sbe + (offs_n // BLOCK_K) * stride_sbn
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


@triton.jit
def _grouped_wgrad_kernel(
    a_ptr, b_ptr, c_ptr, sa_ptr, sb_ptr, N, K,
    counts_ptr, tile_start_ptr,
    stride_an, stride_bk, stride_ce, stride_cn, stride_san, stride_sbk,
    BLOCK_T: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):
    """out[g] tile (BLOCK_M rows of N, BLOCK_N rows of K), reducing over group g's token tiles.

    The operands are in the tile-padded layout of grouped_quant_128x1: whole, aligned 128-token
    tiles with zeros past the group's end, so the token loads need no masks.
    """
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    g = tl.program_id(2)
    n_tiles = tl.cdiv(tl.load(counts_ptr + g), BLOCK_T)
    first_tile = tl.load(tile_start_ptr + g)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_t = tl.arange(0, BLOCK_T)
    mask_m = offs_m < N
    mask_n = offs_n < K
    a_ptrs = a_ptr + offs_m.to(tl.int64)[:, None] * stride_an + (first_tile * BLOCK_T + offs_t)[None, :]
    b_ptrs = b_ptr + offs_n.to(tl.int64)[None, :] * stride_bk + (first_tile * BLOCK_T + offs_t)[:, None]
    sa_ptrs = sa_ptr + offs_m * stride_san + first_tile
    sb_ptrs = sb_ptr + offs_n * stride_sbk + first_tile
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for j in range(0, n_tiles):
        a = tl.load(a_ptrs, mask=mask_m[:, None], other=0.0)
        b = tl.load(b_ptrs, mask=mask_n[None, :], other=0.0)
        a_s = tl.load(sa_ptrs + j, mask=mask_m, other=0.0)
        b_s = tl.load(sb_ptrs + j, mask=mask_n, other=0.0)
        acc = scaled_chunk(acc, a, b, a_s, b_s)
        a_ptrs += BLOCK_T
        b_ptrs += BLOCK_T
    c_ptrs = c_ptr + g.to(tl.int64) * stride_ce + offs_m.to(tl.int64)[:, None] * stride_cn + offs_n[None, :]
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=mask_m[:, None] & mask_n[None, :])


_grouped_gemm_tuned = triton.autotune(configs=grouped_configs(), key=["N", "K", "BLOCK_M"])(_grouped_gemm_kernel)
_grouped_wgrad_tuned = triton.autotune(configs=wgrad_configs(), key=["N", "K"])(_grouped_wgrad_kernel)


def _block_m(rows: int, groups: int) -> int:
    """Row tile: 128 when experts get many tokens, 64 when most would be padding."""
    if interpreting():
        return 32
    return 128 if rows >= 128 * groups else 64


def grouped_gemm(a, sa, b, sb, counts, out_dtype=torch.float32, out=None):
    """out (T, N): rows of group g = A_g · B[g]ᵀ; b (E, N, K) FP8, sb (E, ceil(N/128), ceil(K/128))."""
    assert b.dim() == 3 and sb.dim() == 3 and counts.shape == (b.shape[0],)
    assert check_operands(a, sa, b[0], sb[0]) == BLOCK, "expert weights need 128×128 block scales"
    t, k = a.shape
    e, n, _ = b.shape
    if out is None:
        out = torch.empty(t, n, dtype=out_dtype, device=a.device)
    assert out.shape == (t, n) and k_contiguous(out)
    if t == 0 or n == 0:
        return out
    block_m = _block_m(t, e)
    tiles = group_tiles(counts.to(a.device), t, block_m)

    def grid(meta):
        return (tiles.max_tiles, triton.cdiv(n, meta["BLOCK_N"]))

    launch(
        _grouped_gemm_kernel, _grouped_gemm_tuned, t * n * k, grouped_config(), grid,
        a, b, out, sa, sb, n, k,
        tiles.counts, tiles.row_start, tiles.tile_start, tiles.tile_group, e,
        a.stride(0), b.stride(0), b.stride(1), out.stride(0), sa.stride(0), sb.stride(0), sb.stride(1),
        BLOCK_M=block_m, BLOCK_K=BLOCK,
    )
    return out


def grouped_wgrad(a_t, sa, b_t, sb, counts, out_dtype=torch.float32, out=None):
    """out (E, N, K): out[g] = Σ_{t in g} dY[t]ᵀ X[t] from a_t (N, tiles·128), b_t (K, tiles·128) of
    grouped_quant_128x1 (tile-padded layout)."""
    n, k = a_t.shape[0], b_t.shape[0]
    e = counts.shape[0]
    n_tiles = sa.shape[1]
    assert a_t.shape[1] == b_t.shape[1] == n_tiles * BLOCK and sb.shape == (k, n_tiles), "tile-padded operands"
    assert k_contiguous(a_t) and k_contiguous(b_t) and sa.shape == (n, n_tiles)
    tiles = group_tiles(counts.to(a_t.device), max_tiles=n_tiles)
    if out is None:
        out = torch.empty(e, n, k, dtype=out_dtype, device=a_t.device)
    assert out.shape == (e, n, k) and k_contiguous(out)
    if e == 0 or n == 0 or k == 0:
        return out

    def grid(meta):
        return (triton.cdiv(n, meta["BLOCK_M"]), triton.cdiv(k, meta["BLOCK_N"]), e)

    launch(
        _grouped_wgrad_kernel, _grouped_wgrad_tuned, n_tiles * BLOCK * n * k, wgrad_config(), grid,
        a_t, b_t, out, sa, sb, n, k, tiles.counts, tiles.tile_start,
        a_t.stride(0), b_t.stride(0), out.stride(0), out.stride(1), sa.stride(0), sb.stride(0),
        BLOCK_T=BLOCK,
    )
    return out
