"""Hugging Face interop, the model's side: DeepSeek's `config.json` <-> ModelArgs, and our state-dict keys
<-> the key layout of DeepSeek's released checkpoints, which transformers' `DeepseekV3ForCausalLM`
(sigmoid routing) and `DeepseekV2ForCausalLM` (softmax routing) load and vLLM and SGLang serve.

    config = hf_config(args, bos_id=0, eos_id=1, pad_id=2)        # config.json as a dict
    for t in hf_tensors(args): t.key, t.source, t.expert, t.shape   # the export's plan, no weights read
    args = args_from_hf_config(json.load(open("DeepSeek-V2-Lite/config.json")))
    with HfCheckpoint("DeepSeek-V2-Lite") as ckpt:
        load_hf_weights(model, ckpt)                                 # FP8 blocks dequantised on the way

The layout, per layer N (the MTP modules continue the numbering at n_layers, as V3's release stores
its MTP module at layer 61, with copies of the embedding and head):

    layers.N.attn_norm / ffn_norm          model.layers.N.input_layernorm / post_attention_layernorm
    layers.N.attn.wq | wq_a, q_norm, wq_b  self_attn.q_proj | q_a_proj, q_a_layernorm, q_b_proj
    layers.N.attn.wkv_a, kv_norm, wkv_b    self_attn.kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj
    layers.N.attn.wo                       self_attn.o_proj
    layers.N.ffn.w1, w3, w2                mlp.gate_proj, up_proj, down_proj (dense; shared_experts too)
    layers.N.ffn.gate.weight, .bias        mlp.gate.weight, mlp.gate.e_score_correction_bias (V3 only)
    layers.N.ffn.experts.w1[E] ...         mlp.experts.E.gate_proj.weight ... (one tensor per expert)
    mtp.J.enorm, hnorm, proj, norm         model.layers.{n+J}.enorm, hnorm, eh_proj, shared_head.norm

Nothing here imports transformers; reading safetensors needs the `safetensors` package (the `hf` extra).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from dataclasses import dataclass

import torch

from deepcorpus.core.errors import UserError
from model.config import ModelArgs
from model.presets import get_preset

log = logging.getLogger(__name__)

V3, V2 = "DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM"

_TOP = {"embed.weight": "model.embed_tokens.weight", "norm.weight": "model.norm.weight", "head.weight": "lm_head.weight"}
_BLOCK = {  # our module path inside a block -> DeepSeek's
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn.wq": "self_attn.q_proj", "attn.wq_a": "self_attn.q_a_proj", "attn.q_norm": "self_attn.q_a_layernorm",
    "attn.wq_b": "self_attn.q_b_proj", "attn.wkv_a": "self_attn.kv_a_proj_with_mqa",
    "attn.kv_norm": "self_attn.kv_a_layernorm", "attn.wkv_b": "self_attn.kv_b_proj", "attn.wo": "self_attn.o_proj",
    "ffn.gate": "mlp.gate",
}
_MLP = {"w1": "gate_proj", "w3": "up_proj", "w2": "down_proj"}
_MTP = {"enorm": "enorm", "hnorm": "hnorm", "proj": "eh_proj", "norm": "shared_head.norm"}


def architecture(args: ModelArgs) -> str:
    """DeepseekV3ForCausalLM for sigmoid routing with the correction bias, DeepseekV2 for softmax."""
    return V3 if args.score_func == "sigmoid" else V2


# -- keys ---------------------------------------------------------------------------------------------


def _block_key(rest: str) -> str:
    """`attn.wq_a.weight`, `ffn.shared_experts.w1.weight`, `ffn.gate.bias` -> DeepSeek's name in a layer."""
    module, _, leaf = rest.rpartition(".")
    if module == "ffn.gate" and leaf == "bias":
        return "mlp.gate.e_score_correction_bias"
    if module in _BLOCK:
        return f"{_BLOCK[module]}.{leaf}"
    parts = module.split(".")
    if parts[0] == "ffn" and parts[-1] in _MLP:  # ffn.w1 (dense) or ffn.shared_experts.w1
        return ".".join(["mlp", *parts[1:-1], _MLP[parts[-1]]]) + f".{leaf}"
    raise KeyError(rest)


