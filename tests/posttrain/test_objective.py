"""GRPO's objective against the formula computed by hand (scalar loops, float64) on a fixed batch."""

import math

import pytest
import torch

from posttrain.objective import Objective, group_advantages, grpo_loss, k3

# Two outputs: the first has 2 tokens (the third position is padding), the second 3.
LOGP = [[-1.0, -0.5, 0.0], [-2.0, -0.3, -0.7]]
OLD = [[-1.2, -0.5, 0.0], [-1.5, -0.4, -0.7]]
REF = [[-0.9, -0.6, 0.0], [-2.1, -0.2, -1.0]]
MASK = [[1, 1, 0], [1, 1, 1]]
ADV = [1.0, -0.5]


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def by_hand(objective: Objective) -> float:
    """-J written out term by term."""
    eps, beta = objective.clip_eps, objective.beta
    per_output, token_terms, n_tokens = [], [], 0
    for i in range(2):
        terms, log_ratio, ref_minus = [], 0.0, 0.0
        for j in range(3):
            if not MASK[i][j]:
                continue
            ratio = math.exp(LOGP[i][j] - OLD[i][j])
            clipped = min(max(ratio, 1 - eps), 1 + eps)
            d = REF[i][j] - LOGP[i][j]
            kl = math.exp(d) - d - 1
            terms.append(min(ratio * ADV[i], clipped * ADV[i]) - beta * kl)
            log_ratio += LOGP[i][j] - OLD[i][j]
            ref_minus += d
        n_tokens += len(terms)
        token_terms += terms
        if objective.ratio == "sequence":
            ratio = math.exp(log_ratio)
            clipped = min(max(ratio, 1 - eps), 1 + eps)
            kl = math.exp(ref_minus) - ref_minus - 1
            per_output.append(min(ratio * ADV[i], clipped * ADV[i]) - beta * kl)
        elif objective.aggregate == "constant":
            per_output.append(sum(terms) / objective.max_new_tokens)
        else:
            per_output.append(sum(terms) / len(terms))
    if objective.aggregate == "token" and objective.ratio == "token":
        return -sum(token_terms) / n_tokens
    return -sum(per_output) / len(per_output)


def test_deepseekmath_eq3_on_a_fixed_batch_matches_the_hand_computation():
    obj = Objective(clip_eps=0.2, beta=0.04)
    loss, count, stats = grpo_loss(t(LOGP), t(OLD), t(REF), t(ADV), t(MASK), obj)
    assert count == 2
    assert loss.item() == pytest.approx(by_hand(obj), abs=1e-12)
    # The same number from the terms written out once more by hand: token ratios e^0.2 (clipped to 1.2, A > 0),
    # 1, e^-0.5 (clipped to 0.8, A < 0), e^0.1, 1; k3 of d = 0.1, -0.1 | -0.1, 0.1, -0.3.
    k = lambda d: math.exp(d) - d - 1  # noqa: E731
    j1 = (1.2 - 0.04 * k(0.1) + 1.0 - 0.04 * k(-0.1)) / 2
    j2 = (-0.4 - 0.04 * k(-0.1) + math.exp(0.1) * -0.5 - 0.04 * k(0.1) - 0.5 - 0.04 * k(-0.3)) / 3
    assert loss.item() == pytest.approx(-(j1 + j2) / 2, abs=1e-12)
    assert stats["clipped"] == 2 and stats["clip_units"] == 5 and stats["tokens"] == 5
    assert stats["kl_sum"] == pytest.approx(2 * k(0.1) + 2 * k(-0.1) + k(-0.3), abs=1e-12)


@pytest.mark.parametrize("settings", [
    dict(aggregate="token"),  # one mean over all tokens
    dict(advantage="mean", aggregate="constant", max_new_tokens=8),  # Dr. GRPO
    dict(ratio="sequence"),  # DeepSeek-R1's eq. (1): whole-output ratio and KL
    dict(clip_eps=0.05, beta=0.0),
])
def test_each_variant_matches_its_hand_computation(settings):
    obj = Objective(**{"clip_eps": 0.2, "beta": 0.04, **settings})
    ref = None if obj.beta == 0 else t(REF)
    loss, count, _ = grpo_loss(t(LOGP), t(OLD), ref, t(ADV), t(MASK), obj)
    assert loss.item() == pytest.approx(by_hand(obj), abs=1e-12)
    assert count == (5 if obj.weight_unit() == "tokens" else 2)


def test_on_policy_gradient_is_the_advantage_over_the_length_plus_the_kl_pull():
    """With θ_old = θ the ratio is 1 and d(-J)/d log π_i,t = -(A_i - β (1 - π_ref/π)) / (|o_i| G)."""
    obj = Objective(beta=0.04)
    logp = t(LOGP).requires_grad_(True)
    loss, _, _ = grpo_loss(logp, logp.detach(), t(REF), t(ADV), t(MASK), obj)
    loss.backward()
    lengths = [2, 3]
    for i in range(2):
        for j in range(3):
            expect = 0.0
            if MASK[i][j]:
                expect = -(ADV[i] - 0.04 * (1 - math.exp(REF[i][j] - LOGP[i][j]))) / (lengths[i] * 2)
            assert logp.grad[i, j].item() == pytest.approx(expect, abs=1e-12)


def test_micro_batches_weighted_by_their_count_give_the_whole_batch_loss():
    """The Trainer weighs each micro-batch by its count over the step's total: split or not, one loss."""
    for obj in (Objective(), Objective(aggregate="token")):
        whole, _, _ = grpo_loss(t(LOGP), t(OLD), t(REF), t(ADV), t(MASK), obj)
        parts = [grpo_loss(t(LOGP)[i:i + 1], t(OLD)[i:i + 1], t(REF)[i:i + 1], t(ADV)[i:i + 1], t(MASK)[i:i + 1], obj)
                 for i in range(2)]
        total = sum(c for _, c, _ in parts)
        assert sum(loss.item() * c / total for loss, c, _ in parts) == pytest.approx(whole.item(), abs=1e-12)


def test_group_advantages_normalise_within_each_group_only():
    rewards = t([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.5, 1.0, 0.5]])
    adv = group_advantages(rewards, "std")
    s = math.sqrt(1 / 3)  # sample std of (1, 0, 0, 1)
    assert adv[0].tolist() == pytest.approx([0.5 / s, -0.5 / s, -0.5 / s, 0.5 / s])
    assert adv[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # all equal: no signal, and no division by 0
    std2 = math.sqrt((0.25 + 0.25) / 3)
    assert adv[2].tolist() == pytest.approx([-0.5 / std2, 0.0, 0.5 / std2, 0.0])
    assert group_advantages(rewards, "mean")[2].tolist() == pytest.approx([-0.5, 0.0, 0.5, 0.0])  # Dr. GRPO


def test_k3_is_zero_at_the_reference_and_positive_elsewhere():
    lp = t([-1.0, -1.0, -1.0])
    assert k3(lp, t([-1.0, -0.5, -3.0])).tolist()[0] == 0.0
    assert all(v > 0 for v in k3(lp, t([-1.0, -0.5, -3.0])).tolist()[1:])
