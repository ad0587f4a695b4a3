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
    lr: float | None = _f(None, f"peak learning rate (default {SFT_LR:g}, DeepSeekMath-Instruct's)")
    seq_len: int = _f(1024, "tokens per packed row; examples are packed whole, each attending only to itself")
    prompt_template: str = _f("none", PROMPT_TEMPLATE_HELP)
    chat_template: str | None = _f(None, CHAT_TEMPLATE_HELP)

    def peak_lr(self) -> float:
        return self.lr if self.lr is not None else SFT_LR

    def validate(self) -> SFTConfig:
        super().validate()
        if self.seq_len < 2:
            raise UserError(f"seq_len must be at least 2 (got {self.seq_len})")
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
        help_text = f.metadata.get("help", "")
        if f.name == "model":
            p.add_argument(flag, action="append", metavar="KEY=VALUE", help=help_text)
        elif f.type.startswith("list"):
            p.add_argument(flag, action="append", help=help_text)
        elif f.type.startswith("bool"):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            kind = int if f.type.startswith("int") else float if f.type.startswith("float") else str
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
