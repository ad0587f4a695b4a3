"""Generation with the absorbed KV cache equals recomputing the whole sequence at every step."""

import torch

from model import Transformer, generate, get_preset
from model.generation import sample_next


def model64():
    torch.manual_seed(0)
    return Transformer(get_preset("tiny")).double().eval()


def test_cached_decoding_matches_full_recomputation():
    model = model64()
    seq = torch.randint(0, 2048, (2, 20))
    cache = model.new_kv_cache(batch=2, max_len=20)
    cached = [model.decode(seq[:, :6], cache)]  # prefill
    for t in range(6, 20):
        cached.append(model.decode(seq[:, t : t + 1], cache))
    full = model(seq).logits
    torch.testing.assert_close(torch.cat(cached, dim=1), full, rtol=1e-6, atol=1e-9)
    assert cache.pos == 20


def test_greedy_generation_equals_argmax_of_recomputation():
    model = model64()
    prompt = [5, 17, 300, 41]
    out = generate(model, prompt, max_new_tokens=12)
    assert out.shape == (16,) and out[:4].tolist() == prompt
    seq = torch.tensor(prompt)
    for _ in range(12):  # the slow way: the whole sequence again for each token
        nxt = model(seq[None]).logits[0, -1].argmax()
        seq = torch.cat([seq, nxt[None]])
    assert out.tolist() == seq.tolist()


def test_generation_stops_at_eos_and_pads_finished_rows():
    model = model64()
    prompts = torch.randint(0, 2048, (2, 3))
    free = generate(model, prompts, max_new_tokens=8)
    eos = int(free[0, 5])  # the third token row 0 would produce
    out = generate(model, prompts, max_new_tokens=8, eos_id=eos)
    assert out[0, 5] == eos and (out[0, 5:] == eos).all()
    assert out.shape[0] == 2 and out.shape[1] <= 11


def test_top_p_keeps_sampling_inside_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    g = torch.Generator().manual_seed(0)
    picks = {int(sample_next(logits, temperature=1.0, top_p=0.7, generator=g)) for _ in range(200)}
    assert picks == {0, 1}
    assert int(sample_next(logits)) == 0  # temperature 0 is greedy


def test_a_ragged_batch_generates_what_each_prompt_generates_alone():
    model = model64()
    prompts = [[7, 8], [100, 200, 300, 400, 500], [9]]
    together = generate(model, prompts, max_new_tokens=6)
    alone = [generate(model, p, max_new_tokens=6).tolist() for p in prompts]
    assert together == alone


def test_a_ragged_batch_ends_each_row_at_its_eos():
    model = model64()
    prompts = [[7, 8], [100, 200, 300]]
    free = generate(model, prompts, max_new_tokens=6)
    eos = free[1][3]  # the first new token of row 1
    out = generate(model, prompts, max_new_tokens=6, eos_id=eos)
    assert out[1] == free[1][:4]
    assert out[0][:2] == [7, 8] and (eos not in out[0] or out[0][-1] == eos)
