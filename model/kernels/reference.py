"""Fine-grained FP8 (E4M3) quantisation and GEMMs in plain PyTorch: the CPU path and the test oracle.

The recipe is DeepSeek-V3's (§3.3): activations are scaled per 1×128 tile (one token, 128 channels),
weights per 128×128 block, every tensor in E4M3, each scale an FP32 number computed from the tile's
current max |x| (no delayed scaling). A GEMM multiplies FP8 tiles 128 wide along K, promotes each
partial sum to FP32, scales it by the two tiles' scales and adds it to an FP32 accumulator.

The Triton kernels in this package compute the same numbers: the same scale (amax / 448, IEEE
division), the same rounding to the E4M3 grid (nearest, ties to even, saturating at ±448) and the
same order of scaling per K chunk, so the two agree up to FP32 summation order inside one chunk.

Conventions (all GEMMs are C = A · Bᵀ, the reduction dimension last in both operands):

    quant_1x128(x (M, K))            -> q (M, K) fp8,  s (M, ceil(K/128))     activations, forward
    quant_128x1(x (M, K))            -> q (K, M) fp8,  s (K, ceil(M/128))     transposed, for Wgrad
    quant_128x128(w (..., N, K))     -> q (..., N, K), s (..., ceil(N/128), ceil(K/128))
    quant_dual(x)                    -> (quant_1x128(x), quant_128x1(x)); the kernel reads x once
    gemm(a, sa, b, sb)               -> (M, N); sb is per row (N, Kb) or per 128-row block (Nb, Kb)
    grouped_gemm(a, sa, b, sb, counts)           rows of `a` sorted by group, b (E, N, K)
    grouped_quant_128x1(x, counts)   -> transposed tiles that never straddle two groups
    grouped_wgrad(aT, sa, bT, sb, counts)        -> (E, N, K), one reduction per group
"""

from __future__ import annotations

import torch

from model.kernels.groups import BLOCK, group_tiles

FP8 = torch.float8_e4m3fn
FP8_MAX = 448.0
# Smallest amax a scale is built from. DeepSeek's inference kernel floors amax at 1e-4, which would
# crush small gradients to zero; 1e-12 only guards the all-zero tile against 0/0.
AMAX_FLOOR = 1e-12


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _pad_to(x: torch.Tensor, dim: int, multiple: int) -> torch.Tensor:
    extra = (-x.shape[dim]) % multiple
    if not extra:
        return x
    pad = [0, 0] * (x.dim() - 1 - dim % x.dim()) + [0, extra]
    return torch.nn.functional.pad(x, pad)


def scale_from_amax(amax: torch.Tensor) -> torch.Tensor:
    return amax.float().clamp_min(AMAX_FLOOR) / FP8_MAX


def to_fp8(y: torch.Tensor) -> torch.Tensor:
    """Round FP32 values (already divided by their scale) to E4M3: nearest-even, saturating at ±448."""
    return y.clamp(-FP8_MAX, FP8_MAX).to(FP8)


