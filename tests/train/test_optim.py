"""AdamW parameter groups and the learning-rate schedules."""

import pytest
import torch

from train.optim import Schedule, adamw, param_groups


def test_warmup_then_deepseek_multistep():
    s = Schedule(peak_lr=1.0, total_steps=100, warmup_steps=10, kind="multistep")
    assert s.lr_at(0) == pytest.approx(0.1)
    assert s.lr_at(9) == pytest.approx(1.0)
    assert s.lr_at(79) == 1.0  # peak for 80% of the steps
    assert s.lr_at(80) == pytest.approx(0.316)
    assert s.lr_at(89) == pytest.approx(0.316)
    assert s.lr_at(90) == pytest.approx(0.1)
    assert s.lr_at(99) == pytest.approx(0.1)


def test_cosine_runs_from_peak_to_the_floor():
    s = Schedule(peak_lr=2.0, total_steps=102, warmup_steps=1, kind="cosine", min_lr_ratio=0.1)
    assert s.lr_at(1) == pytest.approx(2.0)
    assert s.lr_at(51) == pytest.approx(1.1)
    assert s.lr_at(101) == pytest.approx(0.2)  # the last step
    lrs = [s.lr_at(i) for i in range(1, 102)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_apply_sets_every_group():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    opt = adamw(model, lr=1.0)
    Schedule(peak_lr=0.5, total_steps=10, kind="constant").apply(opt, 3)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]


def test_matrices_decay_vectors_do_not():
    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    decay, no_decay = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert {p.ndim for p in decay["params"]} == {2} and {p.ndim for p in no_decay["params"]} == {1}
    opt = adamw(model, lr=1e-3)
    assert opt.defaults["betas"] == (0.9, 0.95)
