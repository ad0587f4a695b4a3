"""TrainConfig: every knob of a training run, from defaults, a TOML/YAML file and the command line.

Precedence is defaults < `--config FILE` < command-line options. The effective config is written
as TOML into the run directory and into every checkpoint, so a run can be read back and resumed
exactly. Each field's help text doubles as the `--help` of its command-line option.

    [train]            # or the same keys at top level
    preset = "tiny"
    data = ["out/tokens"]
    steps = 2000
    lr = 0.002
    [model]            # overrides of the preset's ModelArgs
    n_layers = 4
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field

from deepcorpus.core import command as opt
from deepcorpus.core.errors import UserError

SCHEDULES = ("multistep", "cosine", "constant")
DTYPES = ("auto", "bf16", "fp32")
DISTRIBUTED = ("auto", "ddp", "fsdp")
DEVICES = ("auto", "cpu", "cuda")
FP8_BACKENDS = ("triton", "reference")
CKPT_FORMATS = ("auto", "full", "sharded")

# Peak learning rate per preset when `lr` is not given (DeepSeek-V3 used 2.2e-4 at full size;
# small models tolerate, and need, larger steps).
DEFAULT_LR = {"tiny": 2e-3, "small": 1e-3, "v2-lite": 4.2e-4, "v3": 2.2e-4}
# Continued pre-training (--init-from) starts from a trained model, which a from-scratch peak would
# knock about: a smaller default, below every full-size preset's.
INIT_FROM_LR = 1e-4


def _f(default, help: str, **kw):
    """A field with its --help text; `range=` (a deepcorpus.core.command type such as positive_int)
    is both the command-line option's parser and the check of a value from a config file."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class TrainConfig:
    # Fields are grouped by the component that reads them (train/run.py assembles the components).
    # what to train on and where to write: build_data, the run directory
    preset: str = _f("tiny", "model preset: tiny, small, v2-lite, v3")
    data: list = _f([], "token-shard dataset(s), mixed uniformly unless --mixture is given")
    mixture: str | None = _f(None, "mixture YAML naming token-shard datasets and weights (instead of --data)")
    output: str | None = _f(None, "run directory: config.toml, metrics.jsonl, checkpoints/, summary.json")
    tokenizer: str | None = _f(None, "tokenizer.json to record for inference (default: the shards' manifest)")
    tokenizer_hash: str | None = _f(None, "expected sha256 of the tokenizer; shards with another are refused")
    init_from: str | None = _f(None, "start from these weights (step 0, fresh optimizer): a local Hugging Face "
                               "DeepSeek-V2/V3 checkpoint, whose config.json gives the architecture, or a run of ours")
    # length of the run and batch: build_trainer, build_data
    steps: int = _f(1000, "optimizer steps", range=opt.positive_int)
    batch_size: int = _f(16, "sequences per optimizer step, over all ranks (the global batch)", range=opt.positive_int)
    micro_batch_size: int = _f(0, "sequences per forward pass on one rank (0: batch_size / ranks, no accumulation)",
                               range=opt.nonnegative_int)
    seed: int = _f(0, "seed for initialisation and the data order", range=opt.seed)
    # optimizer and schedule: build_optimizer, build_schedule
    lr: float | None = _f(None, "peak learning rate (default by preset: tiny 2e-3 ... v3 2.2e-4; 1e-4 with --init-from)",
                          range=opt.positive)
    schedule: str = _f("multistep", "learning-rate schedule after warm-up", choices=SCHEDULES)
    warmup_steps: int | None = _f(None, "linear warm-up steps (default: 10%% of steps, at most 2000)",
                                  range=opt.nonnegative_int)
    min_lr_ratio: float = _f(0.1, "cosine: final lr as a fraction of the peak", range=opt.fraction)
    weight_decay: float = _f(0.1, "AdamW weight decay (matrices only; norms and biases get none)", range=opt.nonnegative)
    beta1: float = _f(0.9, "AdamW beta1", range=opt.number(0, 1, hi_open=True))
    beta2: float = _f(0.95, "AdamW beta2", range=opt.number(0, 1, hi_open=True))
    eps: float = _f(1e-8, "AdamW epsilon", range=opt.positive)
    grad_clip: float = _f(1.0, "clip the global gradient norm to this (0: off)", range=opt.nonnegative)
    # numerics and parallelism: build_parallel, build_model, build_trainer
    device: str = _f("auto", "auto (cuda when available), cpu or cuda", choices=DEVICES)
    dtype: str = _f("auto", "autocast dtype: auto (bf16 on GPU, fp32 on CPU), bf16 or fp32", choices=DTYPES)
    fp8: bool = _f(False, "train the linear layers and experts in FP8 (model.fp8; needs Hopper/Ada)")
    fp8_backend: str = _f("triton", "FP8 kernels: triton, or the pure-PyTorch reference (tests)", choices=FP8_BACKENDS)
    distributed: str = _f("auto", "under torchrun: ddp or fsdp (FSDP2 fully_shard); auto = ddp", choices=DISTRIBUTED)
    compile: bool = _f(False, "torch.compile the model")
    cpu_threads: int = _f(0, "CPU: intra-op threads per rank (0: $OMP_NUM_THREADS, else half the cores per rank)",
                          range=opt.nonnegative_int)
    activation_checkpointing: bool = _f(False, "recompute each block in the backward pass to save memory")
    # data loader: build_data
    doc_mask: bool = _f(False, "reset attention and positions at the recorded document starts")
    shuffle_buffer: int = _f(8192, "rows shuffled together (a window of chunks), per source", range=opt.positive_int)
    chunk_rows: int = _f(1024, "rows per chunk, the unit the data order is first shuffled in", range=opt.positive_int)
    loader_workers: int = _f(2, "threads reading and assembling batches ahead of the step", range=opt.nonnegative_int)
    # logging and checkpoints: build_metrics, build_checkpointer
    log_every: int = _f(10, "print a progress line every N steps", range=opt.positive_int)
    checkpoint_every: int = _f(500, "write a checkpoint every N steps (and always at the end; 0: end only)",
                               range=opt.nonnegative_int)
    keep_checkpoints: int = _f(3, "keep the newest K complete checkpoints", range=opt.positive_int)
    checkpoint_format: str = _f("auto", "full (model.pt on rank 0) or sharded (torch.distributed.checkpoint, "
                                "every rank writes its shards); auto = sharded under FSDP", choices=CKPT_FORMATS)
    tensorboard: bool = _f(False, "also write TensorBoard event files to RUN/tensorboard")
    # model overrides of the preset, e.g. {"n_layers": 4}: build_model
    model: dict = _f({}, "ModelArgs overrides as KEY=VALUE (repeatable), e.g. --model n_layers=4")

    def peak_lr(self) -> float:
        if self.lr is not None:
            return self.lr
        return INIT_FROM_LR if self.init_from else DEFAULT_LR.get(self.preset, 3e-4)

    def warmup(self) -> int:
        if self.warmup_steps is not None:
            return self.warmup_steps
        return min(2000, self.steps // 10)

    def validate(self) -> TrainConfig:
        """Every field's range and choices, whichever of defaults, file and options it came from."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("range") is not None and value is not None:
                setattr(self, f.name, f.metadata["range"].check(value, f.name))
            choices = f.metadata.get("choices")
            if choices and value not in choices:
                raise UserError(f"{f.name} must be one of {', '.join(choices)} (got {value!r})")
        self.model = check_model_overrides(self.model, "model")
        return self


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _coerce(name: str, value, where: str, cls: type | None = None):
    """Check a file's value against the field's type; TOML and YAML already give typed values."""
    cls = cls or TrainConfig
    default = cls().__dict__[name]
    ftype = {f.name: f for f in dataclasses.fields(cls)}[name].type
    if value is None:
        if "None" in ftype:
            return None
        raise UserError(f"{where}: {name} cannot be empty")
    if isinstance(default, list):  # data, and the list fields of TrainConfig's subclasses
        return [value] if isinstance(value, str) else [str(v) for v in value]
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise UserError(f"{where}: [{name}] must be a table of ModelArgs overrides")
        return check_model_overrides(dict(value), f"{where}: [model]") if name == "model" else dict(value)
    if isinstance(default, bool) or ftype.startswith("bool"):
        if not isinstance(value, bool):
            raise UserError(f"{where}: {name} must be true or false (got {value!r})")
        return value
    try:
        if ftype.startswith("int"):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if ftype.startswith("float"):
            return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: {name} must be a number (got {value!r})") from None
    return str(value)


def from_mapping(data: dict, where: str = "config", cls: type | None = None) -> dict:
    """Field values from a parsed TOML/YAML mapping; keys may sit at top level or under [train].
    `cls` is TrainConfig or a subclass of it (another kind of training with more fields)."""
    cls = cls or TrainConfig
    fields = {f.name for f in dataclasses.fields(cls)}
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping of config keys")
    flat = dict(data.get("train", {})) if isinstance(data.get("train"), dict) else {}
    flat.update({k: v for k, v in data.items() if k != "train"})
    out = {}
    for key, value in flat.items():
        name = key.replace("-", "_")
        if name not in fields:
            raise UserError(f"{where}: unknown config key {key!r}")
        out[name] = _coerce(name, value, where, cls)
    return out


def load_file(path: str, cls: type | None = None) -> dict:
    """Field values from a TOML (.toml) or YAML (.yaml/.yml) file."""
    from deepcorpus.core import storage

    try:
        raw = storage.read_bytes(path)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    if path.endswith(".toml"):
        import tomllib

        try:
            data = tomllib.loads(raw.decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise UserError(f"{path}: malformed TOML ({e})") from None
    elif path.endswith((".yaml", ".yml")):
        import yaml

        try:
            data = yaml.safe_load(raw) or {}
        except yaml.YAMLError as e:
            raise UserError(f"{path}: malformed YAML ({str(e).splitlines()[0]})") from None
    else:
        raise UserError(f"{path}: a config must be a .toml, .yaml or .yml file")
    return from_mapping(data, path, cls)


def check_model_overrides(overrides: dict, where: str) -> dict:
    """ModelArgs overrides with known names and values of the field's type (an int may stand for a
    float); a UserError naming the key, and the closest field for an unknown one, otherwise."""
    if not overrides:
        return {}
    import difflib

    from model.config import ModelArgs  # (imports the model package, and torch with it)

    types = {f.name: f.type for f in dataclasses.fields(ModelArgs)}
    out = {}
    for key, value in overrides.items():
        if key not in types:
            close = difflib.get_close_matches(key, types, n=1)
            raise UserError(f"{where}: unknown model field {key!r}" + (f" (did you mean {close[0]}?)" if close else ""))
        kind = types[key].split("|")[0].strip()  # "int", "float", "str", "bool | None"
        ok = {"int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, (int, float)) and not isinstance(value, bool),
              "bool": isinstance(value, bool) or value is None and "None" in types[key],
              "str": isinstance(value, str)}.get(kind, True)
        if not ok:
            raise UserError(f"{where}: {key} must be {'a whole number' if kind == 'int' else 'a number' if kind == 'float' else kind}"
                            f" (got {value!r})")
        out[key] = float(value) if kind == "float" else value
    return out


def parse_model_overrides(items: list[str]) -> dict:
    """`n_layers=4`, `score_func=sigmoid`, `mtp_lambda=0.3` into typed values (TOML literals)."""
    import tomllib

    out = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--model expects KEY=VALUE (got {item!r})")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()  # a bare word such as sigmoid
        out[key.strip()] = value
    return check_model_overrides(out, "--model")


def build_config(cli_values: dict, config_path: str | None = None, cls: type | None = None) -> TrainConfig:
    """Defaults, then the file, then the options the user actually gave."""
    cls = cls or TrainConfig
    values = load_file(config_path, cls) if config_path else {}
    file_keys = set(values)
    model = dict(values.get("model", {}))
    for name, value in cli_values.items():
        if value is None:
            continue
        if name == "model":
            model.update(value)
        else:
            values[name] = value
    values["model"] = model
    from_file = file_keys - {k for k, v in cli_values.items() if v is not None and k != "model"}
    try:
        cfg = cls(**values).validate()
    except UserError as e:
        key = re.match(r"[A-Za-z_]+", str(e))
        if key and key.group() in from_file:  # a value the file gave: name the file
            raise UserError(f"{config_path}: {e}") from None
        raise
    check_model_values(cfg, config_path, set(cli_values.get("model") or ()))
    return cfg


def check_model_values(cfg, config_path: str | None, cli_keys: set[str]) -> None:
    """The preset with the [model] overrides checked as ModelArgs checks them (n_heads = 0, a
    group count that does not divide the experts), before any data is read, and the error naming
    where the value came from: `--model`, or the config file's [model] table."""
    if not cfg.model:
        return
    from model import get_preset

    try:
        get_preset(cfg.preset, **cfg.model)
    except UserError as e:
        msg = str(e).removeprefix("model config: ")
        named = {k for k in cfg.model if re.search(rf"\b{re.escape(k)}\b", msg)}
        if named & cli_keys or (cli_keys and not named):
            raise UserError(f"--model: {msg}") from None
        if config_path:
            raise UserError(f"{config_path}: [model] {msg}") from None
        raise


