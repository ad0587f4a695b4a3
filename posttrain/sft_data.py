"""SFT examples: tokenized once into the run directory, then packed into rows with document masks.

    RUN/sft_data/
        tokens.bin   int32 ids of every example, one after another
        labels.bin   uint8, 1 where the loss learns the token (completion and its EOS, assistant turns)
        index.bin    int64 (start, length) per example
        meta.json    what they were made from (the files' sizes and times, tokenizer, templates, seq_len),
                     and the counts: examples, tokens, trained tokens, truncated, dropped

All three are memory-mapped: peak memory does not grow with the data. An example is the document
start, the prompt (templated), the completion and EOS; one longer than seq_len + 1 tokens keeps its
first seq_len + 1 (counted as truncated) unless that leaves nothing to learn (dropped).

Each epoch shuffles the examples (a pure function of seed and epoch) and packs them in that order,
whole, into rows of seq_len + 1 tokens (next fit: a row is closed when the next example does not fit).
Every example is its own document (segment_ids): it attends only to itself and its positions start at
0, so packing changes nothing an example computes. A target is kept only where the token is learnt;
the first token of every example, which would be predicted from the example before, never is.

The loader's state is (epoch, row), so resuming is exact; global batch rows are split over ranks and
micro-steps as train's loader splits them, so 2 ranks see per step what 1 process sees.
"""

from __future__ import annotations

import json
import logging
import os
import shutil

import numpy as np

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError
from model import IGNORE_INDEX
from posttrain.records import check_messages, input_files, iter_records, text_field
from posttrain.templates import Piece, apply_prompt_template, encode_text

log = logging.getLogger("posttrain")

DATA_DIR = "sft_data"
ENCODE_BATCH = 512  # records tokenized together (the tokenizer's batch encode runs on all cores)


def record_pieces(record: dict, where: str, prompt_template: str, chat, start_ids: list[int], eos_id: int) -> list[Piece]:
    """A record as pieces: a chat through the chat template, else prompt (templated), completion, EOS."""
    if record.get("messages") is not None:
        messages = check_messages(record["messages"], where)
        if not any(m["role"] == "assistant" for m in messages):
            raise UserError(f"{where}: a chat without an assistant turn has nothing to learn")
        start = [] if chat.renders_start else [Piece(token=t) for t in start_ids]
        return start + chat.pieces(messages)
    if "prompt" not in record or "completion" not in record:
        raise UserError(f"{where}: needs `prompt` and `completion` (or `messages`)")
    prompt = text_field(record, "prompt", where)
    completion = text_field(record, "completion", where)
    return ([Piece(token=t) for t in start_ids] + [Piece(apply_prompt_template(prompt_template, prompt)),
            Piece(completion, trained=True), Piece(token=eos_id, trained=True)])


def encode_many(tokenizer, records: list[list[Piece]]) -> list[tuple[list[int], list[int]]]:
    """encode_pieces for many records at once: one batch encode per kind of text."""
    plain = [p.text for pieces in records for p in pieces if p.token is None and not p.special]
    encoded = iter(e.ids for e in tokenizer.encode_batch(plain, add_special_tokens=False)) if plain else iter(())
    out = []
    for pieces in records:
        ids, labels = [], []
        for p in pieces:
            if p.token is not None:
                new = [p.token]
            elif p.special:
                new = encode_text(tokenizer, p.text, special=True)
            else:
                new = next(encoded)
            ids += new
            labels += [int(p.trained)] * len(new)
        out.append((ids, labels))
    return out


def source_fingerprint(files: list[str], **settings) -> dict:
    """What the store is made of: the files (size, modification time) and the settings that change ids."""
    return {"files": [[f, storage.size(f), storage.mtime_ns(f)] for f in files], **settings}


