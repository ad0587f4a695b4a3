"""The kernels compile for an H100 (sm_90) on this CPU-only machine, using FP8 tensor cores.

The interpreter tests check the numbers; this checks the real lowering: Triton's bundled ptxas
compiles each kernel, the GEMMs must issue FP8 `wgmma` with software-pipelined (async) loads, and
the quantisers the saturating E4M3 conversion, and no default block configuration may spill
registers (ptxas -v).
"""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_every_kernel_compiles_for_sm90_with_fp8_wgmma_and_no_spills():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_DEFAULT_FP_FUSION"] = "1"
    proc = subprocess.run([sys.executable, "-m", "model.kernels.compile_check", "--arch", "90"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    for row in rows:
        assert row["spill_bytes"] == 0, f"{row['kernel']} {row['config']} spills registers"
        if row["kernel"] in ("gemm", "grouped_gemm", "grouped_wgrad"):
            assert row["fp8_wgmma"] > 0, row
            assert row["async_copies"] > 0, f"{row['kernel']}: the K loop is not pipelined"
        else:
            assert row["e4m3_convert"] > 0, row
    assert {r["kernel"] for r in rows} == {"quant_1x128", "quant_dual_grouped", "quant_128x1", "quant_128x128",
                                            "gemm", "grouped_gemm", "grouped_wgrad"}
