"""`deepcorpus sft` end to end: train's loop, metrics, checkpoints and exact resume; bad input."""

import json
import os
import subprocess
import sys

import pytest
import torch

from deepcorpus.cli import main
from deepcorpus.core.metrics import read_metrics
from train.checkpoint import load_for_inference, newest_checkpoint

FAST = ["--batch-size", "4", "--seq-len", "48", "--lr", "3e-3", "--warmup-steps", "0", "--log-every", "10",
        "--cpu-threads", "1"]


def sft(task, run, *extra):
    return main(["sft", "--init-from", task["base"], "--data", task["sft"], "--output", str(run), *FAST, *extra])


def losses(run):
    return [r["loss"] for r in read_metrics(str(run))]


def test_sft_trains_checkpoints_and_resumes_exactly(task, tmp_path, one_torch_thread):
    assert sft(task, tmp_path / "full", "--steps", "4", "--checkpoint-every", "2") == 0
    full = losses(tmp_path / "full")
    assert len(full) == 4 and full[-1] < full[0]
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["kind"] == "sft" and summary["data"]["examples"] == 1000 and summary["steps"] == 4
    model, args, tokenizer = load_for_inference(str(tmp_path / "full"))
    assert tokenizer == task["tokenizer"] and args.mtp_depth == 1  # MTP trained on the completions too
    state = json.loads(open(os.path.join(newest_checkpoint(str(tmp_path / "full")), "trainer.json")).read())
    assert state["kind"] == "sft" and state["add_bos"] is False and state["loader"]["examples"] == 1000
    for r in read_metrics(str(tmp_path / "full")):
        assert r["mtp_loss"] is not None and r["tokens_seen"] > 0

    assert sft(task, tmp_path / "cut", "--steps", "2") == 0
    assert sft(task, tmp_path / "cut", "--steps", "4", "--checkpoint-every", "2", "--resume") == 0
    assert losses(tmp_path / "cut") == full  # exact float equality
    a = load_for_inference(str(tmp_path / "full"))[0].state_dict()
    b = load_for_inference(str(tmp_path / "cut"))[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_loss_counts_only_the_completions(task, tmp_path, one_torch_thread):
    """tokens_seen counts learnt targets: the completions and their EOS, never the prompts."""
    from pipelines.tokenize.tokenizer import load_tokenizer

    assert sft(task, tmp_path / "run", "--steps", "1", "--batch-size", "2", "--micro-batch-size", "2") == 0
    meta = json.loads((tmp_path / "run" / "sft_data" / "meta.json").read_text())["counts"]
    tok = load_tokenizer(task["tokenizer"])
    rows = [json.loads(line) for line in open(task["sft"])]
    learnt = sum(len(tok.encode(r["completion"], add_special_tokens=False).ids) + 1 for r in rows)
    everything = sum(1 + len(tok.encode(r["prompt"] + r["completion"], add_special_tokens=False).ids) + 1 for r in rows)
    assert meta["trained_tokens"] == learnt < everything


def test_a_run_with_checkpoints_needs_resume_and_bad_records_are_one_line(task, tmp_path, capsys):
    assert sft(task, tmp_path / "run", "--steps", "1") == 0
    capsys.readouterr()
    assert sft(task, tmp_path / "run", "--steps", "1") == 2
    assert "add --resume" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "1+1=", "completion": " 2"}\n{"prompt": "2+2="}\n')
    assert main(["sft", "--init-from", task["base"], "--data", str(bad), "--output", str(tmp_path / "b"), *FAST,
                 "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{bad}: record 2: needs `prompt` and `completion`" in err
    assert main(["sft", "--data", task["sft"], "--output", str(tmp_path / "c"), "--steps", "1"]) == 2
    assert "--init-from" in capsys.readouterr().err
    # A directory that is not an sft run of ours is never written into; its files stay as they were.
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "config.toml").write_text("mine")
    assert sft(task, foreign, "--steps", "1") == 2
    assert "not a deepcorpus sft run directory" in capsys.readouterr().err
    assert os.listdir(foreign) == ["config.toml"] and (foreign / "config.toml").read_text() == "mine"
    assert main(["grpo", "--init", task["base"], "--prompts", task["prompts"], "--output", str(tmp_path / "run"),
                 "--steps", "1"]) == 2  # an sft run is not a grpo one
    assert "a sft run directory, not a grpo one" in capsys.readouterr().err


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process(task, tmp_path):
    common = ["--steps", "3", "--batch-size", "4", "--micro-batch-size", "2", "--seq-len", "48", "--lr", "3e-3",
              "--warmup-steps", "0", "--log-every", "10"]
    assert main(["sft", "--init-from", task["base"], "--data", task["sft"], "--output", str(tmp_path / "one"),
                 "--cpu-threads", "1", *common]) == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "deepcorpus",
           "sft", "--init-from", task["base"], "--data", task["sft"], "--output", str(tmp_path / "two"),
           "--distributed", "ddp", *common]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert losses(tmp_path / "two") == pytest.approx(losses(tmp_path / "one"), rel=1e-5)


def test_chats_from_parquet_learn_the_assistant_turns(task, tmp_path, one_torch_thread):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.tokenize.tokenizer import load_tokenizer

    chats = [[{"role": "user", "content": f"{a}+{b}="}, {"role": "assistant", "content": str(a + b)},
              {"role": "user", "content": "and +1?"}, {"role": "assistant", "content": str(a + b + 1)}]
             for a in range(5) for b in range(4)]
    path = tmp_path / "chats.parquet"
    pq.write_table(pa.table({"messages": chats}), path)
    assert main(["sft", "--init-from", task["base"], "--data", str(path), "--output", str(tmp_path / "run"), *FAST,
                 "--steps", "2"]) == 0
    counts = json.loads((tmp_path / "run" / "summary.json").read_text())["data"]
    tok = load_tokenizer(task["tokenizer"])
    learnt = sum(len(tok.encode(" " + m["content"], add_special_tokens=False).ids) + 1  # DeepSeek LLM's " reply" + EOS
                 for chat in chats for m in chat if m["role"] == "assistant")
    assert counts["examples"] == 20 and counts["trained_tokens"] == learnt


def test_sft_starts_from_a_hugging_face_directory(task, tmp_path, one_torch_thread):
    """Our base exported as a Hugging Face directory (BOS added, as DeepSeek's tokenizers add it), then fine-tuned."""
    from interop.export import export_hf

    hf = tmp_path / "hf"
    export_hf(task["base"], str(hf), dtype="fp32", add_bos=True)
    assert main(["sft", "--init-from", str(hf), "--data", task["sft"], "--output", str(tmp_path / "run"), *FAST,
                 "--steps", "1"]) == 0
    state = json.loads(open(os.path.join(newest_checkpoint(str(tmp_path / "run")), "trainer.json")).read())
    assert state["add_bos"] is True and state["tokenizer"] == str(hf / "tokenizer.json")
    from pipelines.tokenize.tokenizer import load_tokenizer, special_ids
    from posttrain.sft_data import ExampleStore

    store = ExampleStore(str(tmp_path / "run" / "sft_data"))
    assert store.example(0)[0][0] == special_ids(load_tokenizer(state["tokenizer"])).bos  # examples begin with BOS
