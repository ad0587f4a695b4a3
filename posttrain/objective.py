"""GRPO's objective, DeepSeekMath (arXiv 2402.03300) eq. (3), and the variants that change it.

For a question q with G outputs o_1..o_G sampled from the old policy, rewards r_i, and per token

    ρ_i,t = π_θ(o_i,t | q, o_i,<t) / π_θold(o_i,t | q, o_i,<t)
    Â_i,t = Â_i = (r_i - mean(r)) / std(r)                      (outcome supervision, §4.1.2)
    D_i,t = π_ref/π_θ - log(π_ref/π_θ) - 1                        (the unbiased estimator "k3", eq. 4)

the objective is

    J = 1/G Σ_i 1/|o_i| Σ_t [ min(ρ_i,t Â_i, clip(ρ_i,t, 1-ε, 1+ε) Â_i) - β D_i,t ]

and the loss minimised is -J, averaged over the questions. ε = 0.2 and β = 0.04 by default. std is
the sample standard deviation (n - 1); a group whose rewards are all equal has Â = 0 (every r - mean
is 0; nothing is divided by 0).

Named variants set three switches (each may also be set on its own):

    grpo     advantage std,  aggregate sequence, ratio token     DeepSeekMath eq. (3), as above
    r1       advantage std,  aggregate sequence, ratio sequence  DeepSeek-R1 eqs. (1)-(3) as written: the
             ratio and the KL are of whole outputs, π(o_i|q) = Π_t π(o_i,t|...), so
             J = 1/G Σ_i [min(ρ_i Â_i, clip(ρ_i) Â_i) - β D_i] with no 1/|o_i| (log-ratios are clamped
             to ±20 before exp in the KL, which for long outputs is otherwise unbounded)
    dr-grpo  advantage mean, aggregate constant, ratio token     Dr. GRPO (Liu et al. 2025): Â_i = r_i - mean,
             and each output's token sum divided by the constant max_new_tokens instead of |o_i|

    aggregate token: Σ_i Σ_t [...] / Σ_i |o_i|, one mean over every token of the batch (DAPO's token-level
    averaging), so long outputs weigh in proportion to their length.

`grpo_loss` works on one micro-batch and returns its loss as a mean over the micro-batch's units
(outputs, or tokens for `aggregate token`) together with that count, which the Trainer uses as the
micro-batch's weight: the global step then averages exactly as the formula does over all outputs of
all ranks. Its statistics (KL, clip fraction) are sums, for the step's metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

VARIANT_SETTINGS = {
    "grpo": {"advantage": "std", "aggregate": "sequence", "ratio": "token"},
    "r1": {"advantage": "std", "aggregate": "sequence", "ratio": "sequence"},
    "dr-grpo": {"advantage": "mean", "aggregate": "constant", "ratio": "token"},
}
LOG_RATIO_CLAMP = 20.0


def variant_settings(variant: str) -> dict:
    return dict(VARIANT_SETTINGS[variant])


@dataclass(frozen=True)
class Objective:
    clip_eps: float = 0.2
    beta: float = 0.04
    advantage: str = "std"  # "std" or "mean"
    aggregate: str = "sequence"  # "sequence", "token" or "constant"
    ratio: str = "token"  # "token" or "sequence"
    max_new_tokens: int = 1024  # the constant of `aggregate constant`

    @classmethod
    def from_config(cls, cfg) -> Objective:
        return cls(clip_eps=cfg.clip_eps, beta=cfg.beta, max_new_tokens=cfg.max_new_tokens, **cfg.objective_settings())

    def weight_unit(self) -> str:
        """What a micro-batch's loss is a mean over: "outputs" or "tokens"."""
        return "tokens" if self.aggregate == "token" and self.ratio == "token" else "outputs"


def group_advantages(rewards: torch.Tensor, advantage: str = "std") -> torch.Tensor:
    """rewards (Q, G), a row per question -> advantages (Q, G): r - mean, over std for "std"."""
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if advantage == "mean":
        return centred
    std = rewards.std(dim=1, keepdim=True)  # sample std (n - 1)
    return torch.where(std > 0, centred / torch.where(std > 0, std, torch.ones_like(std)), torch.zeros_like(centred))


