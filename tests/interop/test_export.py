"""`deepcorpus export --format hf`: what transformers loads from the export computes what our model
computes (logits and MTP logits), in DeepSeek's key layout, shard by shard, with a tokenizer that
AutoTokenizer runs exactly as ours."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from interop.export import export_hf, parse_size
from tests.interop.conftest import TEXTS, quiet_transformers, random_model, save_run, sha256

TOKENS = torch.randint(0, 300, (2, 40), generator=torch.Generator().manual_seed(1))


def export(tmp_path, model, name="out", **kw):
    run = save_run(tmp_path / f"run-{name}", model)
    kw.setdefault("with_tokenizer", False)
    kw.setdefault("dtype", "fp32")
    summary = export_hf(run, str(tmp_path / name), **kw)
    return str(tmp_path / name), summary


def load_hf(path, **kw):
    from transformers import AutoModelForCausalLM

    quiet_transformers()
    return AutoModelForCausalLM.from_pretrained(path, **kw).eval()


def hf_mtp_logits(hf, model, tokens):
    """Depth-1 MTP logits from transformers' own MtpModel, loading the exported layer n_layers."""
    from transformers.modeling_layers import MtpModel

    # transformers looks for V3's MTP layer at 61 (the release's depth); ours sits at n_layers.
    hf._keys_to_ignore_on_load_unexpected = [rf"model\.layers\.{model.args.n_layers}\..*"]
    mtp = MtpModel.from_pretrained(hf).eval()
    T = tokens.shape[1]
    with torch.no_grad():
        hidden = hf(tokens, output_hidden_states=True).hidden_states[-1]  # after the final norm
        h = mtp.forward_layer(0, hidden[:, :-1], torch.arange(T - 1)[None], None, input_ids=tokens[:, 1:])
        return mtp._project_to_logits(h)


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()


def test_a_tiny_model_loads_as_deepseek_v3_with_the_same_logits_and_mtp_logits(tmp_path, transformers):
    model = random_model("tiny")
    path, summary = export(tmp_path, model)
    hf = load_hf(path)
    assert type(hf).__name__ == "DeepseekV3ForCausalLM" and summary["architecture"] == "DeepseekV3ForCausalLM"
    with torch.no_grad():
        ours, theirs = model(TOKENS).logits, hf(TOKENS).logits
    assert ours.abs().max() > 1  # not vanishing numbers: a wrong key or layout would show
    assert max_diff(ours, theirs) < 1e-5  # float32 round-off (measured 2.1e-6 at |logit| 3.8)
    (mtp_ours,) = model.mtp_logits(TOKENS)
    mtp_theirs = hf_mtp_logits(hf, model, TOKENS)
    assert mtp_ours.shape == mtp_theirs.shape == (2, 39, 300)
    assert max_diff(mtp_ours, mtp_theirs) < 1e-5  # measured 1.8e-6


def test_transformers_generate_on_the_export_continues_as_our_generate(tmp_path, transformers):
    """Greedy decoding through transformers' MLA cache picks the tokens our absorbed-cache decode picks."""
    from model import generate

    model = random_model("tiny")
    path, _ = export(tmp_path, model)
    hf = load_hf(path)
    prompt = TOKENS[:1, :9]
    ours = generate(model, prompt[0].tolist(), max_new_tokens=12)
    with torch.no_grad():
        theirs = hf.generate(prompt, max_new_tokens=12, do_sample=False, pad_token_id=0)
    assert torch.as_tensor(ours).tolist() == theirs[0].tolist() and len(theirs[0]) == 21


def test_in_float64_with_transformers_float32_casts_redirected_the_logits_agree_to_1e_12(tmp_path, transformers,
                                                                                         monkeypatch):
    from transformers.models.deepseek_v3 import modeling_deepseek_v3

    from model.transformer import rope_frequencies

    class Float64Torch:
        """torch, except that float32 (RMSNorm, router, RoPE frequencies) means float64."""

        def __getattr__(self, name):
            return torch.float64 if name in ("float32", "float") else getattr(torch, name)

    monkeypatch.setattr(modeling_deepseek_v3, "torch", Float64Torch())
    model = random_model("tiny")
    path, _ = export(tmp_path, model)
    hf = load_hf(path, dtype=torch.float64, experts_implementation="eager")  # grouped_mm has no float64
    model = model.double()
    angles = torch.outer(torch.arange(model.args.max_seq_len, dtype=torch.float64), rope_frequencies(model.args))
    model.rope.cos, model.rope.sin = angles.cos(), angles.sin()  # our tables are stored in float32
    with torch.no_grad():
        ours, theirs = model(TOKENS).logits, hf(TOKENS).logits
    assert ours.dtype == theirs.dtype == torch.float64
    assert max_diff(ours, theirs) < 1e-12  # measured 4e-15


