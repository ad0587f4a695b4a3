"""Bits per byte against a hand computation with the model's own forward pass."""

import math

import pytest
import torch

from evaluation.bpb import score_texts, windows
from evaluation.models import open_model
from train.checkpoint import load_for_inference

pytestmark = pytest.mark.slow  # the tiny_run fixture trains a model first

TEXT = "17 + 25 = 42. The bakery on the corner sells fresh bread every morning. 8 * 9 = 72."


def hand_bits(model, ids: list[int]) -> float:
    """-sum log2 p(ids[t] | ids[:t]) for t >= 1, from one forward pass over the whole sequence."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    return -sum(float(logp[t - 1, ids[t]]) for t in range(1, len(ids))) / math.log(2)


def test_bpb_equals_the_hand_computation(tiny_run, one_torch_thread):
    lm = open_model(tiny_run["run"], device="cpu")
    model, _, _ = load_for_inference(tiny_run["run"])
    ids = [lm.eos_id] + lm.tokenizer.encode(TEXT, add_special_tokens=False).ids  # a new document: after EOS
    (score,) = score_texts(lm, [TEXT])
    assert score.bytes == len(TEXT.encode("utf-8")) and score.tokens == len(ids) - 1
    assert score.bits == pytest.approx(hand_bits(model, ids), rel=1e-5)
    # Several texts in one batch (padded together) score as they do alone.
    texts = [TEXT, "3 - 1 = 2.", "Rain is expected across the valley for most of the weekend. " * 3]
    together = score_texts(lm, texts)
    alone = [score_texts(lm, [t])[0] for t in texts]
    assert [s.bits for s in together] == pytest.approx([s.bits for s in alone], rel=1e-5)
    assert score_texts(lm, [""])[0].bits == 0.0


def test_long_texts_are_scored_in_overlapping_windows(tiny_run, one_torch_thread):
    lm = open_model(tiny_run["run"], device="cpu")
    model, _, _ = load_for_inference(tiny_run["run"])
    lm.max_len = 16
    long_text = " ".join(["12 + 30 = 42.", "The children built a sandcastle near the old pier."] * 4)
    ids = [lm.eos_id] + lm.encode(long_text)
    assert len(ids) > 3 * lm.max_len
    spans = windows(len(ids), lm.max_len)
    scored = [t for _, end, first in spans for t in range(first, end)]
    assert scored == list(range(1, len(ids)))  # every target once, in order
    assert all(end - start <= lm.max_len and first - start >= lm.max_len // 2 for start, end, first in spans[1:])
    expected = 0.0
    for start, end, first in spans:  # by hand: each window's forward pass, its new targets only
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids[start:end]])).logits[0].double(), dim=-1)
        expected -= sum(float(logp[t - start - 1, ids[t]]) for t in range(first, end)) / math.log(2)
    assert score_texts(lm, [long_text])[0].bits == pytest.approx(expected, rel=1e-5)