class ExampleStore:
    """The memory-mapped examples of a run."""

    def __init__(self, folder: str):
        with open(os.path.join(folder, "meta.json")) as f:
            self.meta = json.load(f)
        self.index = np.memmap(os.path.join(folder, "index.bin"), dtype=np.int64, mode="r").reshape(-1, 2)
        self.tokens = np.memmap(os.path.join(folder, "tokens.bin"), dtype=np.int32, mode="r")
        self.labels = np.memmap(os.path.join(folder, "labels.bin"), dtype=np.uint8, mode="r")

    def __len__(self) -> int:
        return len(self.index)

    @property
    def lengths(self) -> np.ndarray:
        return self.index[:, 1]

    def example(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, length = (int(x) for x in self.index[i])
        return self.tokens[start:start + length], self.labels[start:start + length]


def build_store(folder: str, files: list[str], *, tokenizer, start_ids: list[int], eos_id: int, prompt_template: str,
                chat, seq_len: int, fingerprint: dict) -> dict:
    """Tokenize every record of `files` into `folder` (streamed: a batch of records at a time)."""
    os.makedirs(folder, exist_ok=True)
    width = seq_len + 1
    counts = {"examples": 0, "tokens": 0, "trained_tokens": 0, "truncated": 0, "dropped": 0, "records": 0}
    position = 0
    with open(os.path.join(folder, "tokens.bin"), "wb") as tok_f, open(os.path.join(folder, "labels.bin"), "wb") as lab_f, \
            open(os.path.join(folder, "index.bin"), "wb") as idx_f:

        def flush(batch):
            nonlocal position
            for ids, labels in encode_many(tokenizer, batch):
                counts["records"] += 1
                if len(ids) > width:
                    ids, labels = ids[:width], labels[:width]
                    if not any(labels[1:]):
                        counts["dropped"] += 1
                        continue
                    counts["truncated"] += 1
                labels[0] = 0  # predicted from the example before it: never learnt
                np.asarray(ids, dtype=np.int32).tofile(tok_f)
                np.asarray(labels, dtype=np.uint8).tofile(lab_f)
                np.asarray([position, len(ids)], dtype=np.int64).tofile(idx_f)
                position += len(ids)
                counts["examples"] += 1
                counts["tokens"] += len(ids)
                counts["trained_tokens"] += int(sum(labels))

        batch = []
        for path in files:
            for where, record in iter_records(path):
                batch.append(record_pieces(record, where, prompt_template, chat, start_ids, eos_id))
                if len(batch) >= ENCODE_BATCH:
                    flush(batch)
                    batch = []
        if batch:
            flush(batch)
    if counts["examples"] == 0:
        detail = f"all {counts['dropped']} were longer than seq_len {seq_len} in their prompt" if counts["dropped"] else \
            "the files hold no records"
        raise UserError(f"{', '.join(files)}: no SFT examples ({detail})")
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"source": fingerprint, "counts": counts}, f, indent=1)
    return counts


def must_build(folder: str, fingerprint: dict, resuming: bool, changed: str) -> bool:
    """Whether a run's derived folder (its SFT examples, its GRPO prompts) must be built: it is
    missing or was made from other inputs (`meta.json`'s `source`). A resumed run whose inputs
    changed is refused with `changed`: its position in them would mean nothing."""
    meta_path = os.path.join(folder, "meta.json")
    have = None
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            have = json.load(f).get("source")
    if have == fingerprint:
        return False
    if resuming and have is not None:
        raise UserError(changed)
    return True


def prepare_store(run_dir: str, cfg, start, chat, parallel, resuming: bool) -> ExampleStore:
    """The run's example store: reused when made from the same files and settings, else built (rank 0;
    the other ranks wait). A resumed run whose data changed is refused: its position would mean nothing."""
    from posttrain.templates import load_prompt_template

    files = input_files(cfg.data, "SFT data (--data)")
    prompt_template = load_prompt_template(cfg.prompt_template)
    fingerprint = source_fingerprint(files, tokenizer_hash=start.tokenizer_hash, start_ids=start.start_ids,
                                     prompt_template=prompt_template, chat=getattr(chat, "name", "deepseek-llm"),
                                     seq_len=cfg.seq_len)
    folder = os.path.join(run_dir, DATA_DIR)
    if parallel.is_main:
        if must_build(folder, fingerprint, resuming, f"{run_dir}: the SFT data or its settings changed since this "
                      f"run began ({', '.join(files)}); resume with the same --data, tokenizer and seq_len"):
            tmp = folder + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)  # ours: left by an interrupted build
            counts = build_store(tmp, files, tokenizer=start.tokenizer, start_ids=start.start_ids, eos_id=start.ids.eos,
                                 prompt_template=prompt_template, chat=chat, seq_len=cfg.seq_len, fingerprint=fingerprint)
            shutil.rmtree(folder, ignore_errors=True)  # ours: made from other files or settings
            os.replace(tmp, folder)
            log.info("sft data: %d examples (%d tokens, %d learnt) from %d records; %d truncated to %d tokens, %d "
                     "dropped", counts["examples"], counts["tokens"], counts["trained_tokens"], counts["records"],
                     counts["truncated"], cfg.seq_len + 1, counts["dropped"])
    parallel.barrier()
    return ExampleStore(folder)


# --- packing ---------------------------------------------------------------------------------------


