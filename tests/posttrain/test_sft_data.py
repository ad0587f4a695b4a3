"""SFT examples: templates, the memory-mapped store, packing with document masks, the resumable loader."""

import json

import numpy as np
import pytest
import torch

from deepcorpus.core.errors import UserError
from model import IGNORE_INDEX
from pipelines.tokenize.tokenizer import load_tokenizer, special_ids
from posttrain.sft_data import ExampleStore, PackedSFTLoader, build_store, next_fit, pack_row, record_pieces
from posttrain.templates import R1_ZERO, DeepSeekChat, JinjaChat, apply_prompt_template, encode_pieces

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"},
        {"role": "assistant", "content": "6"}]
JINJA = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'assistant' %}{{ 'A: ' + m['content'] + eos_token }}"
         "{% else %}{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endif %}{% endfor %}"
         "{% if add_generation_prompt %}{{ 'A: ' }}{% endif %}")


@pytest.fixture
def tok(task):
    return load_tokenizer(task["tokenizer"])


def _store(tmp_path, tok, rows, seq_len=64, name="s"):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ids = special_ids(tok)
    folder = str(tmp_path / name)
    counts = build_store(folder, [str(path)], tokenizer=tok, start_ids=[ids.eos], eos_id=ids.eos, prompt_template="{prompt}",
                         chat=DeepSeekChat(ids.eos), seq_len=seq_len, fingerprint={})
    return ExampleStore(folder), counts


def test_deepseek_chat_learns_the_assistant_turns_and_their_eos(tok):
    ids = special_ids(tok)
    pieces = DeepSeekChat(ids.eos).pieces(CHAT)
    assert "".join(p.text or "<EOS>" for p in pieces) == ("Be brief.\n\nUser: 2+2?\n\nAssistant: 4<EOS>"
                                                          "User: 3+3?\n\nAssistant: 6<EOS>")
    assert [p.text or p.token for p in pieces if p.trained] == [" 4", ids.eos, " 6", ids.eos]
    prompt = DeepSeekChat(ids.eos).generation_prompt(CHAT[:2])
    assert not any(p.trained for p in prompt) and prompt[-1].text == "Assistant:"


def test_a_jinja_template_splits_each_assistant_turn_off_what_it_adds():
    chat = JinjaChat(JINJA, "<s>", "</s>", "test.jinja")
    pieces = chat.pieces(CHAT)
    assert "".join(p.text for p in pieces) == chat.render(CHAT, add_generation_prompt=False)
    assert [p.text for p in pieces if p.trained] == ["4</s>", "6</s>"]
    assert chat.generation_prompt(CHAT[:2])[0].text == "<s>system: Be brief.\nuser: 2+2?\nA: "
    with pytest.raises(UserError, match="not a valid Jinja"):
        JinjaChat("{% for %}", "<s>", "</s>", "bad.jinja")


def test_prompt_templates_wrap_the_prompt_only():
    assert apply_prompt_template("{prompt}", "1+{1}") == "1+{1}"  # braces in prompts are text
    r1 = apply_prompt_template(R1_ZERO, "What is 2+2?")
    assert r1.startswith("A conversation between User and Assistant.") and r1.endswith("User: What is 2+2?. Assistant:")


def test_pieces_encode_with_labels_on_the_completion_and_eos(tok):
    ids = special_ids(tok)
    pieces = record_pieces({"prompt": "7+6=", "completion": " <answer>13</answer>"}, "f: record 1", "{prompt}", None,
                           [ids.eos], ids.eos)
    tokens, labels = encode_pieces(tok, pieces)
    n_prompt = 1 + len(tok.encode("7+6=", add_special_tokens=False).ids)
    assert tokens[0] == ids.eos and tokens[-1] == ids.eos
    assert labels == [0] * n_prompt + [1] * (len(tokens) - n_prompt)
    assert tok.decode(tokens[n_prompt:-1]) == " <answer>13</answer>"
    with pytest.raises(UserError, match="f: record 1: needs `prompt` and `completion`"):
        record_pieces({"prompt": "x"}, "f: record 1", "{prompt}", None, [ids.eos], ids.eos)
    with pytest.raises(UserError, match="without an assistant turn"):
        record_pieces({"messages": CHAT[:2]}, "f: record 1", "{prompt}", DeepSeekChat(ids.eos), [ids.eos], ids.eos)


