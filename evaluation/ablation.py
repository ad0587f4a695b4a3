"""`deepcorpus ablate`: one model per data arm, everything else equal, then `eval` on each.

    deepcorpus ablate --config ablate.yaml --output out/ablation

    # ablate.yaml (paths as seen from where the command runs)
    preset: tiny                 # the same preset, tokenizer, token budget, schedule and seeds for every arm
    tokens: 2000000              # training tokens per run (or `steps:`); steps = tokens / (batch_size x seq_len)
    seeds: [0, 1, 2]             # each arm is trained once per seed
    train: {batch_size: 16, lr: 0.002, schedule: cosine}    # any `deepcorpus train` option
    model: {}                                                # ModelArgs overrides of the preset
    arms:
      - {name: math, data: out/tokens_math}                  # token-shard dataset(s)
      - {name: web, data: [out/tokens_web]}
      - {name: mix, mixture: mix.yaml}                       # or a mixture of token shards
    benchmarks: [gsm8k/test.jsonl, math/math500_test.jsonl, web=heldout.jsonl]
    eval: {metrics: [bpb], limit: 500}                       # any `deepcorpus eval` option
    launcher: null               # e.g. "torchrun --nproc_per_node 8": train each run as `LAUNCHER -m deepcorpus train`

Writes OUTPUT/runs/ARM/seed_S (training runs), OUTPUT/evals/ARM/seed_S (eval outputs), then the
table (ablation.md, ablation.csv, ablation.json: per benchmark and metric, each arm's mean over
seeds, their spread and every seed's value) and ablation.png. Rerunning the command resumes: a
finished run or evaluation is kept, an interrupted run continues from its last checkpoint; a run
whose settings have changed is refused, never overwritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field

from deepcorpus.core import command as opt
from deepcorpus.core import datasets, storage
from deepcorpus.core.command import command_parser, output_dir
from deepcorpus.core.errors import UserError

log = logging.getLogger("ablate")

KEY_FILE = "ablation_key.json"
RESULTS_KIND = "deepcorpus-ablation"
DEFAULT_BATCH = 16  # TrainConfig's default global batch


@dataclass
class Arm:
    name: str
    data: list = field(default_factory=list)  # token-shard datasets
    mixture: str | None = None  # or a mixture YAML over token shards


@dataclass
class AblationConfig:
    arms: list
    benchmarks: list
    preset: str = "tiny"
    tokens: int | None = None
    steps: int | None = None
    seeds: list = field(default_factory=lambda: [0])
    train: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    eval: dict = field(default_factory=lambda: {"metrics": ["bpb"]})
    launcher: str | None = None


def load_config(path: str) -> AblationConfig:
    import yaml

    try:
        data = yaml.safe_load(storage.read_bytes(path))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except yaml.YAMLError as e:
        raise UserError(f"{path}: malformed YAML ({str(e).splitlines()[0]})") from None
    return config_from_mapping(data, path)


def config_from_mapping(data, where: str = "config") -> AblationConfig:
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping with 'arms' and 'benchmarks'")
    known = {f.name for f in dataclasses.fields(AblationConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    for key in ("arms", "benchmarks"):
        if not isinstance(data.get(key), list) or not data[key]:
            raise UserError(f"{where}: '{key}' must be a non-empty list")
    arms = []
    for i, a in enumerate(data["arms"]):
        if not isinstance(a, dict) or "name" not in a:
            raise UserError(f"{where}: arm {i + 1} needs a name")
        name = str(a["name"])
        if not re.fullmatch(r"[0-9A-Za-z_.-]+", name):
            raise UserError(f"{where}: arm name {name!r} must be letters, digits, '_', '.' or '-'")
        extra = sorted(set(a) - {"name", "data", "mixture"})
        if extra:
            raise UserError(f"{where}: arm {name}: unknown key {extra[0]!r} (an arm has name, data or mixture)")
        data_paths = a.get("data") or []
        data_paths = [data_paths] if isinstance(data_paths, str) else [str(p) for p in data_paths]
        if bool(data_paths) == bool(a.get("mixture")):
            raise UserError(f"{where}: arm {name} needs exactly one of 'data' (token shards) or 'mixture'")
        arms.append(Arm(name, data_paths, a.get("mixture")))
    names = [a.name for a in arms]
    if len(set(names)) != len(names):
        raise UserError(f"{where}: two arms are named {next(n for n in names if names.count(n) > 1)!r}")
    cfg = AblationConfig(arms=arms, benchmarks=[str(b) for b in data["benchmarks"]],
                         **{k: v for k, v in data.items() if k not in ("arms", "benchmarks") and v is not None})
    seeds = cfg.seeds if isinstance(cfg.seeds, list) else [cfg.seeds]
    if not seeds or not all(isinstance(s, int) for s in seeds) or len(set(seeds)) != len(seeds):
        raise UserError(f"{where}: 'seeds' must be distinct integers")
    cfg.seeds = [opt.seed.check(s, f"{where}: seeds") for s in seeds]
    if (cfg.tokens is None) == (cfg.steps is None):
        raise UserError(f"{where}: give the training length as exactly one of 'tokens' or 'steps'")
    for key in ("tokens", "steps"):
        if getattr(cfg, key) is not None:
            setattr(cfg, key, opt.positive_int.check(getattr(cfg, key), f"{where}: {key}"))
    for key in ("train", "model", "eval"):
        if not isinstance(getattr(cfg, key), dict):
            raise UserError(f"{where}: '{key}' must be a mapping")
    for key in ("data", "mixture", "steps", "seed", "output", "resume", "preset"):
        if key in cfg.train or key.replace("_", "-") in cfg.train:
            raise UserError(f"{where}: train: {key!r} is set per arm by ablate; give it at the top level or in an arm")
    _check_train_values(cfg, where)
    try:
        eval_config_from(cfg.eval)  # now, not after the first arm has trained
    except UserError as e:
        raise UserError(f"{where}: {e}") from None
    return cfg


def _check_train_values(cfg: AblationConfig, where: str) -> None:
    """The `train` block gets `deepcorpus train`'s checks now, naming this file: not in the first
    arm's training run, against the train.yaml that ablate writes for it."""
    from train.config import TrainConfig, from_mapping

    try:
        TrainConfig(**from_mapping(dict(cfg.train), "train")).validate()
    except UserError as e:
        raise UserError(f"{where}: {e}") from None


