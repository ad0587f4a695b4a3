"""The Transformer's training API: ModelOutput, loss composition, causality, gradients, MTP, documents."""

import numpy as np
import torch

from model import IGNORE_INDEX, ModelOutput, Transformer, get_preset, segment_ids_from_starts


def tiny_model(seed=0, **overrides):
    torch.manual_seed(seed)
    return Transformer(get_preset("tiny", **overrides))


def test_forward_returns_model_output_with_every_loss():
    model = tiny_model()
    batch = torch.randint(0, 2048, (2, 33))
    out = model(batch[:, :-1], targets=batch[:, 1:])
    assert isinstance(out, ModelOutput)
    assert out.logits.shape == (2, 32, 2048)
    args = model.args
    expected = out.main_loss + args.mtp_lambda * out.mtp_loss + args.seq_aux_alpha * out.balance_loss
    torch.testing.assert_close(out.loss, expected)
    # At init every prediction is near uniform: cross-entropy about ln(vocab).
    assert abs(out.main_loss.item() - torch.log(torch.tensor(2048.0)).item()) < 0.5
    # Σ_i f_i·P_i is 1 per MoE layer when balanced; two main MoE layers plus the MTP block.
    assert 1.0 < out.balance_loss.item() < 3 * 8


def test_without_targets_there_is_no_loss():
    out = tiny_model()(torch.randint(0, 2048, (1, 8)))
    assert out.loss is None and out.main_loss is None and out.mtp_loss is None
    assert out.logits.shape == (1, 8, 2048)


def test_ignored_targets_do_not_count():
    model = tiny_model()
    tokens = torch.randint(0, 2048, (1, 16))
    targets = torch.randint(0, 2048, (1, 16))
    a = model(tokens, targets).main_loss
    noisy = targets.clone()
    noisy[:, 8:] = IGNORE_INDEX
    b = model(tokens, noisy).main_loss
    c = torch.nn.functional.cross_entropy(model(tokens).logits[0, :8], targets[0, :8])
    torch.testing.assert_close(b, c)
    assert not torch.isclose(a, b)


def test_a_future_token_never_changes_a_past_logit():
    # float64 so that only causality, not matmul blocking over a different batch, decides equality.
    model = tiny_model().double().eval()
    tokens = torch.randint(0, 2048, (1, 24))
    changed = tokens.clone()
    changed[0, 12:] = torch.randint(0, 2048, (12,))
    a, b = model(tokens).logits, model(changed).logits
    torch.testing.assert_close(a[:, :12], b[:, :12], rtol=0, atol=1e-12)
    assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_gradients_reach_every_parameter():
    model = tiny_model()
    batch = torch.randint(0, 2048, (2, 33))
    model(batch[:, :-1], targets=batch[:, 1:]).loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_turning_mtp_off_changes_nothing_of_the_main_head():
    with_mtp = tiny_model(mtp_depth=2).eval()
    without = Transformer(get_preset("tiny", mtp_depth=0)).eval()
    missing, unexpected = without.load_state_dict(with_mtp.state_dict(), strict=False)
    assert missing == [] and all(k.startswith("mtp.") for k in unexpected) and unexpected
    batch = torch.randint(0, 2048, (2, 17))
    a = with_mtp(batch[:, :-1], batch[:, 1:])
    b = without(batch[:, :-1], batch[:, 1:])
    torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=0)
    torch.testing.assert_close(a.main_loss, b.main_loss, rtol=0, atol=0)
    assert b.mtp_loss is None and a.mtp_loss is not None
    with_mtp.drop_mtp()
    torch.testing.assert_close(with_mtp(batch[:, :-1]).logits, a.logits, rtol=0, atol=0)


def randomise_norms(model):
    """Norm weights away from 1, where RMSNorm(RMSNorm(h)) != RMSNorm(h) and the two halves differ."""
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            torch.nn.init.uniform_(p, 0.5, 1.5)
    return model


def test_mtp_depth_1_reads_the_next_token_and_predicts_the_one_after():
    # DeepSeek-V3's released MTP layout (as transformers and vLLM run it), written out:
    #   h'_i = eh_proj[enorm(Emb(t_{i+1})); hnorm(norm(h_i))], block, shared_head.norm, head -> t_{i+2}
    # with h_i the main model's last hidden state, norm its final norm.
    model = randomise_norms(tiny_model()).eval()
    tokens, targets = torch.randint(0, 2048, (1, 12)), torch.randint(0, 2048, (1, 12))
    seen = {}
    model.norm.register_forward_hook(lambda mod, inp, out: seen.setdefault("normed", out))
    out = model(tokens, targets)
    mtp = model.mtp[0]
    rope = model.rope(torch.arange(12))
    x = mtp.proj(torch.cat([mtp.enorm(model.embed(targets)), mtp.hnorm(seen["normed"])], dim=-1))
    h1, _, _ = mtp.block(x, rope)  # token i+1 of the input is targets[i]
    logits = model.head(mtp.norm(h1))
    expected = torch.nn.functional.cross_entropy(logits[0, :-1], targets[0, 1:])  # t_{i+2} = targets[i+1]
    torch.testing.assert_close(out.mtp_loss, expected)


def test_mtp_logits_predict_two_ahead_from_the_tokens_alone():
    model = randomise_norms(tiny_model()).eval()
    sequence = torch.randint(0, 2048, (2, 12))
    seen = {}
    model.norm.register_forward_hook(lambda mod, inp, out: seen.setdefault("normed", out))
    (logits,) = model.mtp_logits(sequence)
    mtp = model.mtp[0]
    x = mtp.proj(torch.cat([mtp.enorm(model.embed(sequence[:, 1:])), mtp.hnorm(seen["normed"][:, :-1])], dim=-1))
    h1, _, _ = mtp.block(x, model.rope(torch.arange(11)))  # causal: the last position is not needed
    assert logits.shape == (2, 11, 2048)
    torch.testing.assert_close(logits, model.head(mtp.norm(h1)))


