"""Multi-head Latent Attention: the naive and absorbed paths agree; the absorbed cache is small."""

import pytest
import torch

from model import Transformer, get_preset
from model.transformer import MLA, MLACache, RotaryEmbedding


def build(**overrides):
    torch.manual_seed(0)
    args = get_preset("tiny", **overrides)
    mla = MLA(args).double()
    for p in mla.parameters():  # larger than the init std so the check is not trivially small numbers
        torch.nn.init.normal_(p, 0.0, 0.2)
    return args, mla, RotaryEmbedding(args).double()


@pytest.mark.parametrize("overrides", [{}, {"q_lora_rank": 0}, {"yarn": True, "max_seq_len": 8192, "original_seq_len": 256}],
                         ids=["low-rank-q", "full-rank-q", "yarn"])
def test_naive_and_absorbed_paths_agree_in_float64(overrides):
    args, mla, rope = build(**overrides)
    B, T = 2, 19
    x = torch.randn(B, T, args.dim, dtype=torch.float64)
    naive = mla(x, rope(torch.arange(T)))  # K/V materialised, SDPA
    cache = MLACache.new(args, B, T, dtype=torch.float64)
    absorbed = mla(x, rope(torch.arange(T)), cache=cache)  # whole prompt at once
    torch.testing.assert_close(absorbed, naive, rtol=1e-6, atol=1e-10)
    # Prefill 7 tokens, then one at a time, as generation does.
    cache = MLACache.new(args, B, T, dtype=torch.float64)
    steps = [mla(x[:, :7], rope(torch.arange(7)), cache=cache, start_pos=0)]
    for t in range(7, T):
        steps.append(mla(x[:, t : t + 1], rope(torch.arange(t, t + 1)), cache=cache, start_pos=t))
    torch.testing.assert_close(torch.cat(steps, dim=1), naive, rtol=1e-6, atol=1e-10)


def test_yarn_raises_the_softmax_scale_as_the_reference():
    plain = MLA(get_preset("tiny"))
    long = MLA(get_preset("tiny", yarn=True, max_seq_len=8192, original_seq_len=256, rope_factor=40, mscale=1.0))
    mscale = 0.1 * torch.log(torch.tensor(40.0)).item() + 1.0
    assert long.softmax_scale == pytest.approx(plain.softmax_scale * mscale**2)
    assert plain.softmax_scale == pytest.approx((16 + 8) ** -0.5)
    # A long window without the switch is pre-training with plain RoPE: no mscale.
    assert MLA(get_preset("tiny", max_seq_len=8192, original_seq_len=256)).softmax_scale == plain.softmax_scale


def test_v3_absorbed_cache_holds_576_values_per_token_and_layer():
    args = get_preset("v3")
    with torch.device("meta"):
        model = Transformer(args)
    cache = model.new_kv_cache(batch=1, max_len=4096)
    per_layer = cache.layers[0].values_per_token
    assert per_layer == 512 + 64
    assert cache.values_per_token == 61 * 576
    mha_per_layer = 2 * args.n_heads * args.v_head_dim  # standard MHA caches K and V: 2 x 128 x 128
    ratio = mha_per_layer / per_layer
    assert mha_per_layer == 32768 and ratio == pytest.approx(56.9, abs=0.05)
    assert cache.layers[0].latent.shape == (1, 4096, 512) and cache.layers[0].k_rope.shape == (1, 4096, 64)
