"""Importing DeepSeek-layout checkpoints: what transformers itself writes computes the same logits in
our model, FP8 block-scaled weights of the V3 release are dequantised exactly, and `deepcorpus train
--init-from` continues training from them, refusing shards of another tokenizer."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from deepcorpus.core.errors import UserError
from model import Transformer
from model.hf import HfCheckpoint, args_from_hf_config, load_hf_weights
from tests.interop.conftest import TEXTS, quiet_transformers, random_model, save_run, sha256

TOKENS = torch.randint(0, 300, (2, 40), generator=torch.Generator().manual_seed(1))
COMMON = dict(vocab_size=300, hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=3,
              num_attention_heads=4, num_key_value_heads=4, n_shared_experts=1, n_routed_experts=8, kv_lora_rank=32,
              qk_rope_head_dim=8, v_head_dim=16, qk_nope_head_dim=16, n_group=2, topk_group=1, num_experts_per_tok=2,
              first_k_dense_replace=1, max_position_embeddings=512, bos_token_id=0, eos_token_id=1)
V3_YARN = {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 8.0, "original_max_position_embeddings": 64,
           "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}


def hf_model(kind: str, seed: int = 0, **overrides):
    """A randomly initialised transformers DeepseekV3/V2ForCausalLM, norms and router biases included."""
    from transformers import DeepseekV2Config, DeepseekV2ForCausalLM, DeepseekV3Config, DeepseekV3ForCausalLM

    quiet_transformers()
    torch.manual_seed(seed)
    if kind == "v3":
        model = DeepseekV3ForCausalLM(DeepseekV3Config(**{**COMMON, "q_lora_rank": 32, "rope_parameters": V3_YARN,
                                                          **overrides}))
    else:
        model = DeepseekV2ForCausalLM(DeepseekV2Config(**{**COMMON, "q_lora_rank": None, "routed_scaling_factor": 1.5,
                                                          "topk_method": "group_limited_greedy", **overrides}))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.rand(p.shape, generator=g) + 0.5 if name.endswith("norm.weight")
                    else torch.randn(p.shape, generator=g) * 0.1)
        for name, b in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.5)
    return model.eval()


def import_dir(path) -> tuple[Transformer, dict]:
    args = args_from_hf_config(json.load(open(os.path.join(path, "config.json"))))
    torch.manual_seed(0)  # what the checkpoint lacks (its MTP module, say) starts the same each time
    model = Transformer(args)
    with HfCheckpoint(str(path)) as ckpt:
        report = load_hf_weights(model, ckpt)
    return model.eval(), report


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize("kind", ["v3", "v2"])
def test_a_checkpoint_transformers_saves_gives_the_same_logits_in_our_model(tmp_path, transformers, kind):
    hf = hf_model(kind)
    hf.save_pretrained(tmp_path / "hf")
    model, report = import_dir(tmp_path / "hf")
    args = model.args
    assert (args.score_func, args.q_lora_rank, args.n_groups) == (("sigmoid", 32, 2) if kind == "v3" else
                                                                 ("softmax", 0, 2))
    if kind == "v3":
        assert (args.yarn, args.rope_factor, args.original_seq_len, args.mscale) == (True, 8.0, 64, 0.707)
        # transformers' random V3 has no MTP weights; its config asks for one MTP layer: it starts fresh.
        assert report["fresh"] and all(k.startswith("mtp.0.") for k in report["fresh"])
    else:
        assert (args.route_scale, args.normalize_weights, args.mtp_depth, args.yarn) == (1.5, False, 0, False)
        assert report["fresh"] == []
    with torch.no_grad():
        ours, theirs = model(TOKENS).logits, hf(TOKENS).logits
    assert ours.abs().max() > 1 and max_diff(ours, theirs) < 1e-5  # measured 2.6e-6 (v3), 3.4e-6 (v2)


def test_experts_stored_stacked_as_transformers_holds_them_load_too(tmp_path, transformers):
    from safetensors.torch import save_file

    hf = hf_model("v3")
    hf.save_pretrained(tmp_path / "per-expert")
    os.makedirs(tmp_path / "stacked")
    shutil.copy(tmp_path / "per-expert" / "config.json", tmp_path / "stacked")
    state = {k: v.contiguous() for k, v in hf.state_dict().items()}  # in memory: experts.gate_up_proj (E, 2I, D)
    assert any(k.endswith("experts.gate_up_proj") for k in state)
    save_file(state, str(tmp_path / "stacked" / "model.safetensors"))
    a, _ = import_dir(tmp_path / "per-expert")
    b, _ = import_dir(tmp_path / "stacked")
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key


def test_rotate_half_rope_weights_are_interleaved_on_import(tmp_path, transformers):
    hf = hf_model("v3", rope_interleave=False, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    hf.save_pretrained(tmp_path / "hf")
    model, _ = import_dir(tmp_path / "hf")
    with torch.no_grad():
        assert max_diff(model(TOKENS).logits, hf(TOKENS).logits) < 1e-5


# -- FP8: the V3 release's block-scaled e4m3 weights ---------------------------------------------------


def quantize_blocks(w: torch.Tensor, block: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """e4m3 weights with one float32 scale per block x block tile (amax / 448), as DeepSeek-V3 stores
    them; `weight_scale_inv` is the factor that multiplies the FP8 values back."""
    rows, cols = w.shape
    nr, nc = -(-rows // block), -(-cols // block)
    scale = torch.empty(nr, nc)
    q = torch.empty(rows, cols, dtype=torch.float8_e4m3fn)
    for i in range(nr):
        for j in range(nc):
            tile = w[i * block:(i + 1) * block, j * block:(j + 1) * block]
            scale[i, j] = tile.abs().max().clamp_min(1e-12) / 448.0
            q[i * block:(i + 1) * block, j * block:(j + 1) * block] = (tile / scale[i, j]).to(torch.float8_e4m3fn)
    return q, scale


def dequantize_by_tile(q: torch.Tensor, scale: torch.Tensor, block: int = 128) -> torch.Tensor:
    out = torch.empty(q.shape)
    for i in range(scale.shape[0]):
        for j in range(scale.shape[1]):
            tile = (slice(i * block, (i + 1) * block), slice(j * block, (j + 1) * block))
            out[tile] = q[tile].float() * scale[i, j]
    return out


def _fp8(key: str, shape) -> bool:
    # The release quantises the linear layers of attention and the MLPs; embedding, head, norms,
    # router and eh_proj stay in bf16.
    return len(shape) == 2 and key.endswith("_proj.weight") and ".eh_proj." not in key


def test_a_v3_release_shaped_fp8_checkpoint_is_dequantised(tmp_path, transformers):
    from safetensors.torch import load_file, save_file

    from interop.export import export_hf

    # Dimensions that are not multiples of 128, so edge blocks are partial; an MTP layer as layer n.
    model = random_model("tiny", dim=192, q_lora_rank=160, kv_lora_rank=136, inter_dim=320, moe_inter_dim=144)
    export_hf(save_run(tmp_path / "run", model), str(tmp_path / "bf"), dtype="fp32", with_tokenizer=False,
              max_shard_bytes=2_000_000)
    release = tmp_path / "fp8"
    os.makedirs(release)
    index = json.load(open(tmp_path / "bf" / "model.safetensors.index.json"))
    weight_map, expected = {}, {}
    os.makedirs(tmp_path / "dequantised")
    for name in sorted(set(index["weight_map"].values())):
        tensors = load_file(str(tmp_path / "bf" / name))
        out = {}
        for key, w in tensors.items():
            if _fp8(key, w.shape):
                q, scale = quantize_blocks(w)
                out[key], out[key + "_scale_inv"] = q, scale
                expected[key] = dequantize_by_tile(q, scale)
                assert (expected[key] - w).abs().max() <= w.abs().max() / 16  # e4m3 keeps 3 mantissa bits
            else:
                out[key] = w
        save_file(out, str(release / name), metadata={"format": "pt"})
        save_file({**tensors, **{k: v for k, v in expected.items() if k in tensors}},
                  str(tmp_path / "dequantised" / name), metadata={"format": "pt"})
        weight_map.update({k: name for k in out})
    for file in ("config.json", "model.safetensors.index.json"):
        shutil.copy(tmp_path / "bf" / file, tmp_path / "dequantised")
    json.dump({"metadata": {}, "weight_map": weight_map}, open(release / "model.safetensors.index.json", "w"))
    config = json.load(open(tmp_path / "bf" / "config.json"))
    config["quantization_config"] = {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                     "weight_block_size": [128, 128]}
    json.dump(config, open(release / "config.json", "w"))
    assert sum(k.endswith("_scale_inv") for k in weight_map) == len(expected) > 20
    with HfCheckpoint(str(release)) as ckpt:  # a 160 x 192 weight: 2 x 2 blocks, the edge ones partial
        assert tuple(ckpt.raw("model.layers.1.self_attn.q_a_proj.weight_scale_inv").shape) == (2, 2)

    imported, report = import_dir(release)
    assert report["fresh"] == []
    with HfCheckpoint(str(release)) as ckpt:
        for key, want in expected.items():
            assert torch.equal(ckpt.get(key), want), key
    # Each imported weight is the dequantised one, put where it belongs (experts stacked, MTP at mtp.0).
    from model.hf import hf_tensors

    state = imported.state_dict()
    for t in hf_tensors(imported.args):
        if t.key in expected:
            got = state[t.source][t.expert] if t.expert is not None else state[t.source]
            assert torch.equal(got, expected[t.key]), t.key
    # And it computes what transformers computes from the dequantised weights, MTP included.
    from tests.interop.test_export import hf_mtp_logits, load_hf

    hf = load_hf(str(tmp_path / "dequantised"))
    with torch.no_grad():
        assert max_diff(imported(TOKENS).logits, hf(TOKENS).logits) < 1e-5
    assert max_diff(imported.mtp_logits(TOKENS)[0], hf_mtp_logits(hf, imported, TOKENS)) < 1e-5


def test_fp8_scale_of_the_wrong_shape_is_refused(tmp_path):
    from model.hf import dequantize_blocks

    q, scale = quantize_blocks(torch.randn(200, 130))
    assert torch.equal(dequantize_blocks(q, scale), dequantize_by_tile(q, scale))
    with pytest.raises(UserError, match=r"weight_scale_inv is \(1, 2\), expected \(2, 2\)"):
        dequantize_blocks(q, scale[:1])


# -- what the import refuses --------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    ({"rope_scaling": {"type": "yarn", "factor": 40, "mscale": 1.0, "mscale_all_dim": 0.707}}, "must be equal"),
    ({"rope_scaling": {"type": "linear", "factor": 2}}, "rope type 'linear'"),
    ({"hidden_act": "gelu"}, "hidden_act 'gelu'"),
    ({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}, "not a DeepSeek-V2/V3 checkpoint"),
    ({"scoring_func": "softmax"}, "scoring_func 'softmax'"),
])
def test_configs_our_model_would_run_differently_are_refused(change, message):
    from model.hf import hf_config

    config = {**hf_config(random_model("tiny").args), **change}
    with pytest.raises(UserError, match=message):
        args_from_hf_config(config)


def test_unknown_or_misshapen_tensors_are_refused(tmp_path, transformers):
    from safetensors.torch import load_file, save_file

    hf_model("v3").save_pretrained(tmp_path / "hf")
    path = str(tmp_path / "hf" / "model.safetensors")
    state = load_file(path)
    save_file({**state, "model.layers.0.mlp.surprise.weight": torch.zeros(2)}, path)
    with pytest.raises(UserError, match="no place for: model.layers.0.mlp.surprise.weight"):
        import_dir(tmp_path / "hf")
    state["model.norm.weight"] = torch.ones(65)
    save_file(state, path)
    with pytest.raises(UserError, match=r"model.norm.weight has shape \(65,\), the config gives \(64,\)"):
        import_dir(tmp_path / "hf")


# -- deepcorpus train --init-from -------------------------------------------------------------------


@pytest.fixture
def hf_dir(tmp_path, transformers, tokenizer_file):
    """A transformers-written V3 checkpoint with our test tokenizer as its tokenizer.json."""
    hf_model("v3").save_pretrained(tmp_path / "hf")
    shutil.copy(tokenizer_file, tmp_path / "hf" / "tokenizer.json")
    return str(tmp_path / "hf")


def shards_for(path, tokenizer_hash: str) -> str:
    from tests.train.shards import pattern_rows, write_shards

    return write_shards(path, pattern_rows(64, 16, 300), seq_len=16, vocab_size=300, tokenizer_hash=tokenizer_hash)


def train(*argv) -> int:
    from deepcorpus.cli import main

    return main(["train", "--batch-size", "4", "--loader-workers", "0", "--log-every", "1", *argv])


def test_train_init_from_a_transformers_checkpoint_starts_from_its_weights_and_trains_on(hf_dir, tmp_path):
    from deepcorpus.core.metrics import read_metrics
    from train.checkpoint import load_for_inference

    shards = shards_for(tmp_path / "tokens", sha256(os.path.join(hf_dir, "tokenizer.json")))
    imported, report = import_dir(hf_dir)
    # A vanishing learning rate: the run's first checkpoint holds the imported weights (AdamW moves each
    # by about lr; the router biases take their aux-loss-free step, which is not a gradient step).
    assert train("--init-from", hf_dir, "--data", shards, "--output", str(tmp_path / "still"), "--steps", "1",
                 "--lr", "1e-12", "--warmup-steps", "0") == 0
    still, args, tokenizer = load_for_inference(str(tmp_path / "still"))
    assert args == imported.args and tokenizer == os.path.join(hf_dir, "tokenizer.json")
    for key, value in imported.state_dict().items():
        if not key.endswith("gate.bias") and key not in report["fresh"]:
            torch.testing.assert_close(still.state_dict()[key], value, rtol=0, atol=1e-9, msg=key)
    # Trained on: the loss of the imported model on this data falls, and --resume continues the run.
    run = str(tmp_path / "run")
    assert train("--init-from", hf_dir, "--data", shards, "--output", run, "--steps", "4", "--lr", "3e-3",
                 "--warmup-steps", "0", "--schedule", "constant") == 0
    first = [r["loss"] for r in read_metrics(run)]
    assert len(first) == 4 and first[-1] < first[0]
    assert train("--data", shards, "--output", run, "--steps", "6", "--resume") == 0
    assert [r["step"] for r in read_metrics(run)][-2:] == [5, 6]
    with open(os.path.join(run, "config.toml")) as f:
        assert f'init_from = "{hf_dir}"' in f.read()


def test_init_from_refuses_shards_of_another_tokenizer(hf_dir, tmp_path, tokenizer_file, capsys):
    from pipelines.tokenize.tokenizer import save_tokenizer, train_tokenizer

    other = str(tmp_path / "other.json")
    save_tokenizer(train_tokenizer([t.upper() for t in TEXTS], vocab_size=290, min_frequency=1), other)
    cases = [(shards_for(tmp_path / "a", "ab" * 32), [], "were made with tokenizer abababababab"),
             (shards_for(tmp_path / "b", sha256(other)), ["--tokenizer", other], "is another tokenizer than")]
    for shards, extra, message in cases:
        assert train("--init-from", hf_dir, "--data", shards, "--output", str(tmp_path / "r"), "--steps", "1",
                     *extra) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert not os.path.exists(tmp_path / "r" / "checkpoints")


def test_init_from_accepts_a_reserialised_copy_of_the_checkpoints_own_tokenizer(hf_dir, tmp_path):
    copy = str(tmp_path / "copy.json")
    data = json.load(open(os.path.join(hf_dir, "tokenizer.json")))
    json.dump(data, open(copy, "w"))  # same tokenizer, other bytes: another hash
    assert sha256(copy) != sha256(os.path.join(hf_dir, "tokenizer.json"))
    shards = shards_for(tmp_path / "tokens", sha256(copy))
    run = tmp_path / "run"
    assert train("--init-from", hf_dir, "--data", shards, "--output", str(run), "--steps", "1",
                 "--tokenizer", copy) == 0
    assert train("--init-from", hf_dir, "--data", shards, "--output", str(tmp_path / "r2"), "--steps", "1") == 2


def test_init_from_keeps_the_shapes_and_takes_other_overrides(hf_dir, tmp_path, capsys):
    shards = shards_for(tmp_path / "tokens", sha256(os.path.join(hf_dir, "tokenizer.json")))
    assert train("--init-from", hf_dir, "--data", shards, "--output", str(tmp_path / "a"), "--steps", "1",
                 "--model", "dim=128") == 2
    assert "would change the shape of its weights" in capsys.readouterr().err
    assert train("--init-from", hf_dir, "--data", shards, "--output", str(tmp_path / "b"), "--steps", "1",
                 "--model", "mtp_depth=0", "--model", "mtp_lambda=0.1") == 0
    from train.checkpoint import load_for_inference

    _, args, _ = load_for_inference(str(tmp_path / "b"))
    assert (args.mtp_depth, args.mtp_lambda, args.yarn) == (0, 0.1, True)


def test_context_extension_from_a_run_of_ours(tmp_path, tokenizer_file):
    """Pre-training with plain RoPE, then the same weights with YaRN over a longer window."""
    from train.checkpoint import load_for_inference

    shards = shards_for(tmp_path / "tokens", sha256(tokenizer_file))
    base = str(tmp_path / "base")
    assert train("--preset", "tiny", "--model", "vocab_size=300", "--data", shards, "--output", base,
                 "--steps", "2", "--tokenizer", tokenizer_file) == 0
    long = str(tmp_path / "long")
    assert train("--init-from", base, "--data", shards, "--output", long, "--steps", "1", "--lr", "1e-12",
                 "--warmup-steps", "0", "--model", "yarn=true", "--model", "max_seq_len=2048",
                 "--model", "original_seq_len=512") == 0
    before, before_args, _ = load_for_inference(base)
    after, after_args, _ = load_for_inference(long)
    assert (before_args.yarn, after_args.yarn, after_args.max_seq_len) == (False, True, 2048)
    for key, value in before.state_dict().items():
        if not key.endswith("gate.bias"):
            torch.testing.assert_close(after.state_dict()[key], value, rtol=0, atol=1e-9, msg=key)
