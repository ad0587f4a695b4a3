"""Arguments of `deepcorpus train`. Heavy imports (torch) happen inside the handler.

Besides the contract options below, every TrainConfig field is an option of its own
(`--batch-size`, `--lr`, `--schedule`, ...), generated from train/config.py so the two never drift.
"""

import argparse

from deepcorpus.core.command import command_parser, output_dir


def register(sub) -> None:
    p = command_parser(sub, "train", "Train the model on token shards; resumable.", [
        "deepcorpus train --preset tiny --data out/tokens --steps 200 --output runs/tiny",
        "deepcorpus train --preset tiny --data out/tokens --steps 400 --output runs/tiny --resume",
        "torchrun --nproc_per_node 8 -m deepcorpus train --preset small --data gs://B/tokens --output runs/s",
        "deepcorpus train --init-from ~/DeepSeek-V2-Lite --data out/tokens --steps 1000 --output runs/v2l-cpt",
        "deepcorpus train --init-from runs/tiny --model yarn=true --model max_seq_len=32768 --data out/long --output runs/ext",
        "deepcorpus train --preset v3 --count-params --json",
    ])
    p.add_argument("--preset", help="model preset: tiny, small, v2-lite, v3 (default tiny)")
    p.add_argument("--data", action="append", help="token-shard dataset(s)")
    p.add_argument("--steps", type=_range("steps"), help=_with_default("optimizer steps", _field("steps")))
    p.add_argument("--output", type=output_dir, help="run directory (checkpoints, metrics.jsonl)")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint")
    p.add_argument("--count-params", action="store_true",
                   help="report total and activated parameters of the model the run would build (--preset, --config, --model)")
    p.add_argument("--json", action="store_true", help="with --count-params: print JSON")
    p.add_argument("--config", help="TOML or YAML file with TrainConfig fields (options given here override it)")
    _add_config_options(p)
    p.set_defaults(func=_run)


def _add_config_options(p) -> None:
    from train.config import FIELDS

    taken = {"preset", "data", "steps", "output", "resume"}
    for name, f in FIELDS.items():
        if name in taken:
            continue
        flag = "--" + name.replace("_", "-")
        help_text = _with_default(f.metadata.get("help", ""), f)
        if name == "model":
            p.add_argument(flag, action="append", metavar="KEY=VALUE", help=help_text)
        elif f.type.startswith("bool"):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            # Numbers are parsed and range-checked by the field's own range (train/config.py).
            kind = f.metadata.get("range") or str
            p.add_argument(flag, type=kind, default=None, choices=f.metadata.get("choices"), help=help_text)


def _with_default(help_text: str, f) -> str:
    """The help with TrainConfig's default (the options themselves default to None, so that only
    what is given overrides --config)."""
    import dataclasses

    if (f.default is dataclasses.MISSING or f.default is None or "default" in help_text
            or isinstance(f.default, bool) and not f.default):
        return help_text
    return f"{help_text} (default {f.default})" if help_text else f"default {f.default}"


def _field(name: str):
    from train.config import FIELDS

    return FIELDS[name]


def _range(name: str):
    return _field(name).metadata["range"]


def _run(args):
    from train.run import run

    return run(args)