def hf_key(args: ModelArgs, key: str, expert: int | None = None) -> str:
    """Our state-dict key (and expert index for the stacked `ffn.experts.w1|w2|w3`) -> DeepSeek's key."""
    if key in _TOP:
        return _TOP[key]
    m = re.fullmatch(r"(layers|mtp)\.(\d+)\.(.+)", key)
    if not m:
        raise KeyError(key)
    kind, index, rest = m.group(1), int(m.group(2)), m.group(3)
    layer = index if kind == "layers" else args.n_layers + index
    prefix = f"model.layers.{layer}."
    if kind == "mtp":
        module, _, leaf = rest.partition(".")
        if module in _MTP:
            return prefix + f"{_MTP[module]}.{leaf}"
        rest = rest.removeprefix("block.")
    if expert is not None:
        w = re.fullmatch(r"ffn\.experts\.(w[123])", rest)
        if not w:
            raise KeyError(key)
        return prefix + f"mlp.experts.{expert}.{_MLP[w.group(1)]}.weight"
    return prefix + _block_key(rest)


@dataclass(frozen=True)
class HfTensor:
    """One tensor of the exported checkpoint: its key, the state-dict entry it comes from (one expert of
    a stacked tensor when `expert` is set), its shape, and whether it stays float32 (the router)."""

    key: str
    source: str
    expert: int | None
    shape: tuple[int, ...]
    router: bool = False


def state_shapes(args: ModelArgs) -> dict[str, tuple[int, ...]]:
    """Our state-dict keys and shapes, from a model on the meta device (no memory)."""
    from model.transformer import Transformer

    with torch.device("meta"):
        model = Transformer(args)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def hf_tensors(args: ModelArgs, include_mtp: bool = True) -> list[HfTensor]:
    """Every tensor of the exported checkpoint in the order written. The MTP layers also carry the
    embedding and head under `embed_tokens` and `shared_head.head`, as V3's release does (vLLM reads
    them there). V2 has no correction bias: softmax routers export without theirs."""
    out = []
    for key, shape in state_shapes(args).items():
        if key.startswith("mtp.") and not include_mtp:
            continue
        if key.endswith("ffn.gate.bias") and architecture(args) == V2:
            continue
        router = key.endswith(("ffn.gate.weight", "ffn.gate.bias"))
        if re.search(r"ffn\.experts\.w[123]$", key):
            out += [HfTensor(hf_key(args, key, e), key, e, shape[1:]) for e in range(shape[0])]
        else:
            out.append(HfTensor(hf_key(args, key), key, None, shape, router))
        m = re.fullmatch(r"mtp\.(\d+)\.norm\.weight", key)
        if m:  # the shared embedding and head, stored again with each MTP layer
            layer = f"model.layers.{args.n_layers + int(m.group(1))}"
            out.append(HfTensor(f"{layer}.embed_tokens.weight", "embed.weight", None, (args.vocab_size, args.dim)))
            out.append(HfTensor(f"{layer}.shared_head.head.weight", "head.weight", None, (args.vocab_size, args.dim)))
    return out


# -- config.json --------------------------------------------------------------------------------------


