"""Rollout backends: what samples GRPO's G outputs per prompt.

Every backend has `name`, `generate(prompts, n, max_new_tokens=, temperature=, top_p=, seed=)` (n
outputs per prompt, prompt-major: all of prompt 0's first; each output is its new ids, ending with EOS
when it produced one), `sync(policy)` (the policy's current weights, before each rollout batch) and
`close()`.

- `model` (default): the policy itself, through `model.generate`: one batched, KV-cached decode per
  chunk of `generation_batch` sequences, sampling from a generator seeded per rollout batch and rank
  (so a resumed run samples what the uninterrupted one did). Under FSDP2 every rank must run the same
  number of forward passes, so each chunk decodes all max_new_tokens steps (no early stop at EOS) with
  `decode` registered as an FSDP forward method.
- `vllm`: vLLM's engine on the same GPU (colocated, as TRL's colocate mode): started from a Hugging Face
  export of the initial weights, fed the policy's weights under their Hugging Face names before each
  rollout batch. It needs vLLM installed; without it the run stops at once saying so.
"""

from __future__ import annotations

import contextlib
import logging
import os

import torch

from deepcorpus.core.errors import UserError

log = logging.getLogger("posttrain")


class ModelBackend:
    name = "model"

    def __init__(self, module, eos_id: int, *, batch: int = 0, lockstep: bool = False, autocast_dtype=None):
        self.module = module
        self.eos_id = eos_id
        self.batch = batch
        self.lockstep = lockstep
        self.autocast_dtype = autocast_dtype
        if lockstep:
            from torch.distributed.fsdp import register_fsdp_forward_method

            register_fsdp_forward_method(module, "decode")

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.module.head.weight.device.type, dtype=self.autocast_dtype)

    def generate(self, prompts: list[list[int]], n: int, *, max_new_tokens: int, temperature: float, top_p: float,
                 seed: int) -> list[list[int]]:
        from model import generate

        device = self.module.head.weight.device
        generator = torch.Generator(device=device).manual_seed(seed)
        rows = [list(p) for p in prompts for _ in range(n)]
        size = self.batch or len(rows)
        out = []
        for lo in range(0, len(rows), size):
            chunk = rows[lo:lo + size]
            with self._autocast():
                done = generate(self.module, chunk, max_new_tokens, temperature=temperature, top_p=top_p,
                                eos_id=None if self.lockstep else self.eos_id, generator=generator)
            for prompt, row in zip(chunk, done):
                new = row[len(prompt):len(prompt) + max_new_tokens]
                if self.eos_id in new:
                    new = new[:new.index(self.eos_id) + 1]
                out.append(new)
        return out

    def sync(self, policy) -> None:
        return None  # it is the policy

    def close(self) -> None:
        return None


def hf_named_weights(module):
    """(Hugging Face name, tensor) of the policy's weights, as `deepcorpus export --format hf` names them."""
    from model.hf import hf_tensors

    state = module.state_dict()
    for t in hf_tensors(module.args, include_mtp=False):
        value = state[t.source]
        yield t.key, value[t.expert] if t.expert is not None else value


def check_backend(name: str) -> None:
    """Refuse a backend that cannot run here before any model is built."""
    import importlib.util

    if name == "vllm" and importlib.util.find_spec("vllm") is None:
        raise UserError("--generation-backend vllm needs vLLM (pip install vllm, on a CUDA machine); the default "
                        "backend, model, needs nothing more")


class VLLMBackend:
    name = "vllm"

    def __init__(self, hf_dir: str, *, seed: int, max_len: int, gpu_memory_utilization: float = 0.4):
        check_backend(self.name)
        import vllm

        self.llm = vllm.LLM(model=hf_dir, tokenizer=hf_dir, dtype="bfloat16", seed=seed, max_model_len=max_len,
                            gpu_memory_utilization=gpu_memory_utilization, enable_prefix_caching=True)

    def generate(self, prompts, n, *, max_new_tokens, temperature, top_p, seed):
        from vllm import SamplingParams

        params = SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens, seed=seed)
        results = self.llm.generate([{"prompt_token_ids": list(p)} for p in prompts], params, use_tqdm=False)
        return [list(c.token_ids) for r in results for c in r.outputs]

    def sync(self, policy) -> None:
        try:
            runner = self.llm.llm_engine.model_executor.driver_worker.model_runner
        except AttributeError:
            raise UserError("this vLLM version does not expose its model to the process that made it (V1 engine); "
                            "run with VLLM_ENABLE_V1_MULTIPROCESSING=0, or use --generation-backend model") from None
        runner.model.load_weights(hf_named_weights(policy))

    def close(self) -> None:
        self.llm = None


def build_backend(cfg, policy, parallel, start, run_dir: str, autocast_dtype):
    """The rollout backend the config names, for this rank."""
    if cfg.generation_backend == "vllm":
        source = start.source
        if source is None:
            raise UserError("--generation-backend vllm: the run's --init-from directory is gone")
        if source.kind == "hf":
            hf_dir = source.path
        else:
            from interop.export import export_hf

            hf_dir = os.path.join(run_dir, "vllm_init")
            if parallel.is_main and not os.path.isdir(hf_dir):
                export_hf(source.path, hf_dir, tokenizer=start.tokenizer_path, include_mtp=False)
            parallel.barrier()
        return VLLMBackend(hf_dir, seed=cfg.seed, max_len=policy.args.max_seq_len)
    return ModelBackend(policy.module, start.ids.eos, batch=cfg.generation_batch,
                        lockstep=parallel.data_parallel == "fsdp", autocast_dtype=autocast_dtype)
