"""GRPO's data: rollout batches, turned into the Trainer's per-step micro-batches.

DeepSeekMath's Algorithm 1, per rollout batch: take the next `prompts_per_step` prompts (each rank its
share), sample G outputs of each from the current policy (π_θold), score them, turn the rewards into
group advantages, compute π_ref (and π_θold, when the batch is used for more than one step) of every
output token, then give `policy_updates` x `mini_batches` optimizer steps: `policy_updates` passes,
each split at random into `mini_batches` steps. The prompts' order is a pure function of the seed
(every epoch shuffled anew).

    RUN/grpo_prompts/   the prompt records, checked against the reward and copied once (records.jsonl,
                        offsets.bin: int64 per record, meta.json), read one record at a time
    RUN/rollouts.jsonl  a few rollouts of every batch (prompt, output, reward), to read what it learns
    RUN/rollouts/in_flight_rank{R}.pt   the batch being trained on, when it spans several steps, so a
                        run stopped between them resumes on the same rollouts

An output's tokens are what the policy sampled, cut after the first EOS or after the end of the first
stop string of its task (the text scored stops before the stop string); an output cut at
max_new_tokens keeps its tokens and has no EOS to learn.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass

import numpy as np
import torch

from deepcorpus.core.errors import UserError
from posttrain.objective import group_advantages, token_logprobs
from posttrain.records import input_files, iter_records
from posttrain.tasks import task_from_record
from posttrain.templates import apply_prompt_template, encode_pieces, encode_text

log = logging.getLogger("posttrain")
PROMPTS_DIR = "grpo_prompts"


# --- the prompts ---------------------------------------------------------------------------------


class PromptStore:
    """The run's prompt records, one JSON line each, found by offset."""

    def __init__(self, folder: str):
        with open(os.path.join(folder, "meta.json")) as f:
            self.meta = json.load(f)
        self.path = os.path.join(folder, "records.jsonl")
        self.offsets = np.memmap(os.path.join(folder, "offsets.bin"), dtype=np.int64, mode="r")

    def __len__(self) -> int:
        return len(self.offsets)

    def record(self, i: int) -> tuple[str, dict]:
        with open(self.path, "rb") as f:
            f.seek(int(self.offsets[i]))
            row = json.loads(f.readline())
        return row.pop("_where"), row


def prepare_prompts(run_dir: str, files_spec: list[str], reward, parallel, resuming: bool) -> PromptStore:
    """Check every prompt record against the reward and copy it into the run (rank 0), once."""
    from posttrain.sft_data import must_build, source_fingerprint

    files = input_files(files_spec, "prompts (--prompts)")
    fingerprint = source_fingerprint(files, reward=reward.names)
    folder = os.path.join(run_dir, PROMPTS_DIR)
    if parallel.is_main:
        if must_build(folder, fingerprint, resuming, f"{run_dir}: the prompts changed since this run began "
                      f"({', '.join(files)}); resume with the same --prompts and --reward"):
            tmp = folder + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            n, offset = 0, 0
            with open(os.path.join(tmp, "records.jsonl"), "wb") as out, open(os.path.join(tmp, "offsets.bin"), "wb") as idx:
                for path in files:
                    for where, record in iter_records(path):
                        reward.check(task_from_record(record, where), where)
                        line = (json.dumps({**record, "_where": where}, ensure_ascii=False, default=str) + "\n").encode()
                        out.write(line)
                        np.asarray([offset], dtype=np.int64).tofile(idx)
                        offset += len(line)
                        n += 1
            if n == 0:
                raise UserError(f"{', '.join(files)}: no prompt records")
            with open(os.path.join(tmp, "meta.json"), "w") as f:
                json.dump({"source": fingerprint, "prompts": n}, f, indent=1)
            shutil.rmtree(folder, ignore_errors=True)  # ours: made from other files
            os.replace(tmp, folder)
            log.info("grpo prompts: %d records from %s", n, ", ".join(files))
    parallel.barrier()
    return PromptStore(folder)


# --- what a step trains on -------------------------------------------------------------------------


@dataclass
class RolloutMicroBatch:
    """Outputs with their prompts, ready for GRPOLoss."""

    tokens: torch.Tensor  # (n, T) long: prompt then output, right-padded
    mask: torch.Tensor  # (n, T-1) float: 1 where the target (token t+1) is an output token
    advantages: torch.Tensor  # (n,)
    old_logp: torch.Tensor | None  # (n, T-1) log π_θold of each target; None: on-policy (θ_old is θ)
    ref_logp: torch.Tensor | None  # (n, T-1) log π_ref of each target; None without a KL term
    n_tokens: int  # what the loss is a mean over: outputs, or output tokens (aggregate token)

    def to(self, device):
        def move(t):
            return None if t is None else t.to(device, non_blocking=True)

        return RolloutMicroBatch(move(self.tokens), move(self.mask), move(self.advantages), move(self.old_logp),
                                 move(self.ref_logp), self.n_tokens)


