"""Model speed: forward+backward tokens/s of the `small` MoE preset against a dense Transformer with the
same activated parameters, in the same run on the same device.

Rows (all without MTP, so each row is one model's training step; `small + MTP` adds it back):
- dense baseline: `small` with every layer a dense SwiGLU MLP whose width gives the same activated
  parameter count as the MoE model (inter 1320 vs 1 shared + 4 of 24 routed experts of 256, plus the
  first dense layer);
- small (MoE, sorted dispatch + grouped matmul): the model as trained;
- small (MoE, per-expert loop): the same model with `Experts.grouped_mm` swapped for a Python loop
  over experts, the naive dispatch the sorted one replaces;
- small + MTP (depth 1): the full training objective.
Also the share of the step spent in the MoE layers' dispatch (routing, sort, gather, weighted
scatter-add: everything in the MoE layer but the expert and shared-expert matmuls), timed with the
profiler on the main row. On this CPU box the numbers are CPU numbers; on a GPU run it the same way
(`python -m benchmarks.model_bench --device cuda`).

    python -m benchmarks.model_bench            # or: make bench
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import report


def _dense_equivalent(args):
    """Same architecture, every layer dense, FFN width chosen to match the activated parameters."""
    moe_ffn = args.n_dense_layers * args.inter_dim * 3 * args.dim + args.n_moe_layers * (
        (args.n_activated_experts + args.n_shared_experts) * args.moe_inter_dim * 3 * args.dim
        + args.n_routed_experts * args.dim)
    inter = round(moe_ffn / (3 * args.dim * args.n_layers) / 8) * 8
    return args.replace(n_dense_layers=args.n_layers, inter_dim=inter)


def _time_steps(model, tokens, steps: int, warmup: int = 1) -> float:
    """Fastest of `steps` timed forward+backward steps: the minimum is robust to other processes."""
    import torch

    def one():
        out = model(tokens[:, :-1], targets=tokens[:, 1:])
        out.loss.backward()
        model.zero_grad(set_to_none=True)

    for _ in range(warmup):
        one()
    times = []
    for _ in range(steps):
        if tokens.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        one()
        if tokens.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def _dispatch_share(model, tokens) -> float:
    """Fraction of one forward+backward step spent in the MoE layers' forward outside the expert and
    shared-expert matmuls (routing, sort, gather, weighted scatter-add). The backward of those ops is
    not attributed, so this is a lower bound."""
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    from model.transformer import MoE

    wrapped = []

    def label(obj, attr, name):
        original = getattr(obj, attr)

        def labelled(*a, _f=original, **k):
            with record_function(name):
                return _f(*a, **k)

        setattr(obj, attr, labelled)
        wrapped.append((obj, attr, original))

    for m in model.modules():
        if isinstance(m, MoE):
            label(m, "forward", "moe_layer")
            label(m.experts, "grouped_mm", "moe_matmul")
            if m.shared_experts is not None:
                label(m.shared_experts, "forward", "moe_matmul")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if tokens.is_cuda else [])
    try:
        start = time.perf_counter()
        with profile(activities=activities) as prof:
            model(tokens[:, :-1], targets=tokens[:, 1:]).loss.backward()
            if tokens.is_cuda:
                torch.cuda.synchronize()
        total = time.perf_counter() - start
    finally:
        for obj, attr, original in wrapped:
            if attr == "forward":
                del obj.forward  # back to the class's method
            else:
                setattr(obj, attr, original)
        model.zero_grad(set_to_none=True)
    events = {e.key: e.cpu_time_total / 1e6 for e in prof.key_averages()}
    dispatch = events.get("moe_layer", 0.0) - events.get("moe_matmul", 0.0)
    return max(dispatch, 0.0) / total if total else 0.0


def main(out_dir: str = "benchmarks/out", device: str = "cpu", seq_len: int = 128, batch: int = 2,
         steps: int = 3, threads: int | None = None) -> dict:
    import torch

    if threads is None and device == "cpu":
        threads = 1  # relative numbers; several OpenMP threads on a shared 2-core box only add noise
    if threads:
        torch.set_num_threads(threads)

    from model.grouped_mm import looped_mm
    from model.params import count_parameters
    from model.presets import get_preset
    from model.transformer import Transformer

    dev = torch.device(device)
    small = get_preset("small", mtp_depth=0, max_seq_len=max(seq_len, 2048))
    dense = _dense_equivalent(small)
    torch.manual_seed(0)
    tokens = torch.randint(0, small.vocab_size, (batch, seq_len + 1), device=dev)
    rows = []

    def measure(name, args, swap=None):
        torch.manual_seed(0)
        model = Transformer(args).to(dev).train()
        if swap:
            swap(model)
        seconds = _time_steps(model, tokens, steps)
        counts = count_parameters(args)
        n_tok = batch * seq_len
        row = {"system": name, "params_total_M": counts["total"] / 1e6, "params_activated_M": counts["activated"] / 1e6,
               "step_s": seconds, "tokens_per_s": n_tok / seconds,
               "gflops_per_s": model.num_flops_per_token(seq_len) * n_tok / seconds / 1e9}
        rows.append(row)
        return model

    measure("dense baseline (same activated params)", dense)
    main_model = measure("small MoE (sorted dispatch + grouped mm)", small)
    share = _dispatch_share(main_model, tokens)
    del main_model

    def loop_experts(model):
        for m in model.modules():
            if hasattr(m, "grouped_mm"):
                m.grouped_mm = looped_mm

    measure("small MoE (per-expert Python loop)", small, swap=loop_experts)
    measure("small MoE + MTP (depth 1)", small.replace(mtp_depth=1))
    base = rows[0]["tokens_per_s"]
    for r in rows:
        r["vs_dense"] = r["tokens_per_s"] / base
    notes = {
        "device": str(dev) if dev.type == "cpu" else torch.cuda.get_device_name(dev),
        "torch_threads": torch.get_num_threads(),
        "batch_x_seq": f"{batch} x {seq_len}",
        "timed_steps": f"{steps} (fastest reported), after 1 warm-up",
        "dense_inter_dim": dense.inter_dim,
        "moe_dispatch_share_of_step (forward dispatch only, lower bound)": round(share, 3),
        "gpu": "not measured in this run: pass --device cuda on a GPU machine",
    }
    if dev.type == "cuda":
        notes.pop("gpu")
    return report("model", rows, notes, out_dir)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", default="benchmarks/out")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    a = p.parse_args()
    main(a.output, device=a.device, seq_len=a.seq_len, batch=a.batch, steps=a.steps, threads=a.threads)