def _into(out, q: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if out is None:
        return q.contiguous(), s
    out[0].copy_(q)
    out[1].copy_(s)
    return out


def quant_1x128(x: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token, per-128-channel quantisation of a 2-D activation (M, K)."""
    m, k = x.shape
    kb = cdiv(k, BLOCK)
    tiles = _pad_to(x.float(), 1, BLOCK).view(m, kb, BLOCK)  # (M, Kb, 128)
    s = scale_from_amax(tiles.abs().amax(dim=2))  # (M, Kb)
    q = to_fp8(tiles / s[:, :, None]).view(m, kb * BLOCK)[:, :k]
    return _into(out, q, s)


def quant_128x1(x: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Transposed quantisation: tiles of 128 tokens × 1 channel, returned as xᵀ (K, M) for Wgrad."""
    return quant_1x128(x.t(), out)


def quant_128x128(w: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Block quantisation of a weight (N, K) or a stack of them (E, N, K)."""
    *lead, n, k = w.shape
    blocks = _pad_to(_pad_to(w.float().reshape(-1, n, k), 1, BLOCK), 2, BLOCK)
    e, np_, kp = blocks.shape
    blocks = blocks.view(e, np_ // BLOCK, BLOCK, kp // BLOCK, BLOCK)  # (E, Nb, 128, Kb, 128)
    s = scale_from_amax(blocks.abs().amax(dim=(2, 4)))  # (E, Nb, Kb)
    q = to_fp8(blocks / s[:, :, None, :, None]).view(e, np_, kp)[:, :n, :k]
    return _into(out, q.reshape(*lead, n, k), s.reshape(*lead, *s.shape[1:]))


def quant_dual(x: torch.Tensor, out=None, out_t=None):
    """Both quantisations a layer's input (or output gradient) needs: (1×128 of x, 128×1 of x)."""
    return quant_1x128(x, out), quant_128x1(x, out_t)


def dequant_1x128(q: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return q.float() * s.repeat_interleave(BLOCK, dim=-1)[..., : q.shape[-1]]


def dequant_128x128(q: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    n, k = q.shape[-2:]
    full = s.repeat_interleave(BLOCK, dim=-2)[..., :n, :].repeat_interleave(BLOCK, dim=-1)[..., :k]
    return q.float() * full


def _row_scales(sb: torch.Tensor, n: int) -> torch.Tensor:
    """B's scales as one row per row of B: (N, Kb) given per-row or per-128-row-block scales."""
    if sb.shape[0] == n:
        return sb
    return sb.repeat_interleave(BLOCK, dim=0)[:n]


def gemm(a, sa, b, sb, out_dtype=torch.float32, out=None):
    """C = A·Bᵀ for FP8 A (M, K) with 1×128 scales and FP8 B (N, K) with per-row or block scales."""
    m, k = a.shape
    n = b.shape[0]
    sb = _row_scales(sb, n)
    acc = torch.zeros(m, n, dtype=torch.float32, device=a.device)
    for j in range(cdiv(k, BLOCK)):
        cols = slice(j * BLOCK, (j + 1) * BLOCK)
        partial = a[:, cols].float() @ b[:, cols].float().t()  # exact products, FP32 sums
        acc += partial * sa[:, j, None] * sb[None, :, j]
    if out is None:
        return acc.to(out_dtype)
    return out.copy_(acc)


def grouped_gemm(a, sa, b, sb, counts, out_dtype=torch.float32, out=None):
    """Row block g of A (sorted by group) times group g's B: b (E, N, K) FP8 with (E, Nb, Kb) scales."""
    n = b.shape[1]
    if out is None:
        out = torch.empty(a.shape[0], n, dtype=out_dtype, device=a.device)
    start = 0
    for g, rows in enumerate(counts.tolist()):
        if rows:
            end = start + rows
            gemm(a[start:end], sa[start:end], b[g], sb[g], out=out[start:end])
            start = end
    return out


def grouped_quant_128x1(x: torch.Tensor, counts: torch.Tensor, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """quant_128x1 per group, in whole tiles: q (C, max_tiles·128) FP8, s (C, max_tiles).

    Tiles start at each group's first row, so a 128-token tile never mixes two experts. Tile t of the
    group tile table lives in columns [128t, 128t + 128) of q, zero-padded past its group's last
    row, and in column t of s; spare tiles are empty tiles (zeros, the floor scale).
    """
    t, c = x.shape
    tiles = group_tiles(counts, t)
    q, s = out if out is not None else (torch.empty(c, tiles.max_tiles * BLOCK, dtype=FP8, device=x.device),
                                         torch.empty(c, tiles.max_tiles, dtype=torch.float32, device=x.device))
    q.view(torch.uint8).zero_()  # E4M3 zero is the zero byte
    s.fill_(scale_from_amax(torch.zeros(())).item())
    for start, rows, first in tiles.host_rows():
        if rows:
            qg, sg = quant_128x1(x[start : start + rows])
            q[:, first * BLOCK : first * BLOCK + rows] = qg
            s[:, first : first + sg.shape[1]] = sg
    return q, s


def grouped_quant_dual(x: torch.Tensor, counts: torch.Tensor, out=None, out_t=None):
    """(quant_1x128(x), grouped_quant_128x1(x, counts)): an expert input or gradient, both ways."""
    return quant_1x128(x, out), grouped_quant_128x1(x, counts, out_t)


def grouped_wgrad(a_t, sa, b_t, sb, counts, out_dtype=torch.float32, out=None):
    """Per-group Wgrad: out[g] (N, K) = Σ over group g's tokens of a[t]ᵀ b[t], tile by tile.

    a_t (N, max_tiles·128), b_t (K, max_tiles·128) come from grouped_quant_128x1 of dY (T, N) and X (T, K).
    """
    n, k = a_t.shape[0], b_t.shape[0]
    tiles = group_tiles(counts, max_tiles=sa.shape[1])
    e = counts.shape[0]
    if out is None:
        out = torch.empty(e, n, k, dtype=out_dtype, device=a_t.device)
    for g, (_, rows, first) in enumerate(tiles.host_rows()):
        if not rows:
            out[g].zero_()
            continue
        n_tiles = cdiv(rows, BLOCK)
        cols, tcols = slice(first * BLOCK, (first + n_tiles) * BLOCK), slice(first, first + n_tiles)
        gemm(a_t[:, cols], sa[:, tcols], b_t[:, cols], sb[:, tcols], out=out[g])
    return out