@dataclass
class RolloutBatch:
    """This rank's outputs of one rollout batch (prompt-major: prompt i's G outputs together)."""

    index: int
    sequences: list[list[int]]  # prompt + output ids
    prompt_lengths: list[int]
    advantages: torch.Tensor  # (n,)
    old_logp: list[torch.Tensor] | None  # per sequence (len - 1,)
    ref_logp: list[torch.Tensor] | None
    stats: dict  # sums and counts over this rank's outputs (posttrain.grpo reduces them over ranks)


def cut_at_stop(tokenizer, ids: list[int], stops: list[str], eos_id: int) -> tuple[list[int], str]:
    """(ids kept, text scored) of an output: up to the first stop string (its tokens kept, its text not)."""
    body = ids[:-1] if ids and ids[-1] == eos_id else ids
    text = tokenizer.decode(body, skip_special_tokens=True)
    hits = [text.find(s) for s in stops if s in text]
    if not hits:
        return ids, text
    cut = min(hits)
    end = min(text.find(s) + len(s) for s in stops if s in text and text.find(s) == cut)
    lo, hi = 1, len(body)  # the fewest tokens whose text holds the stop string whole
    while lo < hi:
        mid = (lo + hi) // 2
        if len(tokenizer.decode(body[:mid], skip_special_tokens=True)) >= end:
            hi = mid
        else:
            lo = mid + 1
    return body[:lo], text[:cut]


