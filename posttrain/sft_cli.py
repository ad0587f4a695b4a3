"""Arguments of `deepcorpus sft`. Heavy imports (torch) happen inside the handler.

Besides the options below, every SFTConfig field is an option of its own (`--batch-size`, `--lr`,
`--seq-len`, `--distributed`, ...), generated from posttrain/config.py.
"""

from deepcorpus.core.command import command_parser, positive_int


def register(sub) -> None:
    p = command_parser(sub, "sft", "Supervised fine-tuning from a checkpoint on prompt/completion or chat records; "
                       "resumable.", [
                           "deepcorpus sft --init-from runs/base --data formal-out/sft.jsonl --steps 500 --output runs/sft",
                           "deepcorpus sft --init-from ~/DeepSeek-V2-Lite --data chats.parquet --seq-len 4096 --output runs/chat",
                           "deepcorpus sft --init-from runs/base --data sft.jsonl --steps 1000 --output runs/sft --resume",
                           "torchrun --nproc_per_node 8 -m deepcorpus sft --init-from runs/base --data sft.jsonl "
                           "--distributed fsdp --output runs/sft",
                       ])
    p.add_argument("--init-from", "--init", dest="init_from",
                   help="the checkpoint to fine-tune: a run (or checkpoint) of ours, or a Hugging Face DeepSeek directory")
    p.add_argument("--data", action="append", help="prompt/completion or `messages` JSONL or Parquet file (repeatable)")
    p.add_argument("--steps", type=positive_int, help="optimizer steps (default 1000)")
    p.add_argument("--output", help="run directory (checkpoints, metrics.jsonl, summary.json, sft_data/)")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint")
    p.add_argument("--config", help="TOML or YAML file with SFTConfig fields (options given here override it)")
    from posttrain.config import SFTConfig, add_config_options

    add_config_options(p, SFTConfig, taken={"init_from", "data", "steps", "output", "resume"})
    p.set_defaults(func=_run)


def _run(args):
    from posttrain.sft import run

    return run(args)
