"""Trainer throughput: tokens/s with the token-shard loader vs the same steps on in-memory batches.

The baseline is the training step alone: the same model, optimizer and step function fed
micro-batches that already sit in memory (built once, before the timing). The loader side reads a
zstd token-shard dataset (several parts and row groups, windowed shuffle, worker threads), so the
difference is what the loader costs. The target: the loader's share of step time (time the loop
waits in `next(loader)` over the whole step time) stays under 5%.

On a CUDA GPU (run it there through the device tool: `python -m benchmarks.train_bench`) it also
times the `small` preset in BF16 and, on Hopper/Ada, FP8, with MFU against the GPU's dense BF16 peak.
On a CPU-only machine those rows are skipped, and the notes say so. Wall time on a machine others
are using is noisy; both sides run interleaved in the same process to share that noise.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from benchmarks.common import report

TARGET_LOADER_SHARE = 0.05


def write_dataset(path: str, rows: int, seq_len: int, vocab: int) -> str:
    import numpy as np

    from deepcorpus.core.contracts import TOKEN_SHARD, token_shard_schema
    from deepcorpus.core.datasets import DatasetWriter

    rng = np.random.default_rng(0)
    per_part = max(1, rows // 4)
    with DatasetWriter(path, TOKEN_SHARD, schema=token_shard_schema(seq_len, vocab), rows_per_part=per_part) as w:
        for lo in range(0, rows, per_part):
            n = min(per_part, rows - lo)
            toks = rng.integers(3, vocab, size=(n, seq_len + 1), dtype=np.int32)
            w.write_rows([{"tokens": t.tolist(), "doc_starts": [0], "source": "bench"} for t in toks])
        w.extra.update(seq_len=seq_len, vocab_size=vocab, tokenizer_hash="0" * 64, eos_id=1, pad_id=0, bos_id=2)
    return path


def build(preset: str, data: str, *, batch: int, micro: int, device, fp8: bool):
    """The trainer's own components, as `deepcorpus train` builds them, for one process on `device`."""
    from train.config import TrainConfig
    from train.loader import build_data
    from train.metrics import build_metrics
    from train.model_setup import build_model
    from train.optim import build_optimizer, build_schedule
    from train.parallel import Parallel
    from train.trainer import build_trainer

    # The metrics log is never written: the benchmark times Trainer.step, not the loop.
    cfg = TrainConfig(preset=preset, data=[data], output=os.path.dirname(data), steps=10_000, batch_size=batch,
                      micro_batch_size=micro, lr=1e-3, warmup_steps=0, fp8=fp8, chunk_rows=256,
                      shuffle_buffer=2048, loader_workers=2).validate()
    parallel = Parallel(device=device)  # the thread count is this benchmark's to set
    loader = build_data(cfg, parallel)
    model = build_model(cfg, loader.sources[0].info, parallel)
    metrics = build_metrics(cfg, model.module, loader.seq_len, parallel)
    trainer = build_trainer(cfg, model, build_optimizer(cfg, model.module), build_schedule(cfg), loader, metrics,
                            None, parallel)
    return model.module, loader, trainer


def time_steps(trainer, batches, steps: int, warmup: int = 2) -> dict:
    """Run `steps` timed steps (after `warmup`); batches is an iterator of micro-batch lists."""
    wait = total = 0.0
    tokens = 0
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        mbs = next(batches)
        t1 = time.perf_counter()
        r = trainer.step(i, mbs)
        t2 = time.perf_counter()
        if i >= warmup:
            wait += t1 - t0
            total += t2 - t0
            tokens += r.tokens
    return {"tokens_per_s": tokens / total, "loader_share": wait / total, "step_ms": 1000 * total / steps}


def run_case(name: str, preset: str, data: str, *, batch: int, micro: int, steps: int, device, fp8=False,
             peak=None) -> list[dict]:
    model, loader, trainer = build(preset, data, batch=batch, micro=micro, device=device, fp8=fp8)
    it = iter(loader)
    fixed = [next(it) for _ in range(4)]

    def memory():
        i = 0
        while True:
            yield fixed[i % len(fixed)]
            i += 1

    flops = model.num_flops_per_token(loader.seq_len)
    rows = []
    for system, batches in (("in-memory batches (baseline)", memory()), ("TokenLoader, 2 threads", it)):
        r = time_steps(trainer, batches, steps)
        row = {"case": name, "system": system, "tokens_per_s": r["tokens_per_s"], "step_ms": r["step_ms"],
               "loader_share_pct": 100 * r["loader_share"]}
        if peak:
            row["mfu_pct"] = 100 * flops * r["tokens_per_s"] / peak
        rows.append(row)
    it.close()
    return rows


def loader_alone(data: str, batch: int) -> dict:
    """Rows per second the loader delivers with no training behind it."""
    from train.loader import TokenLoader, open_sources

    loader = TokenLoader(open_sources([data], None, chunk_rows=256), global_batch=batch, micro_batch=batch,
                         shuffle_buffer=2048, workers=2)
    it = iter(loader)
    next(it)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3.0:
        n += len(next(it)[0].inputs)
    it.close()
    return {"case": "loader alone", "system": "TokenLoader, 2 threads", "rows_per_s": n / (time.perf_counter() - start)}


def main(out_dir: str = "benchmarks/out", steps: int = 10) -> dict:
    import torch

    from train.metrics import gpu_peak_flops

    # As `deepcorpus train` does on a CPU: half the cores for intra-op threads, the rest for the loader.
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))

    notes = {"target": f"loader share of step time < {100 * TARGET_LOADER_SHARE:.0f}%",
             "baseline": "the same training steps on micro-batches already in memory"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cpu = torch.device("cpu")
        data = write_dataset(os.path.join(tmp, "tiny"), rows=4096, seq_len=128, vocab=2048)
        rows += run_case("tiny, CPU, batch 16 x 128", "tiny", data, batch=16, micro=16, steps=steps, device=cpu)
        rows.append(loader_alone(data, 16))
        if torch.cuda.is_available():
            gpu = torch.device("cuda")
            peak = gpu_peak_flops(gpu)
            big = write_dataset(os.path.join(tmp, "small"), rows=1024, seq_len=2048, vocab=32768)
            rows += run_case("small, GPU, BF16, batch 16 x 2048", "small", big, batch=16, micro=8, steps=steps,
                             device=gpu, peak=peak)
            from model.fp8 import fp8_available

            ok, reason = fp8_available()
            if ok:
                rows += run_case("small, GPU, FP8, batch 16 x 2048", "small", big, batch=16, micro=8, steps=steps,
                                 device=gpu, fp8=True, peak=peak)
            else:
                notes["fp8"] = f"skipped: {reason}"
            notes["device"] = torch.cuda.get_device_name(0)
            notes["mfu_peak"] = f"{peak:.3g} FLOP/s dense BF16" if peak else "unknown GPU: no MFU"
        else:
            notes["gpu"] = ("no CUDA GPU here: the small-preset BF16/FP8 rows (tokens/s, MFU) need a GPU; "
                            "run `python -m benchmarks.train_bench` on one (the device tool)")
    loader_rows = [r for r in rows if r.get("system", "").startswith("TokenLoader") and "loader_share_pct" in r]
    worst = max(r["loader_share_pct"] for r in loader_rows)
    notes["loader_share_worst_pct"] = round(worst, 2)
    notes["meets_target"] = worst < 100 * TARGET_LOADER_SHARE
    notes["cpu_threads"] = torch.get_num_threads()
    torch.set_num_threads(threads)
    return report("train", rows, notes, out_dir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/out")
