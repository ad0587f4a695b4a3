"""The tile table of a grouped (MoE) GEMM: which group each row tile belongs to, built on the device.

Rows of the grouped operand are sorted by group (expert); group g owns rows
[row_start[g], row_start[g] + counts[g]). Its rows are cut into tiles of `block` rows that start at
the group's first row, so no tile mixes two groups. Tiles are numbered group after group;
`tile_group[t]` is the group of tile t, or E for the spare tiles at the end (the table is sized
from shapes alone, ceil(T/block) + E, so building it never waits for the GPU).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

BLOCK = 128  # the quantisation tile and the K chunk of every GEMM


@dataclass
class GroupTiles:
    counts: torch.Tensor  # (E,) int32 rows per group
    row_start: torch.Tensor  # (E,) int32 first row of each group
    tile_start: torch.Tensor  # (E,) int32 first tile of each group
    tile_group: torch.Tensor  # (max_tiles,) int32 group of each tile, E when unused
    max_tiles: int
    block: int

    def host_rows(self) -> list[tuple[int, int, int]]:
        """(row_start, rows, tile_start) per group, on the host (synchronises; reference path)."""
        return list(zip(self.row_start.tolist(), self.counts.tolist(), self.tile_start.tolist()))


def max_group_tiles(total_rows: int, n_groups: int, block: int = BLOCK) -> int:
    """Tiles the table has room for: each group wastes at most one partial tile."""
    return -(-total_rows // block) + n_groups


def group_tiles(counts: torch.Tensor, total_rows: int | None = None, block: int = BLOCK,
                max_tiles: int | None = None) -> GroupTiles:
    """The table for `counts`; its size comes from `total_rows` (or is given as `max_tiles`)."""
    counts = counts.to(torch.int64)
    n_groups = counts.shape[0]
    tiles = (counts + block - 1) // block
    tile_end = torch.cumsum(tiles, 0)
    if max_tiles is None:
        max_tiles = max_group_tiles(total_rows, n_groups, block)
    ids = torch.arange(max_tiles, device=counts.device)
    tile_group = torch.searchsorted(tile_end, ids, right=True)  # == n_groups past the last tile
    return GroupTiles(
        counts=counts.to(torch.int32),
        row_start=(torch.cumsum(counts, 0) - counts).to(torch.int32),
        tile_start=(tile_end - tiles).to(torch.int32),
        tile_group=tile_group.to(torch.int32),
        max_tiles=max_tiles,
        block=block,
    )
