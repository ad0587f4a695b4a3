"""Autoregressive generation with the absorbed-MLA KV cache.

    ids = generate(model, [bos, 17, 42], max_new_tokens=64, temperature=0.8, top_p=0.95, eos_id=eos)

The prompt is run through `Transformer.decode` once (prefill), then one token per step; each step
only attends to the cached latents (kv_lora_rank + qk_rope_head_dim values per token and layer).
Greedy when temperature is 0. Returns the prompt followed by the new tokens: a 1-D tensor for a 1-D
prompt (list or tensor), (B, T + n) for a (B, T) batch of equal-length prompts. After a row produces
`eos_id` it is padded with `eos_id`, and generation stops once every row has.
"""

from __future__ import annotations

import torch


def sample_next(logits: torch.Tensor, temperature: float = 0.0, top_p: float = 1.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """logits (B, V) -> next token ids (B,): argmax, or nucleus sampling at `temperature`."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = (logits.float() / temperature).softmax(dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        # Keep the smallest prefix whose mass reaches top_p (the first token always stays).
        outside = sorted_probs.cumsum(dim=-1) - sorted_probs > top_p
        sorted_probs = sorted_probs.masked_fill(outside, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


@torch.no_grad()
def generate(model, prompt_ids, max_new_tokens: int, temperature: float = 0.0, top_p: float = 1.0,
             eos_id: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    device = model.head.weight.device
    tokens = torch.as_tensor(prompt_ids, dtype=torch.long, device=device)
    one_d = tokens.dim() == 1
    if one_d:
        tokens = tokens.unsqueeze(0)
    B, T = tokens.shape
    if T == 0:
        raise ValueError("generate needs a non-empty prompt")
    total = min(T + max_new_tokens, model.args.max_seq_len)
    was_training = model.training
    model.eval()
    try:
        cache = model.new_kv_cache(B, total)
        logits = model.decode(tokens, cache)[:, -1]
        out = [tokens]
        done = torch.zeros(B, dtype=torch.bool, device=device)
        for _ in range(total - T):
            nxt = sample_next(logits, temperature, top_p, generator)
            if eos_id is not None:
                nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
                done |= nxt == eos_id
            out.append(nxt.unsqueeze(1))
            if eos_id is not None and bool(done.all()):
                break
            if cache.pos >= total:
                break
            logits = model.decode(nxt.unsqueeze(1), cache)[:, -1]
    finally:
        model.train(was_training)
    result = torch.cat(out, dim=1)
    return result[0] if one_d else result
