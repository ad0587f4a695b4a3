"""SFTConfig and GRPOConfig: TrainConfig with the fields of each kind of post-training.

Each is a subclass of `train.config.TrainConfig`, so the `build_*` functions of `train/` build its
components unchanged, the effective config is written and read back as train's is (defaults <
`--config FILE` < options; a resumed run starts from its own config.toml), and every field's help
text is the `--help` of its option. Fields of TrainConfig that mean nothing here (token shards, the
shard loader, the preset: the architecture comes from the checkpoint) get no option.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import ClassVar

from deepcorpus.core import command as opt
from deepcorpus.core.errors import UserError
from train import config as train_config
from train.config import TrainConfig

# DeepSeekMath-Instruct: constant 5e-5 (batch 256, 500 steps); DeepSeekMath-RL: 1e-6.
SFT_LR = 5e-5
GRPO_LR = 1e-6
PROMPT_TEMPLATE_HELP = ("how a record's `prompt` is put to the model: none (as is), r1 (DeepSeek-R1-Zero's "
                        "<think>/<answer> template) or a file whose text holds {prompt}")
CHAT_TEMPLATE_HELP = ("Jinja chat template file for `messages` records (default: the checkpoint's tokenizer_config.json, "
                      "else DeepSeek LLM's 'User: ...\\n\\nAssistant: ...')")
# The token-shard loader's fields and the preset: a post-training run reads records, from a checkpoint.
# Train's help that reads otherwise here: a post-training run's tokenizer is its checkpoint's.
HELP_HERE = {"tokenizer": "tokenizer.json (default: the one the checkpoint names; a Hugging Face directory's own)"}
NOT_OPTIONS = ("preset", "mixture", "tokenizer_hash", "doc_mask", "shuffle_buffer", "chunk_rows", "loader_workers")


def _f(default, help: str, **kw):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class SFTConfig(TrainConfig):
    COMMAND: ClassVar[str] = "sft"
    data: list = _f([], "prompt/completion (or chat `messages`) JSONL or Parquet file(s), mixed in one shuffled order")
    schedule: str = _f("constant", "learning-rate schedule after warm-up", choices=train_config.SCHEDULES)
    lr: float | None = _f(None, f"peak learning rate (default {SFT_LR:g}, DeepSeekMath-Instruct's)", range=opt.positive)
    seq_len: int = _f(1024, "tokens per packed row; examples are packed whole, each attending only to itself", range=opt.positive_int)
    prompt_template: str = _f("none", PROMPT_TEMPLATE_HELP)
    chat_template: str | None = _f(None, CHAT_TEMPLATE_HELP)

    def peak_lr(self) -> float:
        return self.lr if self.lr is not None else SFT_LR

    def validate(self) -> SFTConfig:
        super().validate()
        if self.seq_len < 2:
            raise UserError(f"seq_len must be at least 2 (got {self.seq_len})")
        return self


# What each named variant of the objective sets (posttrain/objective.py says what they compute).
VARIANTS = ("grpo", "r1", "dr-grpo")
ADVANTAGES = ("std", "mean")
AGGREGATES = ("sequence", "token", "constant")
RATIOS = ("token", "sequence")
BACKENDS = ("model", "vllm")


@dataclass
class GRPOConfig(TrainConfig):
    COMMAND: ClassVar[str] = "grpo"
    steps: int = _f(1000, "optimizer steps (each rollout batch gives policy_updates x mini_batches of them)", range=opt.positive_int)
    lr: float | None = _f(None, f"peak learning rate (default {GRPO_LR:g}, DeepSeekMath-RL's)", range=opt.positive)
    schedule: str = _f("constant", "learning-rate schedule after warm-up", choices=train_config.SCHEDULES)
    warmup_steps: int | None = _f(0, "linear warm-up steps", range=opt.nonnegative_int)
    micro_batch_size: int = _f(0, "sequences per forward pass on one rank (0: a whole mini-batch at once)", range=opt.nonnegative_int)
    # what to optimise
    prompts: list = _f([], "prompt JSONL or Parquet file(s): `prompt` (or chat `messages`) and what the reward "
                       "checks: `answer` (math), `tests`/`test_list`/`test` (code), `formal_statement` (lean)")
    reward: str = _f("math", "math, format, lean, code, or a weighted sum such as 'math+0.5*format'")
    prompt_template: str = _f("none", PROMPT_TEMPLATE_HELP)
    chat_template: str | None = _f(None, CHAT_TEMPLATE_HELP)
    # rollouts
    group_size: int = _f(16, "G: outputs sampled per prompt (DeepSeekMath-RL used 64)", range=opt.integer(2))
    prompts_per_step: int = _f(32, "prompts per rollout batch, over all ranks", range=opt.positive_int)
    max_new_tokens: int = _f(1024, "longest output sampled (DeepSeekMath-RL: 1024)", range=opt.positive_int)
    temperature: float = _f(1.0, "sampling temperature of the rollouts", range=opt.number(0, lo_open=True))
    top_p: float = _f(1.0, "nucleus sampling of the rollouts (1: off)", range=opt.number(0, 1, lo_open=True))
    generation_backend: str = _f("model", "model (its own batched generation with the KV cache) or vllm", choices=BACKENDS)
    generation_batch: int = _f(0, "sequences generated together on one rank (0: a whole rollout batch)", range=opt.nonnegative_int)
    # the objective
    variant: str = _f("grpo", "grpo (DeepSeekMath eq. 3), r1 (DeepSeek-R1 eq. 1: ratio and KL of whole outputs) or "
                      "dr-grpo (Dr. GRPO: no std normalisation, token sums over a constant)", choices=VARIANTS)
    advantage: str | None = _f(None, "std: (r - mean) / std in the group; mean: r - mean (default: the variant's)",
                               cli_choices=ADVANTAGES)
    aggregate: str | None = _f(None, "sequence: mean over each output's tokens, then over outputs; token: over all "
                               "tokens; constant: token sums / max_new_tokens (default: the variant's)", cli_choices=AGGREGATES)
    ratio: str | None = _f(None, "token: per-token ratio and KL; sequence: of whole outputs (default: the variant's)",
                           cli_choices=RATIOS)
    clip_eps: float = _f(0.2, "epsilon of the clipped ratio", range=opt.number(0, lo_open=True))
    beta: float = _f(0.04, "KL coefficient against the reference (DeepSeekMath 0.04; DeepSeek-R1-Zero 0.001; 0: no "
                     "reference model)", range=opt.nonnegative)
    policy_updates: int = _f(1, "mu: passes over each rollout batch (DeepSeekMath: 1)", range=opt.positive_int)
    mini_batches: int = _f(1, "optimizer steps per pass, each on a random share of the rollout batch", range=opt.positive_int)
    ref_refresh_every: int = _f(0, "copy the policy into the reference every K steps (iterative GRPO; 0: never)", range=opt.nonnegative_int)
    # the rewards' verifiers
    lean_backend: str = _f("auto", "Lean runner for the lean reward", choices=("auto", "repl", "server", "leandojo"))
    lean_server: str | None = _f(None, "URL of a Kimina Lean Server (or DEEPCORPUS_LEAN_SERVER)")
    repl_command: str | None = _f(None, "command that starts a Lean REPL (or DEEPCORPUS_REPL_COMMAND)")
    lean_project: str | None = _f(None, "Lake project (e.g. with Mathlib) to run the REPL in")
    lean_timeout: float = _f(60.0, "seconds per proof", range=opt.positive)
    code_timeout: float = _f(10.0, "seconds per program in the sandbox (the code reward)", range=opt.positive)
    reward_workers: int = _f(4, "proofs or programs checked at once", range=opt.positive_int)
    log_rollouts: int = _f(4, "rollouts per step written to RUN/rollouts.jsonl (prompt, output, reward)", range=opt.nonnegative_int)

    def peak_lr(self) -> float:
        return self.lr if self.lr is not None else GRPO_LR

    def objective_settings(self) -> dict:
        """advantage, aggregate and ratio: the variant's, with any given explicitly instead."""
        from posttrain.objective import variant_settings

        chosen = variant_settings(self.variant)
        for name in ("advantage", "aggregate", "ratio"):
            if getattr(self, name) is not None:
                chosen[name] = getattr(self, name)
        return chosen

    def validate(self) -> GRPOConfig:
        super().validate()
        for name, allowed in (("advantage", ADVANTAGES), ("aggregate", AGGREGATES), ("ratio", RATIOS)):
            v = getattr(self, name)
            if v is not None and v not in allowed:
                raise UserError(f"{name} must be one of {', '.join(allowed)} (got {v!r})")
        if self.group_size < 2:
            raise UserError(f"group_size must be at least 2: advantages compare the outputs of a group (got {self.group_size})")
        for name in ("prompts_per_step", "max_new_tokens", "policy_updates", "mini_batches", "reward_workers"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1 (got {getattr(self, name)})")
        for name in ("generation_batch", "ref_refresh_every", "beta", "log_rollouts"):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must not be negative (got {getattr(self, name)})")
        if not self.temperature > 0:
            raise UserError(f"temperature must be above 0: greedy rollouts make every output of a group the same "
                            f"(got {self.temperature})")
        if not 0 < self.top_p <= 1:
            raise UserError(f"top_p must be within (0, 1] (got {self.top_p})")
        if not self.clip_eps > 0:
            raise UserError(f"clip_eps must be above 0 (got {self.clip_eps})")
        for name in ("lean_timeout", "code_timeout"):
            if not getattr(self, name) > 0:
                raise UserError(f"{name} must be above 0 (got {getattr(self, name)})")
        from posttrain.rewards import parse_reward

        parse_reward(self.reward)  # a malformed spec is refused before anything starts
        return self


# --- the command line ----------------------------------------------------------------------------


def add_config_options(p: argparse.ArgumentParser, cls: type, taken: set[str]) -> None:
    """An option per field of `cls` (`--group-size`, `--lr`, ...), except those in `taken` (added by
    the command itself) and the shard loader's."""
    import dataclasses

    for f in dataclasses.fields(cls):
        if f.name in taken or f.name in NOT_OPTIONS:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = HELP_HERE.get(f.name) or f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else None
        if default not in (None, "", False) and "default" not in help_text:
            help_text += f" (default {default:g})" if isinstance(default, float) else f" (default {default})"
        if f.name == "model":
            p.add_argument(flag, action="append", metavar="KEY=VALUE", help=help_text)
        elif f.type.startswith("list"):
            p.add_argument(flag, action="append", help=help_text)
        elif f.type.startswith("bool"):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            # A field's own range (train/config.py's fields and those below) parses and checks it.
            kind = f.metadata.get("range") or (int if f.type.startswith("int") else float if f.type.startswith("float")
                                               else str)
            choices = f.metadata.get("choices") or f.metadata.get("cli_choices")
            p.add_argument(flag, type=kind, default=None, choices=choices, help=help_text)


def cli_values(args, cls: type) -> dict:
    """The fields the user gave on the command line (None = not given)."""
    import dataclasses

    values = {}
    for f in dataclasses.fields(cls):
        v = getattr(args, f.name, None)
        if f.name == "model":
            v = train_config.parse_model_overrides(v) if v else None
        elif f.type.startswith("list") and not v:
            v = None
        values[f.name] = v
    return values


def effective_config(cls: type, values: dict, config_path: str | None, resume_from: str | None):
    return train_config.effective_config(values, config_path, resume_from, cls=cls)
