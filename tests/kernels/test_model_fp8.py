"""The tiny DeepSeek-V3-style model converted to FP8 trains like the FP32 one (reference backend)."""

import copy

import pytest
import torch
from torch import nn

from model import Transformer, get_preset
from model.fp8 import FP8GroupedMM, FP8Linear, convert_to_fp8
from model.transformer import Experts, Gate


def tiny_model() -> Transformer:
    torch.manual_seed(0)
    return Transformer(get_preset("tiny"))


def test_conversion_keeps_head_embedding_and_gates_in_high_precision():
    model = convert_to_fp8(tiny_model(), backend="reference")
    assert type(model.head) is nn.Linear and type(model.embed) is nn.Embedding
    gates = [m for m in model.modules() if isinstance(m, Gate)]
    assert gates and not any(isinstance(c, FP8Linear) for g in gates for c in g.modules())
    experts = [m for m in model.modules() if isinstance(m, Experts)]
    assert experts and all(isinstance(e.grouped_mm, FP8GroupedMM) for e in experts)
    converted = [n for n, m in model.named_modules() if isinstance(m, FP8Linear)]
    assert any(n.endswith("attn.wq_b") for n in converted) and any(n.endswith("shared_experts.w2") for n in converted)


def train(model: Transformer, tokens: torch.Tensor, steps: int) -> list[float]:
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        out = model(tokens[:, :-1], tokens[:, 1:])
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        model.update_router_biases()
        losses.append(out.loss.item())
    return losses


@pytest.mark.slow
def test_fp8_training_steps_track_fp32():
    tokens = torch.randint(0, 2048, (2, 33), generator=torch.Generator().manual_seed(1))
    fp32 = tiny_model()
    fp8 = convert_to_fp8(copy.deepcopy(fp32), backend="reference")
    losses32 = train(fp32, tokens, steps=3)
    losses8 = train(fp8, tokens, steps=3)
    assert losses8[-1] < losses8[0], "the FP8 model learns"
    for a, b in zip(losses8, losses32):
        assert abs(a - b) / b < 0.01, (losses8, losses32)