def k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """The unbiased, positive KL estimator π_ref/π - log(π_ref/π) - 1, from log-probabilities."""
    d = ref_logp - logp
    return torch.exp(d) - d - 1


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor | None, advantages: torch.Tensor,
              mask: torch.Tensor, objective: Objective) -> tuple[torch.Tensor, int, dict]:
    """-J of one micro-batch: (loss, the count it is a mean over, statistics as sums).

    logp, old_logp, ref_logp: (n, T) log-probabilities of each output token under the policy (with
    gradient), the policy that sampled it, and the reference (None when β = 0); advantages (n,);
    mask (n, T) 1 on output tokens, 0 on the prompt and padding."""
    mask = mask.to(logp.dtype)
    lengths = mask.sum(dim=1).clamp_min(1)
    eps = objective.clip_eps
    adv = advantages.to(logp.dtype)
    stats = {"tokens": float(mask.sum()), "outputs": float(logp.shape[0])}
    if ref_logp is not None:
        token_kl = k3(logp, ref_logp) * mask
        stats["kl_sum"] = float(token_kl.detach().sum())
    else:
        token_kl = torch.zeros_like(logp)
        stats["kl_sum"] = 0.0

    if objective.ratio == "sequence":
        log_ratio = ((logp - old_logp) * mask).sum(dim=1)
        ratio = torch.exp(log_ratio.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
        surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - eps, 1 + eps) * adv)
        if ref_logp is not None:
            seq_d = (((ref_logp - logp) * mask).sum(dim=1)).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
            seq_kl = torch.exp(seq_d) - seq_d - 1
        else:
            seq_kl = torch.zeros_like(surrogate)
        per_output = -(surrogate - objective.beta * seq_kl)
        clipped = ((ratio < 1 - eps) & (adv < 0)) | ((ratio > 1 + eps) & (adv > 0))
        stats["clipped"] = float(clipped.sum())
        stats["clip_units"] = stats["outputs"]
        n = logp.shape[0]
        return per_output.mean(), n, stats

    ratio = torch.exp(logp - old_logp)
    a = adv[:, None]
    surrogate = torch.minimum(ratio * a, ratio.clamp(1 - eps, 1 + eps) * a)
    per_token = -(surrogate - objective.beta * token_kl) * mask
    clipped = (((ratio < 1 - eps) & (a < 0)) | ((ratio > 1 + eps) & (a > 0))) & mask.bool()
    stats["clipped"] = float(clipped.sum())
    stats["clip_units"] = stats["tokens"]
    if objective.aggregate == "token":
        total = mask.sum()
        return per_token.sum() / total.clamp_min(1), int(total.item()), stats
    if objective.aggregate == "constant":
        per_output = per_token.sum(dim=1) / objective.max_new_tokens
    else:
        per_output = per_token.sum(dim=1) / lengths
    return per_output.mean(), logp.shape[0], stats


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log π of each target (n, T), log-softmax over the vocabulary (n, T, V)) in float32."""
    logps = torch.log_softmax(logits.float(), dim=-1)
    return logps.gather(-1, targets.unsqueeze(-1)).squeeze(-1), logps


class GRPOLoss:
    """The Trainer's loss for GRPO micro-batches (posttrain.rollouts.RolloutMicroBatch): the policy's
    forward pass, `grpo_loss`, plus the model's balance term (seq_aux_alpha), as pre-training adds it.
    It also sums the step's statistics (KL, clip fraction, entropy) for the metrics."""

    def __init__(self, objective: Objective, seq_aux_alpha: float):
        self.objective = objective
        self.alpha = seq_aux_alpha
        self.reset()

    def reset(self) -> None:
        self.sums = {"tokens": 0.0, "outputs": 0.0, "kl_sum": 0.0, "clipped": 0.0, "clip_units": 0.0,
                     "entropy_sum": 0.0}

    def take(self) -> dict:
        """The sums since the last call (one optimizer step's micro-batches on this rank)."""
        out = self.sums
        self.reset()
        return out

    def __call__(self, model, mb):
        from model import ModelOutput

        out = model(mb.tokens[:, :-1])
        logp, logps = token_logprobs(out.logits, mb.tokens[:, 1:])
        old = mb.old_logp if mb.old_logp is not None else logp.detach()  # on-policy: θ_old is θ
        loss, count, stats = grpo_loss(logp, old, mb.ref_logp, mb.advantages, mb.mask, self.objective)
        with torch.no_grad():
            entropy = -(logps.exp() * logps).sum(dim=-1)
            stats["entropy_sum"] = float((entropy * mb.mask).sum())
        for k, v in stats.items():
            self.sums[k] += v
        if count != mb.n_tokens:
            raise AssertionError(f"micro-batch weight {mb.n_tokens} differs from the loss's count {count}")
        total = loss + self.alpha * out.balance_loss
        return ModelOutput(None, loss=total, main_loss=loss, balance_loss=out.balance_loss)