# --- the shards each arm trains on ---------------------------------------------------------------


def arm_shards(arm: Arm) -> list[str]:
    if arm.mixture:
        from deepcorpus.core.mixture import load_mixture

        return [s.path for s in load_mixture(arm.mixture).sources]
    return list(arm.data)


def shard_info(cfg: AblationConfig) -> dict:
    """seq_len and tokenizer hash, which every arm must share: the comparison is of data only."""
    seen: dict[str, tuple[str, dict]] = {}
    for arm in cfg.arms:
        for path in arm_shards(arm):
            ds = datasets.open_dataset(path, expect="token_shard")
            seen[f"{arm.name}: {path}"] = (path, datasets.token_shard_info(ds))
    first_key, (first_path, first) = next(iter(seen.items()))
    for where, (path, info) in seen.items():
        for key in ("tokenizer_hash", "seq_len"):
            if info[key] != first[key]:
                raise UserError(f"{path}: {key} {str(info[key])[:16]} differs from {first_path}'s {str(first[key])[:16]} "
                                f"({where} vs {first_key}); every arm must use the same tokenizer and sequence length")
    return {"seq_len": int(first["seq_len"]), "tokenizer_hash": first["tokenizer_hash"]}


def training_steps(cfg: AblationConfig, seq_len: int) -> int:
    if cfg.steps is not None:
        return int(cfg.steps)
    batch = int(cfg.train.get("batch_size", cfg.train.get("batch-size", DEFAULT_BATCH)))
    return max(1, math.ceil(int(cfg.tokens) / (batch * seq_len)))


# --- running ---------------------------------------------------------------------------------------


def _key(obj) -> dict:
    blob = json.dumps(obj, sort_keys=True, default=str)
    return {"key": hashlib.sha256(blob.encode()).hexdigest(), "settings": obj}


