"""Autoregressive generation with the absorbed-MLA KV cache.

    ids = generate(model, [bos, 17, 42], max_new_tokens=64, temperature=0.8, top_p=0.95, eos_id=eos)
    outs = generate(model, [[bos, 5], [bos, 9, 9, 4]], max_new_tokens=64, eos_id=eos)  # a ragged batch

The prompts run through `Transformer.decode` once (prefill), then one token per step; each step only
attends to the cached latents (kv_lora_rank + qk_rope_head_dim values per token and layer). Greedy
when temperature is 0. Returns the prompt followed by the new tokens:
- a 1-D prompt (list or tensor) -> a 1-D tensor;
- a (B, T) tensor of equal-length prompts -> (B, T + n); rows that produced `eos_id` are padded with it;
- a list of prompts of any lengths -> a list of lists, each ending at its first `eos_id` (included).
  Shorter prompts are left-padded inside the batch; padding takes no position and is never attended.
Generation stops once every row has produced `eos_id`, or at the model's max_seq_len.
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


def _left_pad(prompts: list, device) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = [len(p) for p in prompts]
    if min(lengths) == 0:
        raise ValueError("generate needs non-empty prompts")
    T = max(lengths)
    tokens = torch.zeros(len(prompts), T, dtype=torch.long, device=device)
    valid = torch.zeros(len(prompts), T, dtype=torch.bool, device=device)
    for row, p in enumerate(prompts):
        tokens[row, T - len(p) :] = torch.as_tensor(p, dtype=torch.long, device=device)
        valid[row, T - len(p) :] = True
    return tokens, valid


@torch.no_grad()
def generate(model, prompt_ids, max_new_tokens: int, temperature: float = 0.0, top_p: float = 1.0,
             eos_id: int | None = None, generator: torch.Generator | None = None):
    device = model.head.weight.device
    ragged = isinstance(prompt_ids, (list, tuple)) and len(prompt_ids) > 0 and not isinstance(prompt_ids[0], int)
    if ragged:
        tokens, valid = _left_pad(list(prompt_ids), device)
    else:
        tokens = torch.as_tensor(prompt_ids, dtype=torch.long, device=device)
        valid = None
    one_d = tokens.dim() == 1
    if one_d:
        tokens = tokens.unsqueeze(0)
    B, T = tokens.shape
    if T == 0:
        raise ValueError("generate needs a non-empty prompt")
    total = min(T + max_new_tokens, model.args.max_seq_len)
    was_training = model.training
    model.eval()
    new = []
    try:
        cache = model.new_kv_cache(B, total)
        logits = model.decode(tokens, cache, valid)[:, -1]
        done = torch.zeros(B, dtype=torch.bool, device=device)
        for _ in range(total - T):
            nxt = sample_next(logits, temperature, top_p, generator)
            if eos_id is not None:
                nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
                done |= nxt == eos_id
            new.append(nxt.unsqueeze(1))
            if (eos_id is not None and bool(done.all())) or cache.pos >= total:
                break
            logits = model.decode(nxt.unsqueeze(1), cache)[:, -1]
    finally:
        model.train(was_training)
    generated = torch.cat(new, dim=1) if new else tokens.new_zeros(B, 0)
    if ragged:
        out = []
        for prompt, row in zip(prompt_ids, generated.tolist()):
            if eos_id is not None and eos_id in row:
                row = row[: row.index(eos_id) + 1]
            out.append([int(t) for t in prompt] + row)
        return out
    result = torch.cat([tokens, generated], dim=1)
    return result[0] if one_d else result
