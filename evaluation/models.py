"""The model under evaluation behind one small interface: our checkpoints, or a Hugging Face directory.

    lm = open_model("runs/tiny")              # a run or checkpoint directory (train.checkpoint)
    lm = open_model("export/hf")              # config.json + weights: transformers' AutoModelForCausalLM
    lm.logprobs([ids, ...])                   # natural-log p(token t | tokens < t) for t >= 1, per sequence
    lm.generate([prompt_ids, ...], 256)       # new ids per prompt, batched, with the KV cache

Texts are scored as if each began a new document: after the tokens that separate documents in
training (`start_ids`: EOS for our token shards, which end every document with it and begin none
with BOS; BOS for a Hugging Face tokenizer that adds one).
"""

from __future__ import annotations

import logging
import os

import numpy as np

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

log = logging.getLogger(__name__)

HF_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
# Logits held at once while scoring: batch x length x vocabulary floats.
LOGIT_BUDGET = 64 << 20


def is_hf_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "config.json")) and any(
        os.path.isfile(os.path.join(path, f)) for f in HF_WEIGHTS)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def open_model(path: str, device: str | None = None, tokenizer: str | None = None) -> LanguageModel:
    device = device or default_device()
    if storage.is_dir(path) and is_hf_dir(path):
        return HFModel(path, device)
    return CheckpointModel(path, device, tokenizer)


class LanguageModel:
    kind = "base"
    max_len: int
    eos_id: int | None
    start_ids: list[int]

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: list[int]) -> str:
        raise NotImplementedError

    def _logits(self, tokens, mask):
        raise NotImplementedError

    def logprobs(self, sequences: list[list[int]]) -> list[np.ndarray]:
        """Per sequence (each at most `max_len` ids), the log-probability of every id after the first."""
        import torch

        out: list[np.ndarray | None] = [None] * len(sequences)
        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
        start = 0
        while start < len(order):
            longest = len(sequences[order[start]])
            size = max(1, LOGIT_BUDGET // max(1, longest * self.vocab_size))
            batch = order[start:start + size]
            start += size
            tokens = torch.zeros(len(batch), longest, dtype=torch.long)
            mask = torch.zeros(len(batch), longest, dtype=torch.bool)
            for row, i in enumerate(batch):
                tokens[row, :len(sequences[i])] = torch.tensor(sequences[i])
                mask[row, :len(sequences[i])] = True
            with torch.no_grad():
                logits = self._logits(tokens.to(self.device), mask.to(self.device)).float()
                logp = torch.log_softmax(logits[:, :-1], dim=-1)
                picked = logp.gather(-1, tokens[:, 1:].to(self.device).unsqueeze(-1)).squeeze(-1).cpu().numpy()
            for row, i in enumerate(batch):
                out[i] = picked[row, :len(sequences[i]) - 1].astype(np.float64)
        return out  # type: ignore[return-value]

    def generate(self, prompts: list[list[int]], max_new_tokens: int, temperature: float = 0.0,
                 top_p: float = 1.0, seed: int = 0) -> list[list[int]]:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"kind": self.kind, "max_len": self.max_len}


