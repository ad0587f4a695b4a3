"""Small real inputs for the post-training tests: a tokenizer, a `tiny` checkpoint, the addition task.

The task is the demo's (deepcorpus.demo.write_addition_task): sums of two one-digit numbers in
DeepSeek-R1's <think>/<answer> format. The base checkpoint is a freshly initialised `tiny` model saved
by the trainer's checkpoint writer; the SFT run on it is made once per session (shared by the xdist
workers) for the GRPO tests.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import session_dir

SFT_STEPS = 200


def make_tokenizer(path: str, texts: list[str]) -> str:
    from pipelines.tokenize.tokenizer import save_tokenizer, train_tokenizer

    save_tokenizer(train_tokenizer(texts * 3, vocab_size=300, min_frequency=1), path)
    return path


def save_base(run_dir: str, tokenizer: str, max_seq_len: int = 128, seed: int = 0, **overrides) -> str:
    """A freshly initialised `tiny` model, saved as a run of ours (step 0) that names its tokenizer."""
    import torch

    from model import Transformer, get_preset
    from pipelines.tokenize.tokenizer import load_tokenizer, tokenizer_hash, vocab_size
    from train.checkpoint import save_checkpoint

    torch.manual_seed(seed)
    args = get_preset("tiny", vocab_size=vocab_size(load_tokenizer(tokenizer)), max_seq_len=max_seq_len, **overrides)
    model = Transformer(args)
    save_checkpoint(run_dir, 0, model_state=model.state_dict(), optimizer_state={},
                    trainer_state={"step": 0, "tokenizer": tokenizer, "tokenizer_hash": tokenizer_hash(tokenizer)},
                    config_toml="", model_args=args.to_dict(), keep=1)
    return run_dir


def _task_texts(sft: str) -> list[str]:
    with open(sft) as f:
        rows = [json.loads(line) for line in f]
    return [r["prompt"] + r["completion"] for r in rows[:300]]


@pytest.fixture(scope="session")
def task(tmp_path_factory):
    """The addition task's files, a tokenizer trained on them and a base checkpoint (once per session)."""
    from deepcorpus.demo import write_addition_task

    with session_dir(tmp_path_factory, "posttrain_task") as root:
        done = root / "DONE"
        paths = {"root": str(root), "sft": str(root / "sft.jsonl"), "prompts": str(root / "prompts.jsonl"),
                 "tokenizer": str(root / "tokenizer.json"), "base": str(root / "base")}
        if not done.exists():
            root.mkdir(exist_ok=True)
            write_addition_task(str(root))
            make_tokenizer(paths["tokenizer"], _task_texts(paths["sft"]))
            save_base(paths["base"], paths["tokenizer"])
            done.write_text("ok")
        return paths


@pytest.fixture(scope="session")
def sft_run(task, tmp_path_factory):
    """The base model after a short SFT on the task (loss on the completions), once per session."""
    from deepcorpus.cli import main

    with session_dir(tmp_path_factory, "posttrain_sft") as root:
        run = root / "run"
        if not (run / "summary.json").exists():
            code = main(["sft", "--init-from", task["base"], "--data", task["sft"], "--steps", str(SFT_STEPS),
                         "--batch-size", "16", "--seq-len", "96", "--lr", "3e-3", "--warmup-steps", "10",
                         "--model", "mtp_depth=0", "--log-every", "40", "--cpu-threads", "1", "--output", str(run)])
            assert code == 0
        return str(run)


def read_jsonl(path) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def quick_sft(task, tmp_path_factory):
    """A few SFT steps: the format is partly learnt, the sums hardly at all, so rewards vary within groups."""
    from deepcorpus.cli import main

    with session_dir(tmp_path_factory, "posttrain_quick_sft") as root:
        run = root / "run"
        if not (run / "summary.json").exists():
            code = main(["sft", "--init-from", task["base"], "--data", task["sft"], "--steps", "25", "--batch-size", "8",
                         "--seq-len", "96", "--lr", "5e-3", "--warmup-steps", "5", "--model", "mtp_depth=0",
                         "--log-every", "25", "--cpu-threads", "1", "--output", str(run)])
            assert code == 0
        return str(run)