def hf_config(args: ModelArgs, *, bos_id: int | None = None, eos_id: int | None = None, pad_id: int | None = None,
              dtype: str = "bfloat16", include_mtp: bool = True) -> dict:
    """The config.json of DeepSeek's releases (V3's for sigmoid routing, V2's for softmax), every field
    mapped. RoPE is written the releases' way (`rope_theta`, `rope_scaling`), which transformers 4.x and
    5.x and vLLM all read. YaRN's `mscale` and `mscale_all_dim` are both our mscale: transformers then
    leaves cos/sin unscaled and multiplies the softmax scale by mscale², as DeepSeek's reference does."""
    v3 = architecture(args) == V3
    if args.yarn and args.mscale == 0:
        raise UserError("model config: yarn with mscale 0 has no DeepSeek config.json equivalent")
    mtp = args.mtp_depth if include_mtp else 0
    if mtp and not args.n_moe_layers:
        log.warning("a dense model's MTP block is dense; transformers and vLLM build MTP layers as MoE layers")
    if not v3 and args.normalize_weights:
        log.warning("softmax routing with normalised top-k weights: DeepSeek-V2's own code and vLLM honour "
                    "norm_topk_prob, transformers' DeepseekV2 ignores it")
    rope_scaling = None
    if args.yarn:
        rope_scaling = {"type": "yarn", "factor": args.rope_factor, "original_max_position_embeddings": args.original_seq_len,
                        "beta_fast": args.beta_fast, "beta_slow": args.beta_slow, "mscale": args.mscale,
                        "mscale_all_dim": args.mscale}
    config = {
        "architectures": [architecture(args)],
        "model_type": "deepseek_v3" if v3 else "deepseek_v2",
        "vocab_size": args.vocab_size,
        "hidden_size": args.dim,
        "intermediate_size": args.inter_dim,
        "moe_intermediate_size": args.moe_inter_dim,
        "num_hidden_layers": args.n_layers,
        "num_nextn_predict_layers": mtp,
        "num_attention_heads": args.n_heads,
        "num_key_value_heads": args.n_heads,  # MLA: every head has its own key and value
        "q_lora_rank": args.q_lora_rank or None,
        "kv_lora_rank": args.kv_lora_rank,
        "qk_nope_head_dim": args.qk_nope_head_dim,
        "qk_rope_head_dim": args.qk_rope_head_dim,
        "v_head_dim": args.v_head_dim,
        "first_k_dense_replace": args.n_dense_layers,
        "moe_layer_freq": 1,
        "n_routed_experts": args.n_routed_experts,
        "n_shared_experts": args.n_shared_experts,
        "num_experts_per_tok": args.n_activated_experts,
        "n_group": args.n_groups,
        "topk_group": args.topk_groups,
        "topk_method": "noaux_tc" if v3 else ("group_limited_greedy" if args.n_groups > 1 else "greedy"),
        "scoring_func": args.score_func,
        "norm_topk_prob": args.normalize_weights,
        "routed_scaling_factor": args.route_scale,
        "aux_loss_alpha": args.seq_aux_alpha,
        "seq_aux": True,
        "ep_size": 1,
        "hidden_act": "silu",
        "max_position_embeddings": args.max_seq_len,
        "rope_theta": args.rope_theta,
        "rope_scaling": rope_scaling,
        "rms_norm_eps": args.norm_eps,
        "initializer_range": args.init_std,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "tie_word_embeddings": False,
        "use_cache": True,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "pad_token_id": pad_id,
        "torch_dtype": dtype,
    }
    if v3:
        config["rope_interleave"] = True  # our rotary pairs are (x[2i], x[2i+1]), as DeepSeek's weights
    return config


def _training_defaults(score_func: str) -> dict:
    """The knobs a config.json does not carry: V3's for sigmoid routers, V2-Lite's for softmax ones."""
    preset = get_preset("v3" if score_func == "sigmoid" else "v2-lite")
    return {k: getattr(preset, k) for k in ("bias_update_speed", "seq_aux_alpha", "mtp_lambda")}


