"""RoPE positions and the YaRN frequency correction."""

import torch

from model import get_preset, segment_ids_from_starts
from model.transformer import RotaryEmbedding, apply_rotary, position_ids_from_segments, rope_frequencies


def test_rotation_preserves_norms_and_depends_only_on_relative_position():
    rope = RotaryEmbedding(get_preset("tiny"))
    q, k = torch.randn(1, 1, 1, 8, dtype=torch.float64), torch.randn(1, 1, 1, 8, dtype=torch.float64)

    def score(i, j):
        cq, sq = rope(torch.tensor([i]))
        ck, sk = rope(torch.tensor([j]))
        return (apply_rotary(q, cq.double(), sq.double()) * apply_rotary(k, ck.double(), sk.double())).sum()

    torch.testing.assert_close(score(10, 3), score(107, 100), rtol=1e-5, atol=1e-6)
    cos, sin = rope(torch.tensor([37]))
    torch.testing.assert_close(apply_rotary(q, cos.double(), sin.double()).norm(), q.norm(), rtol=1e-6, atol=1e-6)


def test_yarn_interpolates_low_frequencies_and_keeps_high_ones():
    base = rope_frequencies(get_preset("tiny", qk_rope_head_dim=64))
    yarn = rope_frequencies(get_preset("tiny", qk_rope_head_dim=64, yarn=True, max_seq_len=8192, original_seq_len=256,
                                       rope_factor=40))
    torch.testing.assert_close(yarn[0], base[0])  # fastest rotation untouched
    torch.testing.assert_close(yarn[-1], base[-1] / 40)  # slowest fully interpolated
    assert (yarn <= base).all()


def test_pretraining_and_context_extension_are_two_explicit_settings():
    # V3 pre-trained at 4K with plain RoPE; a longer window alone does not switch YaRN on.
    v3 = get_preset("v3")
    assert (v3.max_seq_len, v3.yarn) == (4096, False)
    plain = rope_frequencies(v3)
    torch.testing.assert_close(rope_frequencies(v3.replace(max_seq_len=16384)), plain, rtol=0, atol=0)
    extended = rope_frequencies(v3.replace(yarn=True, max_seq_len=32768))
    assert (extended < plain).any() and extended[0] == plain[0]


def test_positions_restart_at_each_document():
    seg = segment_ids_from_starts([[0, 3, 5], [0]], length=7)
    assert seg.tolist() == [[0, 0, 0, 1, 1, 2, 2], [0] * 7]
    assert position_ids_from_segments(seg).tolist() == [[0, 1, 2, 0, 1, 0, 1], list(range(7))]