def effective_config(cli_values: dict, config_path: str | None, resume_from: str | None,
                     cls: type | None = None) -> TrainConfig:
    """Defaults < --config file < options; when resuming, the checkpoint's config replaces the defaults."""
    cls = cls or TrainConfig
    if not resume_from:
        return build_config(cli_values, config_path, cls)
    saved = load_file(os.path.join(resume_from, "config.toml"), cls)
    file_values = load_file(config_path, cls) if config_path else {}
    merged = {**saved, **file_values, **{k: v for k, v in cli_values.items() if v is not None}}
    merged["model"] = {**saved.get("model", {}), **file_values.get("model", {}), **(cli_values.get("model") or {})}
    return cls(**merged).validate()


# --- writing the effective config ----------------------------------------------------------------


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(cfg: TrainConfig) -> str:
    """Every field; unset optional ones as comments, so the file lists all knobs."""
    command = getattr(cfg, "COMMAND", "train")  # a subclass's command (sft, grpo) writes its own name
    lines = [f"# deepcorpus {command}: the effective config of this run (deepcorpus {command} --config FILE)", "[train]"]
    for f in dataclasses.fields(cfg):
        if f.name == "model":
            continue
        v = getattr(cfg, f.name)
        help_text = f.metadata.get("help", "").replace("%%", "%")
        if v is None:
            lines.append(f"# {f.name} =   # {help_text}")
        else:
            lines.append(f"{f.name} = {_toml_value(v)}   # {help_text}")
    lines.append("")
    lines.append("[model]   # overrides of the preset's ModelArgs")
    for k, v in sorted(cfg.model.items()):
        lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def write_toml(cfg: TrainConfig, path: str) -> None:
    from deepcorpus.core import storage

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    storage.write_bytes_atomic(path, to_toml(cfg).encode())


def read_toml(path: str) -> TrainConfig:
    return TrainConfig(**load_file(path))