def _read_key(directory: str) -> str | None:
    try:
        with open(os.path.join(directory, KEY_FILE)) as f:
            return json.load(f)["key"]
    except (OSError, json.JSONDecodeError, KeyError):
        return None


def _write_key(directory: str, key: dict) -> None:
    os.makedirs(directory, exist_ok=True)
    storage.write_bytes_atomic(os.path.join(directory, KEY_FILE), json.dumps(key, indent=1, default=str).encode())


def _run_finished(run_dir: str, steps: int) -> bool:
    try:
        with open(os.path.join(run_dir, "summary.json")) as f:
            summary = json.load(f)
    except (OSError, json.JSONDecodeError):
        return False
    return int(summary.get("steps", -1)) >= steps and not summary.get("stopped_early")


def train_arm(cfg: AblationConfig, arm: Arm, seed: int, steps: int, run_dir: str, train_file: str) -> None:
    from train.checkpoint import newest_checkpoint

    settings = {"arm": dataclasses.asdict(arm), "seed": seed, "steps": steps, "preset": cfg.preset,
                "train": cfg.train, "model": cfg.model,
                "shards": {p: datasets.read_manifest(p).get("created") for p in arm_shards(arm)}}
    key = _key(settings)
    existing = _read_key(run_dir)
    if existing is not None and existing != key["key"]:
        raise UserError(f"{run_dir}: trained with other settings than arm {arm.name} has now; "
                        "move it away (or choose another --output) to train it again")
    if existing is None and os.path.isdir(run_dir) and os.listdir(run_dir):
        raise UserError(f"{run_dir}: exists but was not written by ablate; move it away or choose another --output")
    if _run_finished(run_dir, steps):
        log.info("arm %s, seed %d: trained already (%s)", arm.name, seed, run_dir)
        return
    _write_key(run_dir, key)
    argv = ["train", "--config", train_file, "--preset", cfg.preset, "--steps", str(steps), "--seed", str(seed),
            "--output", run_dir]
    argv += ["--mixture", arm.mixture] if arm.mixture else [a for p in arm.data for a in ("--data", p)]
    if newest_checkpoint(run_dir):
        argv.append("--resume")
    log.info("arm %s, seed %d: deepcorpus %s", arm.name, seed, shlex.join(argv))
    if cfg.launcher:
        code = subprocess.call([*shlex.split(cfg.launcher), "-m", "deepcorpus", *argv])
    else:
        from deepcorpus.cli import main

        code = main(argv)
    if code != 0:
        raise UserError(f"arm {arm.name}, seed {seed}: training failed (exit {code}); see the message above")


def eval_arm(cfg: AblationConfig, arm: Arm, seed: int, run_dir: str, eval_dir: str,
             command: list[str] | None = None) -> dict:
    from evaluation.run import RESULTS, evaluate
    from train.checkpoint import newest_checkpoint

    eval_config = eval_config_from(cfg.eval)
    key = _key({"checkpoint": newest_checkpoint(run_dir), "benchmarks": cfg.benchmarks,
                "eval": eval_config.key_fields()})
    results_path = os.path.join(eval_dir, RESULTS)
    if _read_key(eval_dir) == key["key"] and os.path.exists(results_path):
        log.info("arm %s, seed %d: evaluated already (%s)", arm.name, seed, eval_dir)
        with open(results_path) as f:
            return json.load(f)
    results = evaluate(run_dir, cfg.benchmarks, eval_dir, eval_config, command=command)  # refuses a directory not its own
    _write_key(eval_dir, key)
    return results


