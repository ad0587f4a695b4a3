"""YaRN against its two references: DeepSeek-V3's `inference/model.py` (`precompute_freqs_cis` and the
MLA softmax scale, written out below as that file has them) and transformers' `yarn` RoPE with
DeepseekV3's `yarn_apply_mscale`."""

from __future__ import annotations

import math

import pytest
import torch

from model import get_preset
from model.transformer import MLA, rope_frequencies, yarn_correction_range


def reference_freqs(dim, base, factor, original_seq_len, beta_fast, beta_slow, seqlen):
    """DeepSeek-V3 inference/model.py, precompute_freqs_cis, before the outer product (float32)."""

    def find_correction_dim(num_rotations, dim, base, max_seq_len):
        return dim * math.log(max_seq_len / (num_rotations * 2 * math.pi)) / (2 * math.log(base))

    def find_correction_range(low_rot, high_rot, dim, base, max_seq_len):
        low = math.floor(find_correction_dim(low_rot, dim, base, max_seq_len))
        high = math.ceil(find_correction_dim(high_rot, dim, base, max_seq_len))
        return max(low, 0), min(high, dim - 1)

    def linear_ramp_factor(min, max, dim):
        if min == max:
            max += 0.001
        linear_func = (torch.arange(dim, dtype=torch.float32) - min) / (max - min)
        return torch.clamp(linear_func, 0, 1)

    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    if seqlen > original_seq_len:
        low, high = find_correction_range(beta_fast, beta_slow, dim, base, original_seq_len)
        smooth = 1 - linear_ramp_factor(low, high, dim // 2)
        freqs = freqs / factor * (1 - smooth) + freqs * smooth
    return freqs


V3_EXTENSION = dict(yarn=True, max_seq_len=32768)  # V3's first extension phase: 4K -> 32K, factor 40


def test_v3_yarn_frequencies_are_the_references():
    args = get_preset("v3", **V3_EXTENSION)
    ref = reference_freqs(args.qk_rope_head_dim, args.rope_theta, args.rope_factor, args.original_seq_len,
                          args.beta_fast, args.beta_slow, args.max_seq_len)
    ours = rope_frequencies(args)
    assert yarn_correction_range(args) == (10, 23)  # the ramp spans pairs 10..23 of 32
    torch.testing.assert_close(ours.float(), ref, rtol=2e-7, atol=0)  # float32 round-off of the reference
    # The old ramp, / (high - low + 1e-3), was off in the ramp's pairs by up to 0.3%.
    low, high = yarn_correction_range(args)
    base = 1.0 / (args.rope_theta ** (torch.arange(0, 64, 2, dtype=torch.float64) / 64))
    smooth = 1 - ((torch.arange(32, dtype=torch.float64) - low) / (high - low + 1e-3)).clamp(0, 1)
    old = base * (smooth + (1 - smooth) / args.rope_factor)
    assert (old / ours - 1).abs().max() > 2.9e-3 and (ours.float() / ref - 1).abs().max() < 1e-6


def test_an_empty_ramp_takes_the_references_guard():
    # So short an original length that both correction dimensions clamp to pair 0: low == high.
    args = get_preset("tiny", yarn=True, original_seq_len=6, max_seq_len=64, rope_factor=4)
    assert yarn_correction_range(args) == (0, 0)
    ref = reference_freqs(8, args.rope_theta, 4, 6, args.beta_fast, args.beta_slow, 64)
    torch.testing.assert_close(rope_frequencies(args).float(), ref, rtol=2e-7, atol=0)


@pytest.mark.parametrize("mscale", [1.0, 0.707], ids=["v3", "v2-lite"])
def test_yarn_matches_transformers_deepseek_v3(mscale):
    pytest.importorskip("transformers", reason="the hf extra (pip install -e '.[dev,hf]') is not installed")
    from transformers import DeepseekV3Config
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import yarn_apply_mscale

    from model.hf import hf_config

    args = get_preset("v3", mscale=mscale, **V3_EXTENSION)
    exported = hf_config(args)
    config = DeepseekV3Config(**{k: v for k, v in exported.items() if k not in ("architectures", "model_type",
                                                                                "torch_dtype")})
    inv_freq, attention_factor = ROPE_INIT_FUNCTIONS["yarn"](config)
    assert attention_factor == 1.0  # mscale == mscale_all_dim: cos/sin unscaled, as in DeepSeek's reference
    torch.testing.assert_close(rope_frequencies(args).float(), inv_freq, rtol=2e-7, atol=0)
    qk = args.qk_head_dim**-0.5
    with torch.device("meta"):  # V3's attention weights are not needed for its softmax scale
        scale = MLA(args).softmax_scale
    assert scale == pytest.approx(yarn_apply_mscale(config.rope_parameters, qk), rel=1e-12)
    reference = qk * (0.1 * mscale * math.log(args.rope_factor) + 1.0) ** 2  # inference/model.py MLA.__init__
    assert scale == pytest.approx(reference, rel=1e-12)
