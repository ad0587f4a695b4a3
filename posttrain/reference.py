"""The frozen reference policy π_ref of GRPO's KL term, refreshed from the policy every K steps.

    RUN/reference/step_00000000.pt   the initial policy (written when the run starts)
    RUN/reference/step_00000400.pt   the policy after step 400, when --ref-refresh-every 400

The reference is a model of its own on every rank: no gradients, eval mode, sharded like the policy
under FSDP2. Its weights are also a snapshot file, so a resumed run computes the same KL: the rollout
stream's state (in every checkpoint) names the snapshot in use. Snapshots no complete checkpoint
names, other than the newest, are deleted (they are ours).
"""

from __future__ import annotations

import json
import logging
import os
import re

import torch

from deepcorpus.core import storage

log = logging.getLogger("posttrain")
SNAPSHOT = re.compile(r"^step_(\d{8})\.pt$")


class Reference:
    def __init__(self, policy, parallel, run_dir: str):
        from model import Transformer
        from train.parallel import wrap_model

        self.policy = policy
        self.parallel = parallel
        self.folder = os.path.join(run_dir, "reference")
        with torch.device(parallel.device):
            module = Transformer(policy.args)
        module.requires_grad_(False)
        if parallel.data_parallel == "fsdp":
            wrap_model(module, parallel)  # sharded as the policy is; no DDP: there is nothing to reduce
        self.module = module.eval()
        self.step: int | None = None

    def path(self, step: int) -> str:
        return os.path.join(self.folder, f"step_{step:08d}.pt")

    def refresh(self, step: int) -> None:
        """π_ref <- π_θ (every rank), and its snapshot (rank 0)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, set_model_state_dict

        with torch.no_grad():
            set_model_state_dict(self.module, get_model_state_dict(self.policy.module))
        full = get_model_state_dict(self.policy.module, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        if self.parallel.is_main:
            os.makedirs(self.folder, exist_ok=True)
            tmp = self.path(step) + ".tmp"
            torch.save(full, tmp)
            os.replace(tmp, self.path(step))
        self.step = step
        self.prune()
        self.parallel.barrier()
        if self.parallel.is_main:
            log.info("reference policy: the policy after step %d", step)

    def load(self, step: int) -> None:
        """π_ref from the snapshot of `step` (a resumed run)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

        path = self.path(step)
        if not os.path.exists(path):
            from deepcorpus.core.errors import UserError

            raise UserError(f"{path}: the reference policy this checkpoint was trained against is gone")
        state = torch.load(path, map_location="cpu", weights_only=True)
        set_model_state_dict(self.module, state, options=StateDictOptions(full_state_dict=True))
        self.step = step

    def prune(self) -> None:
        """Delete the snapshots that neither the reference in use nor a complete checkpoint names (rank 0)."""
        from train.checkpoint import complete_checkpoints

        if not self.parallel.is_main or not os.path.isdir(self.folder):
            return
        named = {self.step}
        for _, ckpt in complete_checkpoints(os.path.dirname(self.folder)):
            try:
                state = json.loads(storage.read_bytes(storage.join(ckpt, "trainer.json")))
                named.add(int(state["loader"]["reference_step"]))
            except (KeyError, TypeError, ValueError, json.JSONDecodeError):
                continue
        for name in os.listdir(self.folder):
            m = SNAPSHOT.match(name)
            if m and int(m.group(1)) not in named:
                os.remove(os.path.join(self.folder, name))

    @torch.no_grad()
    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.module(tokens).logits