def test_a_second_mtp_depth_reads_the_first_depths_normed_state():
    model = randomise_norms(tiny_model(mtp_depth=2)).eval()
    sequence = torch.randint(0, 2048, (1, 10))
    first, second = model.mtp_logits(sequence)
    assert first.shape == (1, 9, 2048) and second.shape == (1, 8, 2048)
    seen = {}
    model.mtp[0].norm.register_forward_hook(lambda mod, inp, out: seen.setdefault("h1", out))
    model.mtp_logits(sequence)
    m2 = model.mtp[1]
    ahead2 = torch.cat([sequence[:, 2:], sequence[:, :2]], dim=1)
    x = m2.proj(torch.cat([m2.enorm(model.embed(ahead2)), m2.hnorm(seen["h1"])], dim=-1))
    h2, _, _ = m2.block(x, model.rope(torch.arange(10)))
    torch.testing.assert_close(second, model.head(m2.norm(h2))[:, :8])


def test_documents_in_a_packed_row_do_not_see_each_other():
    model = tiny_model().eval()
    doc_a, doc_b = torch.randint(0, 2048, (1, 7)), torch.randint(0, 2048, (1, 9))
    packed = torch.cat([doc_a, doc_b], dim=1)
    seg = segment_ids_from_starts([[0, 7]], length=16)
    packed_logits = model(packed, segment_ids=seg).logits
    # The second document behaves exactly as if it stood alone (positions restart at 0).
    torch.testing.assert_close(packed_logits[:, 7:], model(doc_b).logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(packed_logits[:, :7], model(doc_a).logits, rtol=1e-5, atol=1e-5)
    # Explicit positions override the restarted ones; the attention still stays inside each document.
    restarted = torch.cat([torch.arange(7), torch.arange(9)])[None]
    torch.testing.assert_close(model(packed, segment_ids=seg, position_ids=restarted).logits, packed_logits)
    shifted = model(packed, segment_ids=seg, position_ids=torch.arange(16)[None]).logits
    torch.testing.assert_close(shifted[:, :7], packed_logits[:, :7])
    assert not torch.allclose(shifted[:, 7:], packed_logits[:, 7:])


def test_segment_ids_take_lists_or_the_loaders_numpy_offsets():
    expected = [[0, 0, 0, 1, 1, 2, 2, 2], [0] * 8]
    assert segment_ids_from_starts([[0, 3, 5], [0]], length=8).tolist() == expected
    as_numpy = [np.array([0, 3, 5, 8], dtype=np.int32), np.array([], dtype=np.int32)]  # a start at T is ignored
    seg = segment_ids_from_starts(as_numpy, length=8)
    assert seg.dtype == torch.int64 and seg.tolist() == expected


def test_state_dict_keys_are_the_checkpoint_format():
    # Checkpoints of earlier runs load with strict=True: these names (the DeepSeek-V3 reference's) stay.
    model = Transformer(get_preset("tiny", n_layers=2, mtp_depth=1))
    attn = ["attn.wq_a.weight", "attn.q_norm.weight", "attn.wq_b.weight", "attn.wkv_a.weight",
            "attn.kv_norm.weight", "attn.wkv_b.weight", "attn.wo.weight"]
    moe = ["ffn.gate.weight", "ffn.gate.bias", "ffn.experts.w1", "ffn.experts.w2", "ffn.experts.w3",
           "ffn.shared_experts.w1.weight", "ffn.shared_experts.w2.weight", "ffn.shared_experts.w3.weight"]
    dense = ["ffn.w1.weight", "ffn.w2.weight", "ffn.w3.weight"]

    def block(prefix, ffn):
        return [f"{prefix}.attn_norm.weight", *(f"{prefix}.{k}" for k in attn), f"{prefix}.ffn_norm.weight",
                *(f"{prefix}.{k}" for k in ffn)]

    expected = ["embed.weight", *block("layers.0", dense), *block("layers.1", moe), "norm.weight", "head.weight",
                "mtp.0.hnorm.weight", "mtp.0.enorm.weight", "mtp.0.proj.weight", *block("mtp.0.block", moe),
                "mtp.0.norm.weight"]
    assert sorted(model.state_dict()) == sorted(expected)
    full_rank_q = Transformer(get_preset("tiny", n_layers=2, mtp_depth=0, q_lora_rank=0)).state_dict()
    assert [k for k in full_rank_q if ".attn.wq" in k] == ["layers.0.attn.wq.weight", "layers.1.attn.wq.weight"]


def test_a_batch_without_any_target_gives_zero_loss_not_nan():
    model = tiny_model()
    tokens = torch.randint(0, 2048, (1, 4))
    out = model(tokens, torch.full((1, 4), IGNORE_INDEX))
    assert out.main_loss.item() == 0.0 and out.mtp_loss.item() == 0.0
    out.loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    # One token: nothing for the depth-1 MTP module to predict, the main loss is still real.
    one = model(tokens[:, :1], tokens[:, 1:2])
    assert one.main_loss.item() > 0 and one.mtp_loss.item() == 0.0


def test_the_small_preset_trains_a_step():
    torch.manual_seed(0)
    model = Transformer(get_preset("small", vocab_size=4096))
    batch = torch.randint(0, 4096, (1, 17))
    out = model(batch[:, :-1], targets=batch[:, 1:])
    out.loss.backward()
    assert torch.isfinite(out.loss) and out.mtp_loss is not None
    assert model.update_router_biases()["max_over_mean"] >= 1.0
