"""What a post-training run starts from: the checkpoint (a run of ours or a Hugging Face directory), its
tokenizer, the ids that begin a document, and the model built from them with train's `build_model`.

The ids that begin each example and prompt are the document start the checkpoint was trained with:
BOS when its token shards began documents with it (`tokenize run --add-bos`, recorded in the run) or
its Hugging Face tokenizer adds one, else EOS, the token that ends (and so precedes) every document
in our shards, as `deepcorpus eval` prompts a checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

log = logging.getLogger("posttrain")


@dataclass
class Start:
    source: object | None  # train.init_from.InitSource; None when resuming without it
    tokenizer_path: str
    tokenizer_hash: str
    tokenizer: object  # tokenizers.Tokenizer
    ids: object  # pipelines.tokenize.tokenizer.SpecialIds
    add_bos: bool
    start_ids: list[int]

    @property
    def vocab_size(self) -> int:
        from pipelines.tokenize.tokenizer import vocab_size

        return vocab_size(self.tokenizer)


def _hf_adds_bos(path: str) -> bool:
    config = os.path.join(path, "tokenizer_config.json")
    if not os.path.isfile(config):
        return True  # DeepSeek's releases add BOS
    try:
        with open(config, encoding="utf-8") as f:
            return bool(json.load(f).get("add_bos_token", True))
    except json.JSONDecodeError:
        raise UserError(f"{config}: malformed JSON") from None


def open_start(cfg, resume_ckpt: dict | None = None) -> Start:
    """The init source and tokenizer of `cfg`; a resumed run takes both from its own checkpoint first."""
    from pipelines.tokenize.tokenizer import load_tokenizer, special_ids, tokenizer_hash
    from train import init_from

    saved = (resume_ckpt or {}).get("trainer", {})
    source = None
    if cfg.init_from and (resume_ckpt is None or os.path.isdir(cfg.init_from)):
        source = init_from.open_source(cfg.init_from)
    if source is None and resume_ckpt is None:
        raise UserError(f"--init-from RUN_DIR|HF_DIR is required: {cfg.COMMAND} starts from a trained checkpoint")
    path = cfg.tokenizer or saved.get("tokenizer") or (source.tokenizer if source else None)
    if not path:
        raise UserError(f"{cfg.init_from}: names no tokenizer (or it is gone); pass --tokenizer tokenizer.json")
    if not storage.exists(path):
        raise UserError(f"{path}: no such tokenizer file")
    digest = tokenizer_hash(path)
    if source is not None and resume_ckpt is None and source.tokenizer_hash and source.tokenizer_hash != digest:
        init_from.check_tokenizer(source, digest, path)  # accepted only when it is the same tokenizer in content
    tok = load_tokenizer(path)
    ids = special_ids(tok)
    if "add_bos" in saved:
        add_bos = bool(saved["add_bos"])
    elif source is not None and source.kind == "hf":
        add_bos = _hf_adds_bos(source.path)
    elif source is not None:
        trainer = json.loads(storage.read_bytes(storage.join(source.checkpoint, "trainer.json")))
        add_bos = bool(trainer.get("add_bos"))
    else:
        add_bos = False
    return Start(source, path, digest, tok, ids, add_bos, [ids.bos] if add_bos else [ids.eos])


def build_policy(cfg, start: Start, parallel, seq_len: int, resume_ckpt: dict | None, overrides: dict | None = None):
    """train's TrainModel: from the resumed checkpoint's architecture, else the init source's weights."""
    from train import init_from
    from train.checkpoint import model_args_from_dict
    from train.model_setup import build_model

    info = {"vocab_size": start.vocab_size, "seq_len": seq_len}
    model_overrides = {**cfg.model, **(overrides or {})}
    if resume_ckpt is not None:
        args = model_args_from_dict(resume_ckpt["model_args"])
        return build_model(cfg, info, parallel, args)
    source = start.source
    if parallel.is_main:
        log.info("init: weights from %s", source.describe())
    return build_model(cfg, info, parallel, init_from.model_args(source, model_overrides),
                       load_weights=lambda module: init_from.load_weights(source, module))


def run_state(start: Start) -> dict:
    """What every checkpoint's trainer.json records for inference, export and resuming."""
    return {"tokenizer": start.tokenizer_path, "tokenizer_hash": start.tokenizer_hash, "add_bos": start.add_bos}