def eval_config_from(values: dict):
    from evaluation.run import EvalConfig
    from evaluation.sandbox import SandboxConfig

    values = {k.replace("-", "_"): v for k, v in values.items()}
    known = {f.name for f in dataclasses.fields(EvalConfig)} - {"sandbox", "lean"}
    unknown = sorted(set(values) - known - {"timeout", "memory_mb"})
    if unknown:
        raise UserError(f"eval: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    sandbox = SandboxConfig(timeout_s=float(values.pop("timeout", 10.0)), memory_mb=int(values.pop("memory_mb", 1024)))
    for key in ("metrics", "k"):
        if key in values:
            v = values[key]
            values[key] = tuple(v) if isinstance(v, list) else tuple(str(v).split(","))
    if "k" in values:
        values["k"] = tuple(int(x) for x in values["k"])
    return EvalConfig(sandbox=sandbox, **values).validate()


def run_ablation(cfg: AblationConfig, output: str, command: list[str] | None = None) -> dict:
    from evaluation.ablation_table import build_table, format_table, write_outputs
    from evaluation.benchmarks import load_benchmark

    info = shard_info(cfg)
    steps = training_steps(cfg, info["seq_len"])
    batch = int(cfg.train.get("batch_size", DEFAULT_BATCH))
    eval_config_from(cfg.eval)  # refuse a bad eval section before any training
    for spec in cfg.benchmarks:
        load_benchmark(spec)  # and unreadable benchmarks
    os.makedirs(output, exist_ok=True)
    train_file = os.path.join(output, "train.yaml")
    _write_yaml(train_file, {"train": cfg.train, "model": cfg.model})
    print(f"ablation: {len(cfg.arms)} arms x {len(cfg.seeds)} seeds, preset {cfg.preset}, {steps} steps of "
          f"{batch} x {info['seq_len']} tokens (~{steps * batch * info['seq_len']:,} tokens per run)", flush=True)
    started = time.time()
    evals: dict[str, dict[int, dict]] = {}
    for arm in cfg.arms:
        for seed in cfg.seeds:
            run_dir = os.path.join(output, "runs", arm.name, f"seed_{seed}")
            eval_dir = os.path.join(output, "evals", arm.name, f"seed_{seed}")
            train_arm(cfg, arm, seed, steps, run_dir, train_file)
            evals.setdefault(arm.name, {})[seed] = eval_arm(cfg, arm, seed, run_dir, eval_dir, command)
    table = build_table(evals, [a.name for a in cfg.arms])
    result = {
        "kind": RESULTS_KIND,
        "config": {**dataclasses.asdict(cfg), "arms": [dataclasses.asdict(a) for a in cfg.arms]},
        "steps": steps, "tokens_per_run": steps * batch * info["seq_len"], "seq_len": info["seq_len"],
        "tokenizer_hash": info["tokenizer_hash"],
        "runs": {arm: {str(s): {"run": os.path.join("runs", arm, f"seed_{s}"),  # relative to the output
                                 "eval": os.path.join("evals", arm, f"seed_{s}"),
                                 "final_loss": _final_loss(os.path.join(output, "runs", arm, f"seed_{s}"))}
                       for s in seeds} for arm, seeds in evals.items()},
        "table": table,
        "command": command,
        "elapsed_s": round(time.time() - started, 1),
    }
    write_outputs(result, output)
    print("\n" + format_table(table, [a.name for a in cfg.arms]))
    print(f"\nwrote {output}/ablation.md, ablation.csv, ablation.json and ablation.png")
    return result


def _final_loss(run_dir: str) -> float | None:
    try:
        with open(os.path.join(run_dir, "summary.json")) as f:
            return json.load(f).get("last_loss")
    except (OSError, json.JSONDecodeError):
        return None


def _write_yaml(path: str, data: dict) -> None:
    import yaml

    storage.write_bytes_atomic(path, yaml.safe_dump(data, sort_keys=True).encode())


def register(sub) -> None:
    p = command_parser(sub, "ablate", "Train one model per data arm (all else equal) and evaluate each: a table and a plot.", [
        "deepcorpus ablate --config ablate.yaml --output out/ablation",
        "deepcorpus ablate --config ablate.yaml --output out/ablation   # again: resumes arm by arm",
    ])
    p.add_argument("--config", required=True, help="the ablation YAML: arms, benchmarks, preset, tokens, seeds")
    p.add_argument("--output", required=True, type=output_dir,
                   help="directory for the runs, their evaluations, the table and the plot")
    p.set_defaults(func=lambda args: run_ablation(load_config(args.config), args.output, command=args.command_line) and 0)
