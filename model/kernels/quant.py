"""Triton kernels that quantise to E4M3 with fine-grained FP32 scales (1×128, 128×1, 128×128).

Each program loads a tile in FP32, takes its max |x|, sets scale = amax / 448 and rounds x / scale to
the E4M3 grid itself (`_round_e4m3`) before the cast. Rounding in FP32 arithmetic makes the final
cast exact, so the result is the same on a GPU and in Triton's CPU interpreter, whose own
FP32→FP8 conversion rounds half away from zero and mishandles mantissa carries (checked in
tests/kernels/test_rounding.py). Outputs match `reference.py` bit for bit. `quant_dual` produces the
1×128 and the transposed 128×1 quantisation of one tensor from a single read of it.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from model.kernels.groups import BLOCK, group_tiles
from model.kernels.reference import AMAX_FLOOR, FP8, FP8_MAX, cdiv


@triton.jit
def _round_e4m3(y):
    """FP32 -> FP32 on the E4M3 grid: saturate at ±448, round to nearest, ties to even."""
    y = tl.minimum(tl.maximum(y, -448.0), 448.0)
    mag = tl.abs(y)
    # Adding 2^(e+20) to a number in [2^e, 2^(e+1)) leaves 3 mantissa bits, and FP32 addition rounds
    # to nearest even. Below E4M3's smallest normal (2^-6) the step stays 2^-9 (subnormals).
    exponent = tl.maximum(mag.to(tl.int32, bitcast=True) >> 23, 127 - 6)
    magic = ((exponent + 20) << 23).to(tl.float32, bitcast=True)
    rounded = (mag + magic) - magic
    sign = y.to(tl.int32, bitcast=True) & -2147483648  # keep the sign bit (so -0.0 stays -0.0)
    return (rounded.to(tl.int32, bitcast=True) | sign).to(tl.float32, bitcast=True)


@triton.jit
def _quant_1x128_kernel(
    x_ptr, q_ptr, s_ptr, M, K,
    stride_xm, stride_xk, stride_qm, stride_sm,
    AMAX_MIN: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr,
):
    pid_m = tl.program_id(0)
    pid_k = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_k = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    mask = (offs_m[:, None] < M) & (offs_k[None, :] < K)
    x = tl.load(x_ptr + offs_m.to(tl.int64)[:, None] * stride_xm + offs_k[None, :] * stride_xk, mask=mask, other=0.0)
    x = x.to(tl.float32)
    amax = tl.maximum(tl.max(tl.abs(x), axis=1), AMAX_MIN)
    s = tl.math.div_rn(amax, 448.0)  # (BLOCK_M,)
    q = _round_e4m3(tl.math.div_rn(x, s[:, None]))
    tl.store(q_ptr + offs_m.to(tl.int64)[:, None] * stride_qm + offs_k[None, :], q.to(q_ptr.dtype.element_ty), mask=mask)
    tl.store(s_ptr + offs_m * stride_sm + pid_k, s, mask=offs_m < M)


@triton.jit
def _quant_128x1_kernel(
    x_ptr, q_ptr, s_ptr, qr_ptr, sr_ptr, M, K,
    counts_ptr, row_start_ptr, tile_start_ptr, tile_group_ptr, n_groups,
    stride_xm, stride_xk, stride_qk, stride_sk, stride_qrm, stride_srm,
    GROUPED: tl.constexpr, ALSO_ROWS: tl.constexpr, AMAX_MIN: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr,
):
    """Tiles of BLOCK_M tokens × 1 channel, written transposed: q (K, M), s (K, tiles).

    GROUPED: tile t holds rows of one group only (see groups.py) and is written to columns
    [t·BLOCK_M, (t+1)·BLOCK_M) of q (K, tiles·BLOCK_M), zero-padded past the group's last row, so
    Wgrad reads whole aligned tiles without masks. Spare tiles are written as empty tiles.
    With ALSO_ROWS (and BLOCK_K = 128) the same loaded tile is also quantised 1×128 into qr (M, K),
    sr (M, K/128): one read of x for both the Fprop/Dgrad and the Wgrad operand.
    """
    pid_t = tl.program_id(0)
    pid_k = tl.program_id(1)
    if GROUPED:
        g = tl.load(tile_group_ptr + pid_t)
        used = g < n_groups
        g = tl.minimum(g, n_groups - 1)
        first_row = tl.load(row_start_ptr + g)
        m0 = first_row + (pid_t - tl.load(tile_start_ptr + g)) * BLOCK_M
        m_end = tl.where(used, first_row + tl.load(counts_ptr + g), 0)
        q_cols = pid_t * BLOCK_M + tl.arange(0, BLOCK_M)
        q_col_mask = q_cols >= 0  # every column of the tile's slot, padding included
    else:
        m0 = pid_t * BLOCK_M
        m_end = M
        q_cols = m0 + tl.arange(0, BLOCK_M)
        q_col_mask = q_cols < M
    offs_m = m0 + tl.arange(0, BLOCK_M)
    offs_k = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    mask = (offs_m[:, None] < m_end) & (offs_k[None, :] < K)
    x = tl.load(x_ptr + offs_m.to(tl.int64)[:, None] * stride_xm + offs_k[None, :] * stride_xk, mask=mask, other=0.0)
    x = x.to(tl.float32)
    amax = tl.maximum(tl.max(tl.abs(x), axis=0), AMAX_MIN)  # (BLOCK_K,): one scale per channel
    s = tl.math.div_rn(amax, 448.0)
    q = tl.trans(_round_e4m3(tl.math.div_rn(x, s[None, :])))  # (BLOCK_K, BLOCK_M), tokens contiguous
    q_ptrs = q_ptr + offs_k.to(tl.int64)[:, None] * stride_qk + q_cols[None, :]
    tl.store(q_ptrs, q.to(q_ptr.dtype.element_ty), mask=(offs_k[:, None] < K) & q_col_mask[None, :])
    tl.store(s_ptr + offs_k * stride_sk + pid_t, s, mask=offs_k < K)
    if ALSO_ROWS:
        amax_r = tl.maximum(tl.max(tl.abs(x), axis=1), AMAX_MIN)  # (BLOCK_M,): one scale per token
        s_r = tl.math.div_rn(amax_r, 448.0)
        q_r = _round_e4m3(tl.math.div_rn(x, s_r[:, None]))
        qr_ptrs = qr_ptr + offs_m.to(tl.int64)[:, None] * stride_qrm + offs_k[None, :]
        tl.store(qr_ptrs, q_r.to(qr_ptr.dtype.element_ty), mask=mask)
        tl.store(sr_ptr + offs_m * stride_srm + pid_k, s_r, mask=offs_m < m_end)


@triton.jit
def _quant_128x128_kernel(
    w_ptr, q_ptr, s_ptr, N, K,
    stride_we, stride_wn, stride_wk, stride_qe, stride_qn, stride_se, stride_sn,
    AMAX_MIN: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):
    pid_n = tl.program_id(0)
    pid_k = tl.program_id(1)
    pid_e = tl.program_id(2)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    mask = (offs_n[:, None] < N) & (offs_k[None, :] < K)
    w_ptrs = w_ptr + pid_e.to(tl.int64) * stride_we + offs_n.to(tl.int64)[:, None] * stride_wn + offs_k[None, :] * stride_wk
    w = tl.load(w_ptrs, mask=mask, other=0.0).to(tl.float32)
    amax = tl.maximum(tl.max(tl.abs(w)), AMAX_MIN)
    s = tl.math.div_rn(amax, 448.0)
    q = _round_e4m3(tl.math.div_rn(w, s))
    q_ptrs = q_ptr + pid_e.to(tl.int64) * stride_qe + offs_n.to(tl.int64)[:, None] * stride_qn + offs_k[None, :]
    tl.store(q_ptrs, q.to(q_ptr.dtype.element_ty), mask=mask)
    tl.store(s_ptr + pid_e * stride_se + pid_n * stride_sn + pid_k, s)


def _rows_per_program(m: int) -> int:
    return 32 if m >= 32 else 16


def _outputs(out, q_shape, s_shape, device):
    """Caller-provided (q, s) buffers (tests poison them) or fresh ones."""
    if out is not None:
        q, s = out
        assert q.shape == q_shape and q.dtype == FP8 and q.is_contiguous(), f"q buffer {tuple(q.shape)}"
        assert s.shape == s_shape and s.dtype == torch.float32 and s.is_contiguous(), f"s buffer {tuple(s.shape)}"
        return q, s
    return torch.empty(q_shape, dtype=FP8, device=device), torch.empty(s_shape, dtype=torch.float32, device=device)


def quant_1x128(x: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token, per-128-channel quantisation of x (M, K): q (M, K) FP8, s (M, ceil(K/128)) FP32."""
    assert FP8_MAX == 448.0 and x.dim() == 2
    m, k = x.shape
    q, s = _outputs(out, (m, k), (m, cdiv(k, BLOCK)), x.device)
    block_m = _rows_per_program(m)
    grid = (cdiv(m, block_m), cdiv(k, BLOCK))
    _quant_1x128_kernel[grid](
        x, q, s, m, k, x.stride(0), x.stride(1), q.stride(0), s.stride(0),
        AMAX_MIN=AMAX_FLOOR, BLOCK_M=block_m, BLOCK_K=BLOCK,
    )
    return q, s