class RolloutStream:
    """The Trainer's data for GRPO: an iterable of per-step micro-batch lists with state_dict()."""

    def __init__(self, *, cfg, policy, reference, backend, reward, prompts: PromptStore, start, chat,
                 prompt_template: str, objective, parallel, run_dir: str, autocast_dtype=None):
        self.cfg = cfg
        self.policy = policy
        self.reference = reference
        self.backend = backend
        self.reward = reward
        self.prompts = prompts
        self.start = start
        self.chat = chat
        self.prompt_template = prompt_template
        self.objective = objective
        self.parallel = parallel
        self.run_dir = run_dir
        self.autocast_dtype = autocast_dtype
        self.steps_per_batch = cfg.policy_updates * cfg.mini_batches
        world = parallel.world
        if cfg.prompts_per_step % world:
            raise UserError(f"prompts_per_step {cfg.prompts_per_step} must be a multiple of the {world} ranks")
        self.rank_prompts = cfg.prompts_per_step // world
        self.rank_outputs = self.rank_prompts * cfg.group_size
        if self.rank_outputs % cfg.mini_batches:
            raise UserError(f"mini_batches {cfg.mini_batches} must divide the {self.rank_outputs} outputs of a rollout "
                            f"batch on each rank (prompts_per_step / ranks x group_size)")
        self.mini_size = self.rank_outputs // cfg.mini_batches
        self.micro = cfg.micro_batch_size or self.mini_size
        if self.mini_size % self.micro:
            raise UserError(f"micro_batch_size {self.micro} must divide the {self.mini_size} outputs of a mini-batch "
                            "on each rank, so every rank takes the same number of forward passes")
        self.max_prompt = policy.args.max_seq_len - cfg.max_new_tokens
        if self.max_prompt < 2:
            raise UserError(f"max_new_tokens {cfg.max_new_tokens} leaves no room for a prompt in the model's "
                            f"max_seq_len {policy.args.max_seq_len}")
        self.batch: RolloutBatch | None = None
        self.batch_index = -1  # of the current rollout batch
        self.in_batch = 0  # steps taken from it
        self.steps = 0
        self.last_stats: dict = {}
        self._order: tuple[int | None, np.ndarray | None] = (None, None)  # (epoch, its prompt order)

    # -- position --

    def state_dict(self) -> dict:
        return {"batch": self.batch_index, "in_batch": self.in_batch, "steps": self.steps,
                "reference_step": self.reference.step if self.reference is not None else None,
                "prompts": len(self.prompts), "seed": self.cfg.seed}

    def load_state_dict(self, state: dict) -> None:
        if int(state.get("prompts", -1)) != len(self.prompts):
            raise UserError(f"the checkpoint's run had {state.get('prompts')} prompts, this one {len(self.prompts)}; "
                            "resume with the same --prompts")
        self.batch_index, self.in_batch, self.steps = int(state["batch"]), int(state["in_batch"]), int(state["steps"])
        if self.reference is not None and state.get("reference_step") is not None:
            self.reference.load(int(state["reference_step"]))
        self.batch = None
        self._truncate_rollout_log()
        if self.batch_index >= 0 and self.in_batch < self.steps_per_batch:
            path = self._in_flight_path()
            saved = torch.load(path, map_location="cpu", weights_only=False) if os.path.exists(path) else None
            if saved is None or saved.index != self.batch_index:
                raise UserError(f"{path}: the rollout batch this checkpoint stopped in is missing; it cannot resume")
            self.batch = saved
            self.last_stats = saved.stats

    def _truncate_rollout_log(self) -> None:
        """A resumed run logs the steps after its checkpoint again: drop what the first attempt logged of them."""
        path = os.path.join(self.run_dir, "rollouts.jsonl")
        if not self.parallel.is_main or not os.path.exists(path):
            return
        keep = []
        with open(path) as f:
            for line in f:
                try:
                    if json.loads(line).get("step", 0) <= self.steps:
                        keep.append(line if line.endswith("\n") else line + "\n")
                except json.JSONDecodeError:
                    continue  # a line cut by the interruption
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.writelines(keep)
        os.replace(tmp, path)

    def _in_flight_path(self) -> str:
        return os.path.join(self.run_dir, "rollouts", f"in_flight_rank{self.parallel.rank}.pt")

    # -- iteration --

    def __iter__(self):
        while True:
            if self.batch is None or self.in_batch >= self.steps_per_batch:
                self.batch_index += 1
                self.in_batch = 0
                self.batch = self._rollout(self.batch_index)
            step_batches = self._step_micro_batches(self.batch, self.in_batch)
            self.in_batch += 1
            self.steps += 1
            yield step_batches

    def _prompt_indices(self, index: int) -> list[int]:
        """This rank's prompts of rollout batch `index`: epoch-shuffled, a pure function of the seed."""
        n = len(self.prompts)
        first = index * self.cfg.prompts_per_step + self.parallel.rank * self.rank_prompts
        out = []
        for pos in range(first, first + self.rank_prompts):
            epoch, i = divmod(pos, n)
            if self._order[0] != epoch:
                self._order = (epoch, np.random.default_rng([self.cfg.seed, epoch]).permutation(n))
            out.append(int(self._order[1][i]))
        return out

    def _prompt_ids(self, task) -> tuple[list[int], str]:
        tok = self.start.tokenizer
        if task.messages is not None:
            pieces = self.chat.generation_prompt(task.messages)
            ids, _ = encode_pieces(tok, pieces)
            text = "".join(p.text or "" for p in pieces)
            if not self.chat.renders_start:
                ids = self.start.start_ids + ids
        else:
            text = apply_prompt_template(self.prompt_template, task.prompt)
            ids = self.start.start_ids + encode_text(tok, text)
        if len(ids) > self.max_prompt:
            ids = ids[-self.max_prompt:]  # the end of a long prompt is what the output continues
        return ids, text

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.parallel.device.type, dtype=self.autocast_dtype)

    @torch.no_grad()
    def _logprobs(self, model, sequences: list[list[int]]) -> list[torch.Tensor]:
        """log π of every token after the first, per sequence, in micro-batch-sized forward passes."""
        out = []
        was = model.training
        model.eval()
        try:
            for lo in range(0, len(sequences), self.micro):
                chunk = sequences[lo:lo + self.micro]
                tokens = _pad(chunk, self.start.ids.pad).to(self.parallel.device)
                with self._autocast():
                    logits = model(tokens[:, :-1]).logits
                logp, _ = token_logprobs(logits, tokens[:, 1:])
                out += [logp[i, :len(s) - 1].float().cpu() for i, s in enumerate(chunk)]
        finally:
            model.train(was)
        return out

    def _rollout(self, index: int) -> RolloutBatch:
        cfg = self.cfg
        t0 = time.perf_counter()
        if (self.reference is not None and cfg.ref_refresh_every and self.steps > 0
                and self.steps - self.reference.step >= cfg.ref_refresh_every):
            self.reference.refresh(self.steps)
        elif self.reference is not None:
            self.reference.prune()
        self.backend.sync(self.policy.module)
        tasks, prompts, texts = [], [], []
        for i in self._prompt_indices(index):
            where, record = self.prompts.record(i)
            task = task_from_record(record, where)
            ids, text = self._prompt_ids(task)
            tasks.append(task)
            prompts.append(ids)
            texts.append(text)
        seed = int(np.random.default_rng([cfg.seed, index, self.parallel.rank]).integers(2**62))
        outputs = self.backend.generate(prompts, cfg.group_size, max_new_tokens=cfg.max_new_tokens,
                                        temperature=cfg.temperature, top_p=cfg.top_p, seed=seed)
        t_gen = time.perf_counter()
        G, eos = cfg.group_size, self.start.ids.eos
        kept, scored, rep_tasks, rep_prompts = [], [], [], []
        for k, out in enumerate(outputs):
            task = tasks[k // G]
            ids, text = cut_at_stop(self.start.tokenizer, out, task.stops, eos)
            kept.append(ids)
            scored.append(text)
            rep_tasks.append(task)
            rep_prompts.append(texts[k // G])
        scores = self.reward.score(rep_tasks, rep_prompts, scored)
        t_reward = time.perf_counter()
        rewards = torch.tensor(scores.total, dtype=torch.float64).view(self.rank_prompts, G)
        advantages = group_advantages(rewards, self.objective.advantage).view(-1).float()
        sequences = [prompts[k // G] + ids for k, ids in enumerate(kept)]
        prompt_lengths = [len(prompts[k // G]) for k in range(len(kept))]
        old = self._logprobs(self.policy.module, sequences) if self.steps_per_batch > 1 else None
        ref = self._logprobs(self.reference.module, sequences) if self.reference is not None else None
        t_end = time.perf_counter()

        lengths = [len(ids) for ids in kept]
        stats = {
            "outputs": float(len(kept)), "reward_sum": float(rewards.sum()), "reward_sq": float((rewards ** 2).sum()),
            "length_sum": float(sum(lengths)), "truncated": float(sum(1 for ids in kept if not ids or ids[-1] != eos)),
            "groups": float(self.rank_prompts),
            "groups_equal": float((rewards.max(dim=1).values == rewards.min(dim=1).values).sum()),
            "generate_s": t_gen - t0, "reward_s": t_reward - t_gen, "logprob_s": t_end - t_reward,
            "rollout_s": t_end - t0,
        }
        for name, values in scores.parts.items():
            stats[f"reward_{name}_sum"] = float(sum(values))
        accuracy = scores.accuracy()
        if accuracy is not None:
            stats["correct"] = float(sum(accuracy))
        batch = RolloutBatch(index, sequences, prompt_lengths, advantages, old, ref, stats)
        self.last_stats = stats
        if self.steps_per_batch > 1:
            path = self._in_flight_path()
            os.makedirs(os.path.dirname(path), exist_ok=True)
            torch.save(batch, path + ".tmp")
            os.replace(path + ".tmp", path)
        if self.parallel.is_main and cfg.log_rollouts:
            self._log_rollouts(index, rep_prompts, scored, scores)
        return batch

    def _log_rollouts(self, index, prompts, outputs, scores) -> None:
        picks = np.random.default_rng([self.cfg.seed, index, 7]).permutation(len(outputs))[:self.cfg.log_rollouts]
        with open(os.path.join(self.run_dir, "rollouts.jsonl"), "a") as f:
            for k in sorted(picks.tolist()):
                row = {"step": self.steps + 1, "batch": index, "prompt": prompts[k], "output": outputs[k],
                       "reward": scores.total[k], **{n: v[k] for n, v in scores.parts.items()}}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")

    def _step_micro_batches(self, batch: RolloutBatch, u: int) -> list[RolloutMicroBatch]:
        """Step `u` of the batch: pass u // mini_batches, its mini-batch u % mini_batches."""
        n = len(batch.sequences)
        p, m = divmod(u, self.cfg.mini_batches)
        order = (np.random.default_rng([self.cfg.seed, batch.index, p, self.parallel.rank]).permutation(n)
                 if self.cfg.mini_batches > 1 else np.arange(n))
        chosen = order[m * self.mini_size:(m + 1) * self.mini_size]
        return [self._micro_batch(batch, chosen[lo:lo + self.micro].tolist())
                for lo in range(0, len(chosen), self.micro)]

    def _micro_batch(self, batch: RolloutBatch, rows: list[int]) -> RolloutMicroBatch:
        seqs = [batch.sequences[i] for i in rows]
        tokens = _pad(seqs, self.start.ids.pad)
        T = tokens.shape[1]
        mask = torch.zeros(len(rows), T - 1)
        for r, i in enumerate(rows):
            mask[r, batch.prompt_lengths[i] - 1:len(batch.sequences[i]) - 1] = 1.0

        def padded(per_seq):
            if per_seq is None:
                return None
            out = torch.zeros(len(rows), T - 1)
            for r, i in enumerate(rows):
                out[r, :len(per_seq[i])] = per_seq[i]
            return out

        weight = int(mask.sum()) if self.objective.weight_unit() == "tokens" else len(rows)
        return RolloutMicroBatch(tokens, mask, batch.advantages[rows].clone(), padded(batch.old_logp),
                                 padded(batch.ref_logp), weight)


def _pad(sequences: list[list[int]], pad_id: int) -> torch.Tensor:
    T = max(len(s) for s in sequences)
    out = torch.full((len(sequences), T), pad_id, dtype=torch.long)
    for i, s in enumerate(sequences):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out