def next_fit(lengths: np.ndarray, capacity: int) -> np.ndarray:
    """Row boundaries (indices into `lengths`, first 0, last len) of packing in order, next fit."""
    bounds = [0]
    fill = 0
    for i, n in enumerate(lengths.tolist()):
        if fill + n > capacity:
            bounds.append(i)
            fill = 0
        fill += n
    bounds.append(len(lengths))
    return np.asarray(bounds, dtype=np.int64)


def pack_row(store: ExampleStore, examples, seq_len: int, pad_id: int):
    """(inputs, targets, segment ids), each seq_len long, of whole examples placed one after another."""
    width = seq_len + 1
    tokens = np.full(width, pad_id, dtype=np.int64)
    learnt = np.zeros(width, dtype=bool)
    segments = np.full(seq_len, len(examples), dtype=np.int64)  # padding: a segment of its own
    pos = 0
    for k, e in enumerate(examples):
        ids, labels = store.example(int(e))
        n = len(ids)
        tokens[pos:pos + n] = ids
        learnt[pos:pos + n] = labels.astype(bool)
        segments[pos:min(pos + n, seq_len)] = k
        pos += n
    targets = np.where(learnt[1:], tokens[1:], IGNORE_INDEX)
    return tokens[:-1], targets, segments


class PackedSFTLoader:
    """Optimizer steps of packed SFT rows; each item is this rank's list of micro-batches
    (`train.loader.MicroBatch`: inputs, targets, segment_ids, n_tokens = the learnt targets)."""

    def __init__(self, store: ExampleStore, *, seq_len: int, global_batch: int, micro_batch: int, rank: int = 0,
                 world: int = 1, seed: int = 0, pad_id: int = 0, verbose: bool = True):
        if global_batch % (micro_batch * world):
            raise UserError(f"batch_size {global_batch} is not a multiple of micro_batch_size {micro_batch} x {world} ranks")
        self.store = store
        self.seq_len = seq_len
        self.global_batch, self.micro_batch = global_batch, micro_batch
        self.accum = global_batch // (micro_batch * world)
        self.rank, self.world, self.seed = rank, world, seed
        self.pad_id = pad_id
        self.verbose = verbose
        self.epoch, self.row = 0, 0
        self._yielded = (0, 0)
        self._plan: tuple[int, np.ndarray, np.ndarray] | None = None  # epoch, order, row bounds

    def epoch_plan(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(example order, row bounds into it) of `epoch`: 8 bytes per example and per row."""
        if self._plan is None or self._plan[0] != epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.store))
            self._plan = (epoch, order, next_fit(self.store.lengths[order], self.seq_len + 1))
        return self._plan[1], self._plan[2]

    def rows_in_epoch(self, epoch: int) -> int:
        return len(self.epoch_plan(epoch)[1]) - 1

    def state_dict(self) -> dict:
        return {"epoch": self._yielded[0], "row": self._yielded[1], "examples": len(self.store), "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        if int(state.get("examples", -1)) != len(self.store):
            raise UserError(f"the checkpoint's SFT data had {state.get('examples')} examples, this run's has "
                            f"{len(self.store)}; resume with the same --data")
        self.epoch, self.row = int(state["epoch"]), int(state["row"])
        self._yielded = (self.epoch, self.row)

    def _take_rows(self, n: int) -> list[np.ndarray]:
        """The examples of the next `n` rows of the stream (epochs follow one another)."""
        rows = []
        while len(rows) < n:
            order, bounds = self.epoch_plan(self.epoch)
            if self.row >= len(bounds) - 1:
                self.epoch, self.row = self.epoch + 1, 0
                if self.verbose:
                    log.info("sft data: starting epoch %d", self.epoch + 1)
                continue
            rows.append(order[bounds[self.row]:bounds[self.row + 1]])
            self.row += 1
        return rows

    def _micro_batch(self, rows: list[np.ndarray]):
        import torch

        from train.loader import MicroBatch

        packed = [pack_row(self.store, r, self.seq_len, self.pad_id) for r in rows]
        inputs = torch.from_numpy(np.stack([p[0] for p in packed]))
        targets = torch.from_numpy(np.stack([p[1] for p in packed]))
        segments = torch.from_numpy(np.stack([p[2] for p in packed]))
        return MicroBatch(inputs, targets, segments, int((targets != IGNORE_INDEX).sum()))

    def __iter__(self):
        self._yielded = (self.epoch, self.row)
        while True:
            rows = self._take_rows(self.global_batch)
            m, w = self.micro_batch, self.world
            batches = [self._micro_batch(rows[(a * w + self.rank) * m:(a * w + self.rank + 1) * m])
                       for a in range(self.accum)]
            self._yielded = (self.epoch, self.row)
            yield batches