def test_the_store_truncates_long_examples_and_drops_those_left_with_nothing_to_learn(tmp_path, tok):
    rows = [{"prompt": "1+1=", "completion": " 2"}, {"prompt": "9" * 40, "completion": " x"},
            {"prompt": "3+4=", "completion": " <think>3+4</think> <answer>7</answer>" * 3}]
    store, counts = _store(tmp_path, tok, rows, seq_len=16)
    assert counts["records"] == 3 and counts["examples"] == 2 and counts["dropped"] == 1 and counts["truncated"] == 1
    assert store.lengths.tolist()[1] == 17  # seq_len + 1
    tokens, labels = store.example(0)
    assert labels[0] == 0 and labels[-1] == 1 and tokens[-1] == special_ids(tok).eos
    assert counts["trained_tokens"] == int(sum(store.example(i)[1].sum() for i in range(2)))


def test_a_packed_example_computes_what_it_computes_alone(tmp_path, tok):
    """Document masks: each example attends only to itself, from position 0; only its learnt tokens are targets."""
    from model import Transformer, get_preset

    rows = [{"prompt": f"{a}+{b}=", "completion": f" <answer>{a + b}</answer>"} for a, b in ((1, 2), (7, 8), (4, 4))]
    store, _ = _store(tmp_path, tok, rows, seq_len=48)
    inputs, targets, segments = pack_row(store, [0, 1, 2], 48, special_ids(tok).pad)
    assert len(inputs) == len(targets) == len(segments) == 48
    torch.manual_seed(0)
    model = Transformer(get_preset("tiny", vocab_size=tok.get_vocab_size(), max_seq_len=64)).eval()
    with torch.no_grad():
        packed = model(torch.from_numpy(inputs)[None], segment_ids=torch.from_numpy(segments)[None]).logits[0]
        pos = 0
        for i in range(3):
            ids, labels = store.example(i)
            n = len(ids)
            alone = model(torch.from_numpy(np.asarray(ids[:-1], dtype=np.int64))[None]).logits[0]
            assert torch.allclose(packed[pos:pos + n - 1], alone, atol=1e-5)
            expect = np.where(labels[1:].astype(bool), ids[1:], IGNORE_INDEX)
            assert targets[pos:pos + n - 1].tolist() == expect.tolist()
            assert targets[pos + n - 1] == IGNORE_INDEX  # predicting the next example's first token: never
            pos += n
    assert (targets[pos:] == IGNORE_INDEX).all() and (segments[pos:] == 3).all()  # padding, a segment of its own


def test_next_fit_keeps_order_and_never_overfills():
    bounds = next_fit(np.array([5, 5, 3, 9, 1, 10, 2]), capacity=10)
    assert bounds.tolist() == [0, 2, 3, 5, 6, 7]


def _steps(loader, n):
    it = iter(loader)
    return [[(mb.inputs.clone(), mb.targets.clone(), mb.n_tokens) for mb in next(it)] for _ in range(n)]


def test_the_loader_resumes_exactly_and_splits_rows_over_ranks_as_one_process_sees_them(tmp_path, tok):
    rows = [{"prompt": f"{a}+{b}=", "completion": f" <answer>{a + b}</answer>"} for a in range(10) for b in range(3)]
    store, _ = _store(tmp_path, tok, rows, seq_len=32)
    kw = dict(seq_len=32, global_batch=4, pad_id=special_ids(tok).pad, verbose=False, seed=3)
    one = PackedSFTLoader(store, micro_batch=2, **kw)
    assert one.rows_in_epoch(0) < len(store)  # several examples per row
    full = _steps(one, 5)  # more rows than an epoch holds: epochs follow one another
    assert one.state_dict()["epoch"] >= 1

    again = PackedSFTLoader(store, micro_batch=2, **kw)
    it = iter(again)
    next(it)
    next(it)
    state = again.state_dict()
    resumed = PackedSFTLoader(store, micro_batch=2, **kw)
    resumed.load_state_dict(state)
    for got, want in zip(_steps(resumed, 3), full[2:]):
        assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(got, want))

    # 2 ranks x 1 micro-batch of 2 rows = 1 process x 2 micro-batches: the same rows, micro-step by micro-step
    ranks = [_steps(PackedSFTLoader(store, micro_batch=2, rank=r, world=2, **kw), 5) for r in (0, 1)]
    for step in range(5):
        for r in (0, 1):
            assert torch.equal(ranks[r][step][0][0], full[step][r][0])
    with pytest.raises(UserError, match="resume with the same --data"):
        resumed.load_state_dict({**state, "examples": 3})