class CheckpointModel(LanguageModel):
    """A run or checkpoint directory of ours, with the tokenizer its run recorded (or `tokenizer`)."""

    kind = "checkpoint"

    def __init__(self, path: str, device: str = "cpu", tokenizer: str | None = None):
        from pipelines.tokenize.tokenizer import BOS, EOS, load_tokenizer
        from train.checkpoint import load_for_inference, resolve_checkpoint

        if not storage.exists(path):
            raise UserError(f"{path}: no such run, checkpoint or Hugging Face directory")
        self.path = path
        self.checkpoint = resolve_checkpoint(path)
        self.model, self.args, tok_path = load_for_inference(path, device=device)
        tok_path = tokenizer or tok_path
        if not tok_path:
            raise UserError(f"{path}: the checkpoint names no tokenizer (or it is gone); pass --tokenizer tokenizer.json")
        self.tokenizer_path = tok_path
        self.tokenizer = load_tokenizer(tok_path)  # as in training: special-token text stays plain text
        self.device = device
        self.max_len = int(self.args.max_seq_len)
        self.vocab_size = int(self.args.vocab_size)
        self.eos_id = self.tokenizer.token_to_id(EOS)
        self.bos_id = self.tokenizer.token_to_id(BOS)
        self.start_ids = [self.eos_id] if self.eos_id is not None else []

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _logits(self, tokens, mask):
        import torch

        with torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16, enabled=self.device.startswith("cuda")):
            return self.model(tokens).logits  # causal: right padding cannot reach the real positions

    def generate(self, prompts, max_new_tokens, temperature=0.0, top_p=1.0, seed=0):
        import torch

        from model import generate
        generator = torch.Generator(device=self.device).manual_seed(seed) if temperature > 0 else None
        with torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16, enabled=self.device.startswith("cuda")):
            rows = generate(self.model, [list(p) for p in prompts], max_new_tokens, temperature=temperature,
                            top_p=top_p, eos_id=self.eos_id, generator=generator)
        out = []
        for prompt, row in zip(prompts, rows):
            new = row[len(prompt):]
            out.append(new[:-1] if new and new[-1] == self.eos_id else new)
        return out

    def describe(self) -> dict:
        return {"kind": self.kind, "path": self.path, "checkpoint": self.checkpoint, "tokenizer": self.tokenizer_path,
                "max_len": self.max_len, "parameters": sum(p.numel() for p in self.model.parameters())}


def _quiet_transformers() -> None:
    """No loading progress bar and no load report: an exported checkpoint's multi-token-prediction
    layer is one transformers does not use, and it lists each of its tensors as UNEXPECTED. Errors
    still show; `--debug` (the root logger at DEBUG) keeps everything."""
    import logging

    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class HFModel(LanguageModel):
    """A Hugging Face model directory, loaded offline through AutoModelForCausalLM (the `hf` extra)."""

    kind = "hf"

    def __init__(self, path: str, device: str = "cpu"):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise UserError(f"{path}: a Hugging Face directory; evaluating it needs transformers: "
                            "pip install 'deepcorpus[hf]'") from None
        _quiet_transformers()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
            self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
        except (OSError, ValueError) as e:
            raise UserError(f"{path}: cannot load as a Hugging Face model ({str(e).splitlines()[0]})") from None
        self.path = path
        self.device = device
        self.model.to(device).eval()
        config = self.model.config
        self.max_len = int(getattr(config, "max_position_embeddings", 2048) or 2048)
        self.vocab_size = int(config.vocab_size)
        self.eos_id = self.tokenizer.eos_token_id
        bos = self.tokenizer.bos_token_id
        adds_bos = bos is not None and self.tokenizer("a").input_ids[:1] == [bos]
        self.start_ids = [bos] if adds_bos else ([self.eos_id] if self.eos_id is not None else [])
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else (self.eos_id or 0)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _logits(self, tokens, mask):
        return self.model(input_ids=tokens, attention_mask=mask.long()).logits

    def generate(self, prompts, max_new_tokens, temperature=0.0, top_p=1.0, seed=0):
        import torch

        torch.manual_seed(seed)
        longest = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), longest), self.pad_id, dtype=torch.long)
        mask = torch.zeros(len(prompts), longest, dtype=torch.long)
        for i, p in enumerate(prompts):  # left padding, as generation continues from the right end
            ids[i, longest - len(p):] = torch.tensor(p)
            mask[i, longest - len(p):] = 1
        sample = temperature > 0
        with torch.no_grad():
            out = self.model.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                      max_new_tokens=max_new_tokens, do_sample=sample,
                                      temperature=temperature if sample else None, top_p=top_p if sample else None,
                                      pad_token_id=self.pad_id, eos_token_id=self.eos_id)
        rows = []
        for row in out[:, longest:].tolist():
            if self.eos_id is not None and self.eos_id in row:
                row = row[:row.index(self.eos_id)]
            rows.append(row)
        return rows

    def describe(self) -> dict:
        return {"kind": self.kind, "path": self.path, "max_len": self.max_len,
                "architecture": type(self.model).__name__,
                "parameters": sum(p.numel() for p in self.model.parameters())}
