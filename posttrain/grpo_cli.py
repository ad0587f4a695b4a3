"""Arguments of `deepcorpus grpo`. Heavy imports (torch) happen inside the handler.

Besides the options below, every GRPOConfig field is an option of its own (`--group-size`, `--beta`,
`--variant`, `--policy-updates`, `--ref-refresh-every`, ...), generated from posttrain/config.py.
"""

from deepcorpus.core.command import command_parser, positive_int


def register(sub) -> None:
    p = command_parser(sub, "grpo", "GRPO with verifiable rewards (math, format, lean, code) from a checkpoint; "
                       "resumable.", [
                           "deepcorpus grpo --init runs/sft --prompts gsm8k/train.jsonl --reward math --output runs/grpo",
                           "deepcorpus grpo --init runs/sft --prompts math.jsonl --prompt-template r1 "
                           "--reward 'math+0.5*format' --variant dr-grpo --output runs/r1",
                           "deepcorpus grpo --init runs/prover --prompts statements.jsonl --reward lean --group-size 32 "
                           "--output runs/rlpaf",
                           "deepcorpus grpo --init runs/sft --prompts mbpp.jsonl --reward code --steps 400 --output runs/code --resume",
                           "torchrun --nproc_per_node 8 -m deepcorpus grpo --init runs/sft --prompts p.jsonl "
                           "--group-size 64 --output runs/grpo",
                       ])
    p.add_argument("--init", "--init-from", dest="init_from",
                   help="the policy to start from: a run (or checkpoint) of ours, or a Hugging Face DeepSeek directory")
    p.add_argument("--prompts", action="append", help="prompt JSONL or Parquet file (repeatable)")
    p.add_argument("--reward", help="math, format, lean, code, or a weighted sum like 'math+0.5*format' (default math)")
    p.add_argument("--steps", type=positive_int, help="optimizer steps (default 1000)")
    p.add_argument("--output", help="run directory (checkpoints, metrics.jsonl, rollouts.jsonl, reference/)")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint")
    p.add_argument("--config", help="TOML or YAML file with GRPOConfig fields (options given here override it)")
    from posttrain.config import GRPOConfig, add_config_options

    add_config_options(p, GRPOConfig, taken={"init_from", "prompts", "reward", "steps", "output", "resume", "data",
                                             "batch_size"})
    p.set_defaults(func=_run)


def _run(args):
    from posttrain.grpo import run

    return run(args)
