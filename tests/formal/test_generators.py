"""Generators: the template generator end to end, its expert-iteration update, the model generators'
prompting (with a scripted completion function) and their clear errors when a dependency is missing."""

import pytest

from deepcorpus.core.errors import UserError
from formal.generators import TemplateGenerator, TextModelGenerator, load_generator

HEADER = "set_option maxHeartbeats 400000"


def test_template_formalizes_problems_then_fills_with_families():
    g = TemplateGenerator()
    problems = [{"id": "a-1", "text": "Show that 7 divides 91."}, {"id": "a-2", "text": "Prove Fermat's last theorem."}]
    cands, counters = g.formalize(problems, 5, 1, HEADER)
    assert [c.name for c in cands] == ["p_a_1", "arith_0", "divides_1", "linear_2", "sum_3"]
    assert counters == {"problems": 2, "from_problems": 1, "dropped_unparsed": 1, "from_families": 4, "out": 5}
    assert cands[0].informal == "Show that 7 divides 91." and cands[0].header == HEADER
    assert len({c.id for c in cands}) == 5
    more, _ = g.formalize([], 3, 2, HEADER)  # a later round continues the numbering
    assert [c.name.rsplit("_", 1)[1] for c in more] == ["4", "5", "6"]


def test_template_update_reorders_proofs_and_tactics():
    g = TemplateGenerator()
    cands, _ = g.formalize([], 2, 1, HEADER)
    arith = cands[0]
    assert arith.proofs == ["by decide", "by rfl"]
    learned = g.update([{"verified": True, "proof": "by rfl", "family": "arith"},
                        {"verified": True, "proof": "by\n  omega", "family": "linear"},
                        {"verified": False, "proof": "by decide", "family": "arith"}])
    assert learned == {"verified_pairs": 2, "proof_kinds": {"rfl": 1, "omega": 1}}
    g.propose(cands, attempts=8)
    assert arith.proofs == ["by rfl", "by decide"]
    assert g.tactic_ranking() == {"rfl": 0.5, "omega": 0.5}


class ScriptedModel(TextModelGenerator):
    """Completions from a function of the prompt: the prompting logic without a model."""

    name = "scripted"

    def __init__(self, reply):
        super().__init__(min_quality=0.5)
        self.reply = reply
        self.prompts = []

    def complete(self, prompts, max_new_tokens, temperature):
        self.prompts += prompts
        return [self.reply(p) for p in prompts]


def test_model_generator_formalizes_grades_and_proves():
    def reply(prompt):
        if prompt.endswith("Grade:"):
            return " poor" if "divides" in prompt else " good"
        if prompt.startswith("Translate"):
            return " (n : ℕ) (h₀ : n > 3) : 2 * n > 6 := by sorry\n```" if "2n" in prompt else \
                " : (7 : ℕ) ∣ 92 := by sorry\n```"
        if prompt.startswith("Write a proof sketch"):
            return "  have h : n ≥ 4 := by sorry\n  omega\n```"
        return "  omega\n```"

    g = ScriptedModel(reply)
    problems = [{"id": 1, "text": "If n > 3 then 2n > 6."}, {"id": 2, "text": "Show that 7 divides 92."}]
    cands, counters = g.formalize(problems, 10, 1, HEADER)
    assert counters["dropped_low_quality"] == 1  # V1 drops "fair" and "poor" formalizations
    (c,) = cands
    assert c.statement == "theorem p_1 (n : ℕ) (h₀ : n > 3) : 2 * n > 6" and c.quality == 0.8
    g.propose(cands, attempts=3)
    assert c.proofs == ["by\n  omega"]  # three identical samples count once
    assert c.sketch == c.statement + " := by\n  have h : n ≥ 4 := by sorry\n  omega"
    g.update([{"verified": True, "informal": "x", "formal_statement": c.statement, "proof": "by\n  omega"}])
    g.propose(cands, attempts=1)
    assert "theorem p_1 (n : ℕ) (h₀ : n > 3) : 2 * n > 6 := by\n  omega" in g.prompts[-2]  # in-context example


def test_hf_generator_without_transformers_says_how_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_transformers(name, *a, **kw):
        if name == "transformers":
            raise ImportError("No module named 'transformers'")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_transformers)
    with pytest.raises(UserError, match=r"pip install 'deepcorpus\[hf\]'"):
        load_generator("hf", model=str(tmp_path))


def test_model_generators_need_a_model():
    with pytest.raises(UserError, match="--model"):
        load_generator("checkpoint")


@pytest.mark.slow
def test_checkpoint_generator_runs_our_own_model(tmp_path):
    """A tiny untrained model of ours, saved as the trainer saves it: the prompts go through it for real.
    Its text is noise, so the statements it writes are dropped as not understood; what matters here is
    that loading, tokenizing, generating and decoding work end to end."""
    import dataclasses

    import torch

    from formal.generators import CheckpointGenerator
    from model.presets import get_preset
    from model.transformer import Transformer
    from pipelines.tokenize.tokenizer import save_tokenizer, train_tokenizer
    from train.checkpoint import save_checkpoint

    tok_path = str(tmp_path / "tokenizer.json")
    texts = ["theorem t (n : ℕ) : n + 0 = n := by simp", "Show that 7 divides 91."] * 50
    tok = train_tokenizer(texts, vocab_size=400, min_frequency=1)
    save_tokenizer(tok, tok_path)
    torch.manual_seed(0)
    args = get_preset("tiny", vocab_size=tok.get_vocab_size(), max_seq_len=64)
    model = Transformer(args)
    run = tmp_path / "run"
    save_checkpoint(str(run), 1, model_state=model.state_dict(), optimizer_state={}, trainer_state={"tokenizer": tok_path},
                    config_toml="", model_args=dataclasses.asdict(args), keep=1)

    g = CheckpointGenerator(str(run), max_new_tokens=4, few_shot=0)
    # A prompt longer than the model's context keeps its end.
    (out,) = g.complete(["Complete the following Lean 4 code:\n\n```lean4\ntheorem t : 1 = 1 := by\n" * 8], 4, 0.0)
    assert isinstance(out, str)
    cands, counters = g.formalize([{"id": 1, "text": "Show that 7 divides 91."}], 5, 1, HEADER)
    assert counters["problems"] == 1 and counters["out"] == len(cands)