def _quant_128x1(x: torch.Tensor, tiles, n_tiles: int, out, rows_out=None, also_rows=False):
    m, k = x.shape
    q_cols = m if tiles is None else n_tiles * BLOCK  # grouped: one zero-padded 128-column slot per tile
    q, s = _outputs(out, (k, q_cols), (k, n_tiles), x.device)
    qr, sr = _outputs(rows_out, (m, k), (m, cdiv(k, BLOCK)), x.device) if also_rows else (q, s)
    block_k = BLOCK if also_rows else 64
    grid = (n_tiles, cdiv(k, block_k))
    if tiles is None:
        dummy = torch.zeros(1, dtype=torch.int32, device=x.device)
        args = (dummy, dummy, dummy, dummy, 0)
    else:
        args = (tiles.counts, tiles.row_start, tiles.tile_start, tiles.tile_group, tiles.counts.shape[0])
    _quant_128x1_kernel[grid](
        x, q, s, qr, sr, m, k, *args, x.stride(0), x.stride(1), q.stride(0), s.stride(0), qr.stride(0), sr.stride(0),
        GROUPED=tiles is not None, ALSO_ROWS=also_rows, AMAX_MIN=AMAX_FLOOR, BLOCK_M=BLOCK, BLOCK_K=block_k,
        num_warps=8 if also_rows else 4,
    )
    if also_rows:
        return (qr, sr), (q, s)
    return q, s