@pytest.mark.parametrize("overrides", [
    {"n_groups": 2, "topk_groups": 1},  # group-limited greedy, low-rank queries
    {"n_groups": 1, "topk_groups": 1, "q_lora_rank": 0, "route_scale": 1.5},  # V2-Lite's shape: greedy, full q
], ids=["group-limited", "greedy"])
def test_softmax_routing_exports_as_deepseek_v2(tmp_path, transformers, overrides):
    model = random_model("tiny", score_func="softmax", norm_topk_prob=False, mtp_depth=0, bias_update_speed=0.0,
                         **overrides)
    path, _ = export(tmp_path, model)
    config = json.load(open(os.path.join(path, "config.json")))
    assert config["model_type"] == "deepseek_v2" and config["scoring_func"] == "softmax"
    assert config["topk_method"] == ("group_limited_greedy" if overrides["n_groups"] > 1 else "greedy")
    hf = load_hf(path)
    assert type(hf).__name__ == "DeepseekV2ForCausalLM"
    with torch.no_grad():
        assert max_diff(model(TOKENS).logits, hf(TOKENS).logits) < 1e-5  # measured 2.6e-6


def test_a_softmax_router_with_a_learnt_bias_is_refused(tmp_path):
    from deepcorpus.core.errors import UserError

    model = random_model("tiny", score_func="softmax", mtp_depth=0)
    with torch.no_grad():
        model.layers[1].ffn.gate.bias.fill_(0.1)
    with pytest.raises(UserError, match="non-zero.*DeepseekV2"):
        export(tmp_path, model)
    assert not os.path.exists(tmp_path / "out")


