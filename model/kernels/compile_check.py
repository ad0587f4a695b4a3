"""Compile every FP8 kernel for a GPU architecture without a GPU: FP8 wgmma, pipelined loads, no spills?

The Triton interpreter checks what the kernels compute; this checks that the same source compiles
for the real target (Triton ships its own ptxas, which runs on any machine), that the GEMMs use
FP8 tensor-core instructions (`wgmma.mma_async ... e4m3` on sm_90) with software-pipelined async
loads, that the quantisers use the saturating E4M3 convert, and what ptxas reports about registers
and spills for the block configurations that would run.

    python -m model.kernels.compile_check                  # the default (untuned) configs, sm_90
    python -m model.kernels.compile_check --all-configs    # also every autotune candidate

Prints one JSON line per kernel and config. Must run without TRITON_INTERPRET (under the
interpreter `triton.jit` returns interpreted functions, which cannot be compiled).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# Pointer types of each kernel's *_ptr arguments (other arguments are int32 scalars).
FP8_PTR, F32_PTR, I32_PTR, BF16_PTR = "*fp8e4nv", "*fp32", "*i32", "*bf16"


def _split(config: dict) -> tuple[dict, dict]:
    """A launch config dict -> (constexprs, compile options)."""
    options = {k: config[k] for k in ("num_warps", "num_stages") if k in config}
    return {k: v for k, v in config.items() if k not in options}, options


def kernel_specs(all_configs: bool = False) -> list[tuple[str, object, dict, dict, dict]]:
    """(name, kernel, pointer types, constexprs, compile options): each kernel as it runs by default
    on an H100, plus every autotune candidate when `all_configs`."""
    from model.kernels import gemm, grouped_gemm, quant
    from model.kernels.reference import AMAX_FLOOR

    group_ptrs = {"counts_ptr": I32_PTR, "row_start_ptr": I32_PTR, "tile_start_ptr": I32_PTR, "tile_group_ptr": I32_PTR}
    gemm_ptrs = {"a_ptr": FP8_PTR, "b_ptr": FP8_PTR, "c_ptr": BF16_PTR, "sa_ptr": F32_PTR, "sb_ptr": F32_PTR}
    wgrad_ptrs = {**gemm_ptrs, "c_ptr": F32_PTR, "counts_ptr": I32_PTR, "tile_start_ptr": I32_PTR}
    specs = [
        ("quant_1x128", quant._quant_1x128_kernel, {"x_ptr": BF16_PTR, "q_ptr": FP8_PTR, "s_ptr": F32_PTR},
         {"AMAX_MIN": AMAX_FLOOR, "BLOCK_M": 32, "BLOCK_K": 128}, {"num_warps": 4}),
        ("quant_dual_grouped", quant._quant_128x1_kernel,
         {"x_ptr": BF16_PTR, "q_ptr": FP8_PTR, "s_ptr": F32_PTR, "qr_ptr": FP8_PTR, "sr_ptr": F32_PTR, **group_ptrs},
         {"GROUPED": True, "ALSO_ROWS": True, "AMAX_MIN": AMAX_FLOOR, "BLOCK_M": 128, "BLOCK_K": 128},
         {"num_warps": 8}),
        ("quant_128x1", quant._quant_128x1_kernel,
         {"x_ptr": F32_PTR, "q_ptr": FP8_PTR, "s_ptr": F32_PTR, "qr_ptr": FP8_PTR, "sr_ptr": F32_PTR, **group_ptrs},
         {"GROUPED": False, "ALSO_ROWS": False, "AMAX_MIN": AMAX_FLOOR, "BLOCK_M": 128, "BLOCK_K": 64},
         {"num_warps": 4}),
        ("quant_128x128", quant._quant_128x128_kernel, {"w_ptr": F32_PTR, "q_ptr": FP8_PTR, "s_ptr": F32_PTR},
         {"AMAX_MIN": AMAX_FLOOR, "BLOCK_N": 128, "BLOCK_K": 128}, {"num_warps": 8}),
    ]
    gemm_fixed = [_split(gemm.fixed_config(4096)), _split(gemm.fixed_config(64))]
    grouped_fixed = [_split({"BLOCK_M": bm, **grouped_gemm.grouped_config()}) for bm in (128, 64)]
    wgrad_fixed = [_split(grouped_gemm.wgrad_config())]
    if all_configs:
        gemm_fixed += [(c.kwargs, {"num_warps": c.num_warps, "num_stages": c.num_stages}) for c in gemm.gemm_configs()]
        grouped_fixed += [({"BLOCK_M": bm, **c.kwargs}, {"num_warps": c.num_warps, "num_stages": c.num_stages})
                          for c in grouped_gemm.grouped_configs() for bm in (128, 64)]
        wgrad_fixed += [(c.kwargs, {"num_warps": c.num_warps, "num_stages": c.num_stages})
                        for c in grouped_gemm.wgrad_configs()]
    specs += [("gemm", gemm._gemm_kernel, gemm_ptrs, {"B_SCALE_ROWS": 128, "BLOCK_K": 128, **c}, o)
              for c, o in gemm_fixed]
    c, o = _split(gemm.fixed_config(4096, b_scale_rows=1))  # Wgrad: per-row scales on B, FP32 output
    specs.append(("gemm", gemm._gemm_kernel, {**gemm_ptrs, "c_ptr": F32_PTR}, {"B_SCALE_ROWS": 1, "BLOCK_K": 128, **c}, o))
    specs += [("grouped_gemm", grouped_gemm._grouped_gemm_kernel, {**gemm_ptrs, **group_ptrs}, {"BLOCK_K": 128, **c}, o)
              for c, o in grouped_fixed]
    specs += [("grouped_wgrad", grouped_gemm._grouped_wgrad_kernel, wgrad_ptrs, {"BLOCK_T": 128, **c}, o)
              for c, o in wgrad_fixed]
    return specs


def compile_kernel(kernel, pointers: dict, constexprs: dict, options: dict, arch: int):
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    signature, attrs = {}, {}
    for i, name in enumerate(kernel.arg_names):
        if name in constexprs:
            signature[name] = "constexpr"
            continue
        signature[name] = pointers.get(name, "i32")
        # At launch Triton marks 16-aligned pointers and integers divisible by 16 (model widths are);
        # without that the loads cannot use async copies and the K loop is not software-pipelined.
        if name != "n_groups":
            attrs[(i,)] = [["tt.divisibility", 16]]
    src = ASTSource(kernel, signature, constexprs=constexprs, attrs=attrs)
    return triton.compile(src, target=GPUTarget("cuda", arch, 32), options=options)


def ptxas_usage(ptx: str, arch: int) -> dict:
    """Registers and spill bytes as reported by the ptxas Triton itself uses for `arch`."""
    from triton.backends.nvidia.compiler import get_ptxas

    suffix = "a" if arch >= 90 else ""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "kernel.ptx")
        with open(src, "w") as f:
            f.write(ptx)
        proc = subprocess.run([get_ptxas(arch).path, "-v", "--regAllocOptLevel=2", f"--gpu-name=sm_{arch}{suffix}",
                               src, "-o", os.path.join(tmp, "kernel.cubin")], capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    regs = re.search(r"Used (\d+) registers", log)
    spills = re.search(r"(\d+) bytes spill stores", log)
    return {"registers": int(regs.group(1)) if regs else None, "spill_bytes": int(spills.group(1)) if spills else None}


def ptx_facts(ptx: str) -> dict:
    lines = ptx.splitlines()
    return {
        "async_copies": ptx.count("cp.async"),
        "fp8_wgmma": sum("wgmma.mma_async" in line and "e4m3" in line for line in lines),
        "e4m3_convert": ptx.count("cvt.rn.satfinite.e4m3x2.f32"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability as an integer (90 = H100)")
    parser.add_argument("--only", nargs="*", help="kernel names to compile")
    parser.add_argument("--all-configs", action="store_true", help="also compile every autotune candidate")
    args = parser.parse_args(argv)
    if os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
        print("compile_check: unset TRITON_INTERPRET (the interpreter cannot compile kernels)", file=sys.stderr)
        return 2
    failed = 0
    for name, kernel, pointers, constexprs, options in kernel_specs(args.all_configs):
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        config = {**{k: v for k, v in constexprs.items() if k != "AMAX_MIN"}, **options}
        try:
            compiled = compile_kernel(kernel, pointers, constexprs, options, args.arch)
            ptx = compiled.asm["ptx"]
            row = {"kernel": name, "config": config, "ok": True, **ptx_facts(ptx), **ptxas_usage(ptx, args.arch),
                   "shared_bytes": compiled.metadata.shared}
        except Exception as e:  # report every kernel, not just the first failure
            failed += 1
            row = {"kernel": name, "config": config, "ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"}
        row["seconds"] = round(time.perf_counter() - start, 1)
        print(json.dumps(row), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
