"""An HF model directory through transformers' AutoModelForCausalLM, and through lm-evaluation-harness
with the task files `eval --lm-eval-tasks` writes: both measure the same bits per byte."""

import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from deepcorpus.cli import main
from tests.evaluation.conftest import arithmetic_docs, prose_docs, write_text_benchmark

pytestmark = pytest.mark.slow
transformers = pytest.importorskip("transformers", reason="the hf extra is not installed (pip install 'deepcorpus[hf]')")


@pytest.fixture(scope="module")
def hf_dir(tiny_run, tmp_path_factory):
    """A small DeepseekV3ForCausalLM (random weights) with the test tokenizer, saved as an HF directory."""
    import torch
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM, PreTrainedTokenizerFast

    from pipelines.tokenize.tokenizer import BOS, EOS, PAD

    out = tmp_path_factory.mktemp("hf") / "model"
    tok = PreTrainedTokenizerFast(tokenizer_file=tiny_run["tokenizer"], bos_token=BOS, eos_token=EOS, pad_token=PAD)
    cfg = DeepseekV3Config(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, n_shared_experts=1, n_routed_experts=4, num_experts_per_tok=2,
        n_group=1, topk_group=1, first_k_dense_replace=1, q_lora_rank=32, kv_lora_rank=32, qk_nope_head_dim=16,
        qk_rope_head_dim=8, v_head_dim=16, max_position_embeddings=256, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    DeepseekV3ForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_bench")
    return write_text_benchmark(root / "mixed.jsonl", arithmetic_docs(4, 7) + prose_docs(4, 8))


def hand_bpb(hf_dir, path) -> float:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(hf_dir)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    bits = nbytes = 0.0
    for line in open(path):
        text = json.loads(line)["text"]
        ids = [tok.eos_token_id] + tok(text, add_special_tokens=False).input_ids  # it adds no BOS: EOS starts
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), dim=-1)
        bits -= sum(float(logp[t - 1, ids[t]]) for t in range(1, len(ids))) / math.log(2)
        nbytes += len(text.encode())
    return bits / nbytes


def test_an_hf_directory_evaluates_like_a_hand_computation(hf_dir, texts, tmp_path, one_torch_thread):
    out = tmp_path / "eval"
    assert main(["eval", hf_dir, "--benchmark", texts, "--output", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["model_info"]["kind"] == "hf" and results["model_info"]["architecture"] == "DeepseekV3ForCausalLM"
    assert results["benchmarks"]["mixed"]["scores"]["bpb"]["value"] == pytest.approx(hand_bpb(hf_dir, texts), rel=1e-4)


def test_lm_eval_scores_the_same_bits_per_byte(hf_dir, texts, tmp_path):
    if shutil.which("lm_eval", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("lm-evaluation-harness is not installed (pip install 'deepcorpus[lm-eval]')")
    tasks = tmp_path / "tasks"
    assert main(["eval", hf_dir, "--benchmark", texts, "--lm-eval-tasks", str(tasks)]) == 0
    ours = tmp_path / "ours"
    assert main(["eval", hf_dir, "--benchmark", texts, "--output", str(ours)]) == 0
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "lm_eval"), "--model", "hf", "--model_args",
                           f"pretrained={hf_dir},dtype=float32", "--include_path", str(tasks), "--tasks",
                           "deepcorpus_mixed_bpb", "--batch_size", "4", "--output_path", str(tmp_path / "lm_out")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = [json.loads(p.read_text()) for p in (tmp_path / "lm_out").rglob("results_*.json")]
    theirs = found[0]["results"]["deepcorpus_mixed_bpb"]["bits_per_byte,none"]
    mine = json.loads((ours / "results.json").read_text())["benchmarks"]["mixed"]["scores"]["bpb"]["value"]
    assert theirs == pytest.approx(mine, rel=1e-3)


def test_an_exported_checkpoint_evaluates_without_transformers_load_report(tiny_run, texts, tmp_path):
    """Our export carries the multi-token-prediction layer, which transformers does not use; its load
    report (a line per tensor, UNEXPECTED) and progress bar are noise a user should not see."""
    exported = tmp_path / "hf"
    assert main(["export", tiny_run["run"], "--format", "hf", "--output", str(exported)]) == 0
    proc = subprocess.run([sys.executable, "-m", "deepcorpus", "eval", str(exported), "--benchmark", texts,
                           "--output", str(tmp_path / "eval")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "UNEXPECTED" not in proc.stderr and "Loading weights" not in proc.stderr, proc.stderr[-2000:]
    assert json.loads((tmp_path / "eval" / "results.json").read_text())["benchmarks"]["mixed"]["scores"]["bpb"]["value"] > 0
