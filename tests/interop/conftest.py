"""Interop tests run torch on one thread; transformers (the `hf` extra) is what they check against."""

from __future__ import annotations

import hashlib
import os

import pytest
import torch

from model import Transformer, get_preset
from train.checkpoint import save_checkpoint

# Everything these tests load is made here: the hub is never asked (set before transformers is imported).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEXTS = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "The 2024 report: 12345 tokens, 3.14159 and 中文字符 mixed with English.",
    "Let $x^2 + 2x + 1 = 0$. Then $(x+1)^2 = 0$, so $x = -1$.",
    "theorem add_comm (a b : Nat) : a + b = b + a := by\n  omega\n",
    "    indented\n\n\n\ttabs\t\tand  double  spaces   ",
] * 20


@pytest.fixture(autouse=True)
def _interop_on_one_thread(one_torch_thread):
    pass


@pytest.fixture(scope="session")
def transformers():
    return pytest.importorskip("transformers", reason="the hf extra (pip install -e '.[dev,hf]') is not installed")


def quiet_transformers():
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def randomised(model: Transformer, std: float = 0.1, seed: int = 0) -> Transformer:
    """Weights well away from their init: norms in [0.5, 1.5], matrices N(0, std), router biases
    N(0, 0.5) for sigmoid routers, so routing, the norms' placement and every projection matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)
        if model.args.score_func == "sigmoid":
            for gate in model.moe_gates().values():
                gate.bias.copy_(torch.randn(gate.bias.shape, generator=g) * 0.5)
    return model.eval()


def random_model(preset: str = "tiny", seed: int = 0, **overrides) -> Transformer:
    torch.manual_seed(seed)
    return randomised(Transformer(get_preset(preset, **{"vocab_size": 300, **overrides})), seed=seed)


def save_run(run_dir, model: Transformer, step: int = 5, tokenizer: str | None = None, **trainer) -> str:
    """A run directory holding one checkpoint of `model`, written by the trainer's checkpoint writer."""
    state = {"step": step, **trainer}
    if tokenizer:
        state.update(tokenizer=tokenizer, tokenizer_hash=sha256(tokenizer))
    save_checkpoint(str(run_dir), step, model_state=model.state_dict(), optimizer_state={}, trainer_state=state,
                    config_toml="", model_args=model.args.to_dict(), keep=3)
    return str(run_dir)


def sha256(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="session")
def tokenizer_file(tmp_path_factory) -> str:
    """A byte-level BPE trained by our tokenizer code on code, math, CJK and whitespace."""
    from pipelines.tokenize.tokenizer import save_tokenizer, train_tokenizer

    path = str(tmp_path_factory.mktemp("tok") / "tokenizer.json")
    save_tokenizer(train_tokenizer(TEXTS, vocab_size=300, min_frequency=1), path)
    return path