def args_from_hf_config(config: dict, where: str = "config.json") -> ModelArgs:
    """ModelArgs for a DeepSeek-V2/V2-Lite/V3/Coder-V2 style config.json; what our model cannot run
    the same way is refused, one line naming the field."""

    def bad(msg):
        raise UserError(f"{where}: {msg}")

    def get(name, default=None):
        value = config.get(name, default)
        return default if value is None else value

    arch = (config.get("architectures") or [None])[0]
    model_type = config.get("model_type")
    if model_type not in ("deepseek_v2", "deepseek_v3") and arch not in (V2, V3):
        bad(f"not a DeepSeek-V2/V3 checkpoint (model_type {model_type!r}, architectures {config.get('architectures')})")
    v3 = model_type == "deepseek_v3" or (model_type is None and arch == V3)
    for name, want in (("hidden_act", "silu"), ("attention_bias", False), ("tie_word_embeddings", False),
                       ("moe_layer_freq", 1)):
        if get(name, want) != want:
            bad(f"{name} {config[name]!r} is not supported (the model has {want!r})")
    score_func = get("scoring_func", "sigmoid" if v3 else "softmax")
    if score_func != ("sigmoid" if v3 else "softmax"):
        bad(f"scoring_func {score_func!r} with model_type {model_type!r}: transformers routes "
            f"{'DeepSeek-V3 with sigmoid' if v3 else 'DeepSeek-V2 with softmax'} scores")
    topk_method = get("topk_method", "noaux_tc" if v3 else "greedy")
    if topk_method not in ("noaux_tc", "greedy", "group_limited_greedy"):
        bad(f"topk_method {topk_method!r} is not supported (noaux_tc, greedy or group_limited_greedy)")
    n_layers = int(config["num_hidden_layers"])
    experts = get("n_routed_experts", 0)
    n_groups, topk_groups = int(get("n_group", 1)), int(get("topk_group", 1))
    if topk_method == "greedy":
        n_groups = topk_groups = 1  # greedy top-k ignores the groups
    norm_topk = get("norm_topk_prob", v3)

    rope = dict(config.get("rope_scaling") or config.get("rope_parameters") or {})
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    theta = float(get("rope_theta", rope.get("rope_theta", 10000.0)))
    yarn = {}
    if rope_type == "yarn":
        mscale, mscale_all = rope.get("mscale"), rope.get("mscale_all_dim")
        if not mscale_all or (mscale or 0) != mscale_all:
            # transformers would scale cos/sin by mscale(mscale)/mscale(mscale_all_dim); DeepSeek's
            # releases set the two equal, so only the softmax scale changes, as in our model.
            bad(f"rope_scaling mscale {mscale} and mscale_all_dim {mscale_all} must be equal and non-zero")
        if rope.get("truncate", True) is not True or rope.get("attention_factor") not in (None, 1, 1.0):
            bad("rope_scaling truncate/attention_factor other than the defaults are not supported")
        yarn = dict(yarn=True, rope_factor=float(rope["factor"]),
                    original_seq_len=int(rope.get("original_max_position_embeddings", 4096)),
                    beta_fast=rope.get("beta_fast") or 32, beta_slow=rope.get("beta_slow") or 1, mscale=float(mscale_all))
    elif rope_type != "default":
        bad(f"rope type {rope_type!r} is not supported (default or yarn)")

    fields = dict(
        vocab_size=int(config["vocab_size"]), dim=int(config["hidden_size"]), n_layers=n_layers,
        n_heads=int(config["num_attention_heads"]), q_lora_rank=int(get("q_lora_rank", 0)),
        kv_lora_rank=int(config["kv_lora_rank"]), qk_nope_head_dim=int(config["qk_nope_head_dim"]),
        qk_rope_head_dim=int(config["qk_rope_head_dim"]), v_head_dim=int(config["v_head_dim"]),
        n_dense_layers=min(int(get("first_k_dense_replace", 0)), n_layers) if experts else n_layers,
        inter_dim=int(config["intermediate_size"]), moe_inter_dim=int(get("moe_intermediate_size", 1)),
        n_routed_experts=int(experts or 1), n_shared_experts=int(get("n_shared_experts", 0)),
        n_activated_experts=int(get("num_experts_per_tok", 1)), n_groups=n_groups, topk_groups=topk_groups,
        score_func=score_func, route_scale=float(get("routed_scaling_factor", 1.0)), norm_topk_prob=bool(norm_topk),
        mtp_depth=int(get("num_nextn_predict_layers", 0)), max_seq_len=int(get("max_position_embeddings", 4096)),
        rope_theta=theta, norm_eps=float(get("rms_norm_eps", 1e-6)), init_std=float(get("initializer_range", 0.006)),
        **_training_defaults(score_func), **yarn,
    )
    if "aux_loss_alpha" in config and config["aux_loss_alpha"] is not None:
        fields["seq_aux_alpha"] = float(config["aux_loss_alpha"])
    try:
        return ModelArgs(**fields)
    except UserError as e:
        bad(str(e))


# -- safetensors checkpoints --------------------------------------------------------------------------


def _safetensors():
    try:
        import safetensors  # noqa: F401
    except ImportError:
        raise UserError("Hugging Face checkpoints need the `safetensors` package: pip install 'deepcorpus[hf]'") from None
    from safetensors import safe_open

    return safe_open


def is_hf_checkpoint(path: str) -> bool:
    """A local directory with a config.json and safetensors weights."""
    return os.path.isfile(os.path.join(path, "config.json")) and (
        os.path.isfile(os.path.join(path, "model.safetensors.index.json"))
        or any(f.endswith(".safetensors") for f in os.listdir(path)))