def test_yarn_context_extension_exports_as_rope_scaling_with_the_same_logits(tmp_path, transformers):
    model = random_model("tiny", yarn=True, max_seq_len=1024, original_seq_len=64, qk_rope_head_dim=32,
                         rope_factor=16, mscale=0.707)
    path, _ = export(tmp_path, model)
    config = json.load(open(os.path.join(path, "config.json")))
    assert config["rope_scaling"] == {"type": "yarn", "factor": 16, "original_max_position_embeddings": 64,
                                      "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}
    assert config["max_position_embeddings"] == 1024
    hf = load_hf(path)
    tokens = torch.randint(0, 300, (1, 200), generator=torch.Generator().manual_seed(2))  # past the original 64
    with torch.no_grad():
        assert max_diff(model(tokens).logits, hf(tokens).logits) < 1e-5
    assert max_diff(model.mtp_logits(tokens)[0], hf_mtp_logits(hf, model, tokens)) < 1e-5


@pytest.mark.slow
def test_the_small_preset_round_trips(tmp_path, transformers):
    # small's shape (full-rank queries, 24 experts in 4 groups, route scale 2.5), shortened to 3 layers.
    model = random_model("small", vocab_size=512, n_layers=3)
    path, summary = export(tmp_path, model, max_shard_bytes=parse_size("8MB"))
    assert summary["shards"] > 1
    hf = load_hf(path)
    tokens = torch.randint(0, 512, (2, 64), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ours, theirs = model(tokens).logits, hf(tokens).logits
    assert max_diff(ours, theirs) < 1e-5 * max(1.0, ours.abs().max().item())
    assert max_diff(model.mtp_logits(tokens)[0], hf_mtp_logits(hf, model, tokens)) < 1e-5 * max(
        1.0, ours.abs().max().item())


def test_bf16_export_is_the_model_rounded_to_bf16_with_the_router_in_fp32(tmp_path, transformers):
    from safetensors import safe_open

    model = random_model("tiny")
    path, summary = export(tmp_path, model, dtype="bf16")
    config = json.load(open(os.path.join(path, "config.json")))
    assert config["torch_dtype"] == "bfloat16" and summary["dtype"] == "bf16"
    dtypes = {}
    for name in set(json.load(open(os.path.join(path, "model.safetensors.index.json")))["weight_map"].values()):
        with safe_open(os.path.join(path, name), "pt") as f:
            dtypes.update({k: f.get_slice(k).get_dtype() for k in f.keys()})
    router = {k for k in dtypes if ".mlp.gate." in k}
    assert router and {dtypes[k] for k in router} == {"F32"}
    assert {v for k, v in dtypes.items() if k not in router} == {"BF16"}
    # Our model with its weights rounded the same way computes what transformers computes from the files.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".gate." not in name:
                p.copy_(p.bfloat16().float())
    hf = load_hf(path, dtype=torch.float32)
    with torch.no_grad():
        assert max_diff(model(TOKENS).logits, hf(TOKENS).logits) < 1e-5


def test_the_keys_are_the_layout_transformers_itself_saves_plus_v3s_mtp_layer(tmp_path, transformers):
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

    model = random_model("tiny")
    path, summary = export(tmp_path, model)
    index = json.load(open(os.path.join(path, "model.safetensors.index.json")))
    ours = set(index["weight_map"])
    config = DeepseekV3Config(**{k: v for k, v in json.load(open(os.path.join(path, "config.json"))).items()
                                 if k not in ("architectures", "model_type", "torch_dtype")})
    quiet_transformers()
    DeepseekV3ForCausalLM(config).save_pretrained(tmp_path / "theirs")
    from safetensors import safe_open

    with safe_open(str(tmp_path / "theirs" / "model.safetensors"), "pt") as f:
        theirs = set(f.keys())
    n = model.args.n_layers
    main = {k for k in ours if not k.startswith(f"model.layers.{n}.")}
    assert main == theirs
    mtp = {k.removeprefix(f"model.layers.{n}.") for k in ours - main}
    # V3's release stores the MTP module as one more decoder layer with these extras.
    for extra in ("embed_tokens.weight", "enorm.weight", "hnorm.weight", "eh_proj.weight", "shared_head.norm.weight",
                  "shared_head.head.weight", "mlp.gate.e_score_correction_bias", "mlp.experts.7.down_proj.weight",
                  "self_attn.kv_a_proj_with_mqa.weight"):
        assert extra in mtp, extra
    assert {k.removeprefix("model.layers.1.") for k in theirs if k.startswith("model.layers.1.")} <= mtp
    sizes = 0
    for name in set(index["weight_map"].values()):
        with safe_open(os.path.join(path, name), "pt") as f:
            sizes += sum(f.get_tensor(k).nbytes for k in f.keys())
    assert index["metadata"]["total_size"] == sizes == summary["total_bytes"]


def test_a_sharded_checkpoint_exports_the_same_tensors_shard_by_shard(tmp_path, transformers):
    from safetensors.torch import load_file

    from train.checkpoint import save_checkpoint

    model = random_model("tiny")
    full, summary = export(tmp_path, model, name="full", max_shard_bytes=200_000)
    # The trainer's sharded format: torch.distributed.checkpoint files (here from one process).
    save_checkpoint(str(tmp_path / "dcp-run"), 5, model_state=None, optimizer_state=None, trainer_state={"step": 5},
                    config_toml="", model_args=model.args.to_dict(), keep=1,
                    sharded_state={"model": model.state_dict(), "optimizer": {}})
    assert os.path.isdir(tmp_path / "dcp-run" / "checkpoints" / "step_00000005" / "sharded")
    export_hf(str(tmp_path / "dcp-run"), str(tmp_path / "dcp"), dtype="fp32", with_tokenizer=False,
              max_shard_bytes=200_000)
    names = sorted(f for f in os.listdir(full) if f.endswith(".safetensors"))
    assert len(names) == summary["shards"] > 5 and names == sorted(f for f in os.listdir(tmp_path / "dcp")
                                                                   if f.endswith(".safetensors"))
    largest = max(p.numel() * 4 for p in model.state_dict().values() if p.dim() < 3)  # stacked experts are split
    for name in names:
        a, b = load_file(os.path.join(full, name)), load_file(str(tmp_path / "dcp" / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert os.path.getsize(os.path.join(full, name)) <= max(200_000, largest) + 16_384  # + the JSON header
    with torch.no_grad():
        assert max_diff(model(TOKENS).logits, load_hf(str(tmp_path / "dcp"))(TOKENS).logits) < 1e-5


_PEAK_PROBE = r"""
import sys, interop.export as ex
warm_run, run, out = sys.argv[1:4]
ex.export_hf(warm_run, out + "/warm", dtype="fp32", with_tokenizer=False)  # imports and first-use allocations
def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
base, peak, write = anon(), [0], ex._write_shard
def probe(*a, **k):
    n = write(*a, **k)
    peak[0] = max(peak[0], anon() - base)
    return n
ex._write_shard = probe
s = ex.export_hf(run, out + "/hf", dtype="fp32", with_tokenizer=False, max_shard_bytes=1_000_000)
print(peak[0], s["total_bytes"], s["shards"])
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads RssAnon from /proc (Linux)")
def test_export_memory_stays_flat_as_the_model_grows_8x(tmp_path):
    """The same export at N and 8N layers, each in a fresh process: the anonymous memory the export
    adds (not the page cache of the memory-mapped model.pt) is about a shard either way."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    warm = save_run(tmp_path / "warm", random_model("tiny", n_layers=1, dim=256, mtp_depth=0))
    results = {}
    for layers in (3, 24):
        run = save_run(tmp_path / f"run{layers}", random_model("tiny", n_layers=layers, dim=256, mtp_depth=0))
        proc = subprocess.run([sys.executable, "-c", _PEAK_PROBE, warm, run, str(tmp_path / f"out{layers}")],
                              capture_output=True, text=True, cwd=root, timeout=300,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert proc.returncode == 0, proc.stderr[-3000:]
        results[layers] = tuple(map(int, proc.stdout.split()[-3:]))
    (small_peak, small_total, _), (big_peak, big_total, big_shards) = results[3], results[24]
    assert big_total > 6 * small_total and big_shards > 20, results
    assert big_peak < small_peak + 3_000_000, results  # a shard is 1 MB; the model grew by 22 MB
    assert big_peak < big_total / 4, results


# -- the tokenizer ------------------------------------------------------------------------------------


SPECIAL_TEXTS = ["literal <｜end▁of▁sentence｜> and <｜fim▁hole｜> in a document", "<｜begin▁of▁sentence｜>x", ""]


def test_autotokenizer_encodes_exactly_as_our_tokenizer(tmp_path, transformers, tokenizer_file):
    from transformers import AutoTokenizer

    from pipelines.tokenize.tokenizer import load_tokenizer, special_ids

    model = random_model("tiny")
    run = save_run(tmp_path / "run", model, tokenizer=tokenizer_file)
    export_hf(run, str(tmp_path / "out"), dtype="fp32")
    assert sha256(tmp_path / "out" / "tokenizer.json") == sha256(tokenizer_file)  # the shards' hash still holds
    ours = load_tokenizer(tokenizer_file)
    theirs = AutoTokenizer.from_pretrained(str(tmp_path / "out"))
    for text in TEXTS[:5] + SPECIAL_TEXTS + ["unseen: Ωμέγα ☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \r\n\r\n 0.000001"]:
        ids = ours.encode(text).ids
        assert theirs(text)["input_ids"] == ids, text
        assert theirs.decode(ids) == text
    ids = special_ids(ours)
    assert (theirs.bos_token_id, theirs.eos_token_id, theirs.pad_token_id) == (ids.bos, ids.eos, ids.pad)
    config = json.load(open(tmp_path / "out" / "config.json"))
    generation = json.load(open(tmp_path / "out" / "generation_config.json"))
    assert (config["bos_token_id"], config["eos_token_id"], config["pad_token_id"]) == (ids.bos, ids.eos, ids.pad)
    assert generation == {"bos_token_id": ids.bos, "eos_token_id": ids.eos, "pad_token_id": ids.pad}


def test_a_run_tokenized_with_bos_exports_a_tokenizer_that_adds_it(tmp_path, transformers, tokenizer_file):
    from transformers import AutoTokenizer

    from pipelines.tokenize.tokenizer import load_tokenizer, special_ids

    run = save_run(tmp_path / "run", random_model("tiny"), tokenizer=tokenizer_file, add_bos=True)
    export_hf(run, str(tmp_path / "out"), dtype="fp32")
    ours, theirs = load_tokenizer(tokenizer_file), AutoTokenizer.from_pretrained(str(tmp_path / "out"))
    bos = special_ids(ours).bos
    for text in TEXTS[:5] + SPECIAL_TEXTS[:1]:
        ids = ours.encode(text, add_special_tokens=False).ids
        assert theirs(text)["input_ids"] == [bos, *ids]
        assert theirs(text, add_special_tokens=False)["input_ids"] == ids


# -- the command ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tokenizer_file):
    from deepcorpus.cli import main
    from tests.train.shards import pattern_rows, write_shards

    root = tmp_path_factory.mktemp("cli")
    shards = write_shards(root / "tokens", pattern_rows(64, 16, 300), seq_len=16, vocab_size=300,
                          tokenizer_hash=sha256(tokenizer_file))
    run = root / "run"
    assert main(["train", "--preset", "tiny", "--data", shards, "--output", str(run), "--steps", "2",
                 "--batch-size", "4", "--loader-workers", "0", "--tokenizer", tokenizer_file]) == 0
    return str(run)


def test_deepcorpus_export_writes_a_directory_transformers_loads(trained_run, tmp_path, transformers, capsys):
    from deepcorpus.cli import main
    from train.checkpoint import load_for_inference

    out = str(tmp_path / "hf")
    assert main(["export", trained_run, "--format", "hf", "--output", out, "--dtype", "fp32"]) == 0
    printed = capsys.readouterr().out
    assert "vllm serve" in printed and "lm_eval" in printed
    assert sorted(os.listdir(out)) == sorted(["config.json", "deepcorpus.json", "generation_config.json",
                                              "model-00001-of-00001.safetensors", "model.safetensors.index.json",
                                              "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"])
    info = json.load(open(os.path.join(out, "deepcorpus.json")))
    assert info["step"] == 2 and info["command"][:2] == ["deepcorpus", "export"]
    ours, _, _ = load_for_inference(trained_run)
    tokens = torch.randint(0, 300, (1, 16))
    with torch.no_grad():
        assert max_diff(ours(tokens).logits, load_hf(out)(tokens).logits) < 1e-5


def test_export_refuses_what_it_cannot_do_without_touching_anything(trained_run, tmp_path, capsys):
    from deepcorpus.cli import main

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    cases = [
        (["--output", str(taken)], "exists and is not empty"),
        (["--output", str(tmp_path / "a"), "--step", "999"], "no checkpoint for step 999"),
        (["--output", str(tmp_path / "b"), "--tokenizer", str(taken / "notes.txt")], "is not the one the run's shards"),
        (["--output", str(tmp_path / "c"), "--max-shard-size", "lots"], "--max-shard-size"),
    ]
    for extra, message in cases:
        assert main(["export", trained_run, "--format", "hf", *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert (taken / "notes.txt").read_text() == "mine" and os.listdir(taken) == ["notes.txt"]
    assert not any(os.path.exists(tmp_path / n) for n in ("a", "b", "c", "a.partial", "b.partial"))


def test_parse_size():
    assert parse_size("5GB") == 5 * 10**9 and parse_size("2GiB") == 2 * 2**30 and parse_size("500mb") == 5 * 10**8
    assert parse_size("1234") == 1234


def test_an_unfinished_export_of_ours_is_cleared_and_anything_else_kept(tmp_path):
    from deepcorpus.core.errors import UserError
    from interop.export import MARKER

    model = random_model("tiny")
    run = save_run(tmp_path / "run", model)
    (tmp_path / "out.partial").mkdir()
    (tmp_path / "out.partial" / "x").write_text("someone's")
    with pytest.raises(UserError, match="not left by an export"):
        export_hf(run, str(tmp_path / "out"), with_tokenizer=False)
    assert (tmp_path / "out.partial" / "x").read_text() == "someone's"
    (tmp_path / "out.partial" / MARKER).write_text("")  # as a crashed export leaves it
    export_hf(run, str(tmp_path / "out"), with_tokenizer=False)
    assert not os.path.exists(tmp_path / "out.partial") and os.path.isfile(tmp_path / "out" / "config.json")
