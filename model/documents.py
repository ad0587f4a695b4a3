"""Document boundaries inside packed rows: segment ids, restarted positions, the attention mask.

A token-shard row packs several documents (`doc_starts` gives their offsets). With segment ids the
model keeps attention inside each document and restarts RoPE positions at each start, so packing does
not leak context across documents.

    seg = segment_ids_from_starts([[0, 5], [0]], length=8)   # [[0,0,0,0,0,1,1,1], [0,...,0]]
    out = model(tokens, targets, segment_ids=seg)            # positions derived from seg
"""

from __future__ import annotations

import torch


def segment_ids_from_starts(doc_starts: list[list[int]], length: int, device=None) -> torch.Tensor:
    """Per row, the list of offsets where a document begins -> (B, length) int64 segment ids."""
    marks = torch.zeros(len(doc_starts), length, dtype=torch.int64)
    for row, starts in enumerate(doc_starts):
        inside = [s for s in starts if 0 < s < length]  # a start at 0 opens the first segment anyway
        if inside:
            marks[row, torch.tensor(inside)] = 1
    return marks.cumsum(dim=1).to(device)


def position_ids_from_segments(segment_ids: torch.Tensor) -> torch.Tensor:
    """(B, T) segment ids -> (B, T) positions restarting at 0 where the segment changes."""
    B, T = segment_ids.shape
    idx = torch.arange(T, device=segment_ids.device).expand(B, T)
    starts = torch.ones_like(segment_ids, dtype=torch.bool)
    starts[:, 1:] = segment_ids[:, 1:] != segment_ids[:, :-1]
    start_idx = torch.where(starts, idx, torch.zeros_like(idx)).cummax(dim=1).values
    return idx - start_idx


def document_causal_mask(segment_ids: torch.Tensor) -> torch.Tensor:
    """(B, T) segment ids -> bool (B, 1, T, T): query i may attend key j iff j <= i in the same segment."""
    T = segment_ids.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool, device=segment_ids.device).tril()
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    return (same & causal).unsqueeze(1)