class HfCheckpoint:
    """The tensors of a local safetensors checkpoint (sharded with model.safetensors.index.json, or
    single files), read one at a time from memory-mapped files."""

    def __init__(self, path: str):
        if not os.path.isdir(path):
            raise UserError(f"{path}: not a directory (expected a Hugging Face checkpoint)")
        self.path = path
        self.config = self._read_json("config.json")
        index = os.path.join(path, "model.safetensors.index.json")
        safe_open = _safetensors()
        self._handles: dict[str, object] = {}
        if os.path.isfile(index):
            weight_map = self._read_json("model.safetensors.index.json").get("weight_map")
            if not isinstance(weight_map, dict):
                raise UserError(f"{index}: no weight_map")
            self.files = dict(weight_map)
        else:
            self.files = {}
            for name in sorted(f for f in os.listdir(path) if f.endswith(".safetensors")):
                for key in self._open(name, safe_open).keys():
                    self.files[key] = name
        if not self.files:
            raise UserError(f"{path}: no safetensors weights")
        for name in sorted(set(self.files.values())):
            if not os.path.isfile(os.path.join(path, name)):
                raise UserError(f"{os.path.join(path, name)}: listed in the index but missing")
        block = (self.config.get("quantization_config") or {}).get("weight_block_size") or [128, 128]
        self.block = (int(block[0]), int(block[1]))

    def _read_json(self, name: str) -> dict:
        p = os.path.join(self.path, name)
        try:
            with open(p, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            raise UserError(f"{p}: no such file") from None
        except json.JSONDecodeError as e:
            raise UserError(f"{p}: malformed JSON ({e})") from None

    def _open(self, name: str, safe_open=None):
        if name not in self._handles:
            safe_open = safe_open or _safetensors()
            try:
                self._handles[name] = safe_open(os.path.join(self.path, name), framework="pt", device="cpu")
            except Exception as e:  # safetensors raises its own SafetensorError on a bad header
                raise UserError(f"{os.path.join(self.path, name)}: corrupt safetensors file ({e})") from None
        return self._handles[name]

    def keys(self) -> set[str]:
        return set(self.files)

    def __contains__(self, key: str) -> bool:
        return key in self.files

    def raw(self, key: str) -> torch.Tensor:
        return self._open(self.files[key]).get_tensor(key)

    def get(self, key: str) -> torch.Tensor:
        """The tensor `key`, FP8 weights dequantised with their `weight_scale_inv` (float32 then)."""
        t = self.raw(key)
        scale = key + "_scale_inv"
        if scale in self.files:
            t = dequantize_blocks(t, self.raw(scale), self.block, where=f"{self.path}: {key}")
        elif t.element_size() == 1 and t.is_floating_point():
            raise UserError(f"{self.path}: {key} is {t.dtype} without {scale}")
        return t

    def close(self) -> None:
        self._handles.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def dequantize_blocks(weight: torch.Tensor, scale_inv: torch.Tensor, block: tuple[int, int] = (128, 128),
                      where: str = "weight") -> torch.Tensor:
    """An FP8 weight (rows, cols) times its per-block scale (ceil(rows/b0), ceil(cols/b1)), as DeepSeek-V3's
    `weight_dequant`: every b0 x b1 block (the last ones partial) shares one float32 factor."""
    rows, cols = weight.shape
    want = (math.ceil(rows / block[0]), math.ceil(cols / block[1]))
    if tuple(scale_inv.shape) != want:
        raise UserError(f"{where}: weight_scale_inv is {tuple(scale_inv.shape)}, expected {want} for a "
                        f"{rows}x{cols} weight in {block[0]}x{block[1]} blocks")
    scale = scale_inv.float().repeat_interleave(block[0], 0)[:rows].repeat_interleave(block[1], 1)[:, :cols]
    return weight.float() * scale


# -- loading a checkpoint into our model --------------------------------------------------------------


def _interleave_rows(rows: torch.Tensor, rope_dim: int) -> torch.Tensor:
    """Rope rows in the rotate-half layout (pair i = rows i, i + R/2) -> interleaved (2i, 2i+1)."""
    half = torch.arange(rope_dim // 2)
    return rows[torch.stack([half, half + rope_dim // 2], dim=-1).flatten()]


def _rope_to_interleaved(args: ModelArgs, hf_name: str, w: torch.Tensor) -> torch.Tensor:
    R, C = args.qk_rope_head_dim, args.kv_lora_rank
    if hf_name.endswith(("self_attn.q_proj.weight", "self_attn.q_b_proj.weight")):
        heads = w.view(args.n_heads, args.qk_head_dim, -1).clone()
        for h in range(args.n_heads):
            heads[h, args.qk_nope_head_dim:] = _interleave_rows(heads[h, args.qk_nope_head_dim:], R)
        return heads.view_as(w)
    if hf_name.endswith("self_attn.kv_a_proj_with_mqa.weight"):
        return torch.cat([w[:C], _interleave_rows(w[C:], R)])
    return w


@torch.no_grad()
def load_hf_weights(model, ckpt: HfCheckpoint) -> dict:
    """Copy a DeepSeek-layout checkpoint into `model` (a Transformer built from `args_from_hf_config`),
    tensor by tensor: peak memory is the model plus one tensor. Routed experts may be stored one per
    expert (the releases, transformers' save_pretrained) or stacked (`experts.gate_up_proj`,
    `experts.down_proj`). Missing main-model weights and unused checkpoint tensors are errors; missing
    MTP modules are initialised fresh (a warning). Returns {"loaded", "fresh", "ignored"} key lists."""
    args = model.args
    interleaved = ckpt.config.get("rope_interleave", True) is not False
    state = model.state_dict()
    used: set[str] = set()
    fresh: list[str] = []

    def fetch(name: str, shape: tuple[int, ...], source: str) -> torch.Tensor:
        t = ckpt.get(name)
        if tuple(t.shape) != tuple(shape):
            raise UserError(f"{ckpt.path}: {name} has shape {tuple(t.shape)}, the config gives {tuple(shape)}")
        used.add(name)
        return t if interleaved else _rope_to_interleaved(args, name, t)

    by_source: dict[str, list[HfTensor]] = {}
    for t in hf_tensors(args):
        if t.source in ("embed.weight", "head.weight") and t.key.startswith("model.layers."):
            continue  # the MTP layers' copies; the main model's are read
        by_source.setdefault(t.source, []).append(t)
    mtp_missing = {k.split(".")[1] for k, items in by_source.items() if k.startswith("mtp.")
                   and any(i.key not in ckpt and not _stacked_in(ckpt, i) for i in items)}
    for source, items in by_source.items():
        target = state[source]
        if source.startswith("mtp.") and source.split(".")[1] in mtp_missing:
            fresh.append(source)
            continue
        if items[0].expert is None:
            item = items[0]
            if item.key not in ckpt:
                if source.endswith("ffn.gate.bias") and not any(k.endswith("e_score_correction_bias") for k in ckpt.keys()):
                    fresh.append(source)  # a softmax (V2) router has none: the bias stays zero
                    continue
                raise UserError(f"{ckpt.path}: {item.key} is missing")
            target.copy_(fetch(item.key, item.shape, source))
            continue
        if all(i.key in ckpt for i in items):
            for i in items:
                target[i.expert].copy_(fetch(i.key, i.shape, source))
        elif _stacked_in(ckpt, items[0]):
            target.copy_(_from_stacked(ckpt, items[0], target.shape, used))
        else:
            raise UserError(f"{ckpt.path}: {items[0].key} is missing")
    if fresh and any(k.startswith("mtp.") for k in fresh):
        log.warning("%s: no weights for MTP module(s) %s; they start freshly initialised", ckpt.path,
                    ", ".join(sorted(mtp_missing)))
    mtp_copies = {t.key for t in hf_tensors(args) if t.source in ("embed.weight", "head.weight")
                  and t.key.startswith("model.layers.")}
    ignored = sorted(k for k in ckpt.keys() - used if k in mtp_copies or k.endswith(("_scale_inv", "rotary_emb.inv_freq"))
                     or _beyond(args, k))
    unused = sorted(ckpt.keys() - used - set(ignored))
    if unused:
        more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
        raise UserError(f"{ckpt.path}: tensors the model has no place for: {', '.join(unused[:5])}{more}")
    return {"loaded": sorted(used), "fresh": fresh, "ignored": ignored}


def _beyond(args: ModelArgs, key: str) -> bool:
    """An MTP layer past the ones this model keeps (mtp_depth lowered on import)."""
    m = re.match(r"model\.layers\.(\d+)\.", key)
    return bool(m) and int(m.group(1)) >= args.n_layers + args.mtp_depth


def _stacked_key(item: HfTensor) -> tuple[str, str]:
    prefix = item.key.rsplit(".experts.", 1)[0] + ".experts."
    return (prefix + "gate_up_proj", "w13") if not item.source.endswith("w2") else (prefix + "down_proj", "w2")


def _stacked_in(ckpt: HfCheckpoint, item: HfTensor) -> bool:
    return item.expert is not None and _stacked_key(item)[0] in ckpt


def _from_stacked(ckpt: HfCheckpoint, item: HfTensor, shape, used: set[str]) -> torch.Tensor:
    """transformers' in-memory layout: gate_up_proj (E, 2I, D) = [gate; up] per expert, down_proj (E, D, I)."""
    key, kind = _stacked_key(item)
    t = ckpt.get(key)
    used.add(key)
    if kind == "w2":
        return t
    inter = shape[1]
    return t[:, :inter] if item.source.endswith("w1") else t[:, inter:]
