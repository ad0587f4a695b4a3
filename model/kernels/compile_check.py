"""Compile every FP8 kernel for a GPU architecture without a GPU: does it lower to Hopper's FP8 wgmma?

The Triton interpreter checks what the kernels compute; this checks that the same source compiles
for the real target (Triton's own ptxas runs on any machine) and that the GEMMs use FP8 tensor-core
instructions (`wgmma.mma_async ... e4m3` on sm_90) and the quantisers the saturating E4M3 convert.

    python -m model.kernels.compile_check --arch 90     # prints one JSON line per kernel

Must run without TRITON_INTERPRET (under the interpreter `triton.jit` returns interpreted functions).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# Pointer types of each kernel's *_ptr arguments (other arguments are int32 scalars).
FP8_PTR, F32_PTR, I32_PTR, BF16_PTR = "*fp8e4nv", "*fp32", "*i32", "*bf16"


def kernel_specs() -> list[tuple[str, object, dict, dict, dict]]:
    """(name, kernel, pointer types, constexprs, compile options) for a representative H100 config each."""
    from model.kernels import gemm, grouped_gemm, quant
    from model.kernels.reference import AMAX_FLOOR

    group_ptrs = {"counts_ptr": I32_PTR, "row_start_ptr": I32_PTR, "tile_start_ptr": I32_PTR, "tile_group_ptr": I32_PTR}
    gemm_ptrs = {"a_ptr": FP8_PTR, "b_ptr": FP8_PTR, "c_ptr": BF16_PTR, "sa_ptr": F32_PTR, "sb_ptr": F32_PTR}
    return [
        ("quant_1x128", quant._quant_1x128_kernel,
         {"x_ptr": BF16_PTR, "q_ptr": FP8_PTR, "s_ptr": F32_PTR},
         {"AMAX_MIN": AMAX_FLOOR, "BLOCK_M": 32, "BLOCK_K": 128}, {"num_warps": 4}),
        ("quant_dual_grouped", quant._quant_128x1_kernel,
         {"x_ptr": BF16_PTR, "q_ptr": FP8_PTR, "s_ptr": F32_PTR, "qr_ptr": FP8_PTR, "sr_ptr": F32_PTR, **group_ptrs},
         {"GROUPED": True, "ALSO_ROWS": True, "AMAX_MIN": AMAX_FLOOR, "BLOCK_M": 128, "BLOCK_K": 128},
         {"num_warps": 8}),
        ("quant_128x128", quant._quant_128x128_kernel,
         {"w_ptr": F32_PTR, "q_ptr": FP8_PTR, "s_ptr": F32_PTR},
         {"AMAX_MIN": AMAX_FLOOR, "BLOCK_N": 128, "BLOCK_K": 128}, {"num_warps": 8}),
        ("gemm", gemm._gemm_kernel, gemm_ptrs,
         {"B_SCALE_ROWS": 128, "BLOCK_K": 128, "BLOCK_M": 128, "BLOCK_N": 128, "GROUP_M": 8},
         {"num_warps": 8, "num_stages": 4}),
        ("grouped_gemm", grouped_gemm._grouped_gemm_kernel, {**gemm_ptrs, **group_ptrs},
         {"BLOCK_M": 128, "BLOCK_K": 128, "BLOCK_N": 128}, {"num_warps": 4, "num_stages": 4}),
        ("grouped_wgrad", grouped_gemm._grouped_wgrad_kernel,
         {**gemm_ptrs, "c_ptr": F32_PTR, "counts_ptr": I32_PTR, "tile_start_ptr": I32_PTR},
         {"BLOCK_T": 128, "BLOCK_M": 128, "BLOCK_N": 128}, {"num_warps": 8, "num_stages": 3}),
    ]


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


def ptx_facts(ptx: str) -> dict:
    return {
        "async_copies": ptx.count("cp.async") + ptx.count("cp.async.bulk"),
        "fp8_wgmma": sum("wgmma.mma_async" in line and "e4m3" in line for line in ptx.splitlines()),
        "fp8_mma": sum(line.strip().startswith("mma.") and "e4m3" in line for line in ptx.splitlines()),
        "e4m3_convert": ptx.count("cvt.rn.satfinite.e4m3x2.f32"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability as an integer (90 = H100)")
    parser.add_argument("--only", nargs="*", help="kernel names to compile")
    args = parser.parse_args(argv)
    if os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
        print("compile_check: unset TRITON_INTERPRET (the interpreter cannot compile kernels)", file=sys.stderr)
        return 2
    failed = 0
    for name, kernel, pointers, constexprs, options in kernel_specs():
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        try:
            compiled = compile_kernel(kernel, pointers, constexprs, options, args.arch)
            row = {"kernel": name, "ok": True, **ptx_facts(compiled.asm["ptx"]),
                   "shared_bytes": compiled.metadata.shared}
        except Exception as e:  # report every kernel, not just the first failure
            failed += 1
            row = {"kernel": name, "ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"}
        row["seconds"] = round(time.perf_counter() - start, 1)
        print(json.dumps(row), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