def quant_128x1(x: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Transposed quantisation for Wgrad: q = xᵀ (K, M) FP8 with one scale per channel per 128 tokens."""
    return _quant_128x1(x, None, cdiv(x.shape[0], BLOCK), out)


def grouped_quant_128x1(x: torch.Tensor, counts: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """quant_128x1 with tiles aligned to group starts: q (K, max_tiles·128), tile t of the table in columns
    [128t, 128t + 128) zero-padded past its group's rows, and s (K, max_tiles) with tile t in column t."""
    tiles = group_tiles(counts.to(x.device), x.shape[0])
    return _quant_128x1(x, tiles, tiles.max_tiles, out)


def quant_dual(x: torch.Tensor, out=None, out_t=None):
    """(quant_1x128(x), quant_128x1(x)) from one read of x: the activation (or gradient) of a layer
    is needed both ways, row tiles for Fprop/Dgrad and transposed column tiles for Wgrad."""
    return _quant_128x1(x, None, cdiv(x.shape[0], BLOCK), out_t, rows_out=out, also_rows=True)


def grouped_quant_dual(x: torch.Tensor, counts: torch.Tensor, out=None, out_t=None):
    """(quant_1x128(x), grouped_quant_128x1(x, counts)) from one read of x."""
    tiles = group_tiles(counts.to(x.device), x.shape[0])
    return _quant_128x1(x, tiles, tiles.max_tiles, out_t, rows_out=out, also_rows=True)


def quant_128x128(w: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """128×128 block quantisation of a weight (N, K) or a stack of expert weights (E, N, K)."""
    w3 = w if w.dim() == 3 else w.unsqueeze(0)
    e, n, k = w3.shape
    if out is not None and w.dim() == 2:
        out = (out[0].unsqueeze(0), out[1].unsqueeze(0))
    q, s = _outputs(out, (e, n, k), (e, cdiv(n, BLOCK), cdiv(k, BLOCK)), w.device)
    grid = (cdiv(n, BLOCK), cdiv(k, BLOCK), e)
    _quant_128x128_kernel[grid](
        w3, q, s, n, k, w3.stride(0), w3.stride(1), w3.stride(2), q.stride(0), q.stride(1),
        s.stride(0), s.stride(1), AMAX_MIN=AMAX_FLOOR, BLOCK_N=BLOCK, BLOCK_K=BLOCK,
    )
    if w.dim() == 2:
        return q[0], s[0]
    return q, s
