"""benchmarks/fp8_bench.py: exits cleanly without a GPU, and its loss-curve section runs (reference kernels)."""

import pytest
import torch

from benchmarks import fp8_bench


@pytest.mark.skipif(fp8_bench._device_problem() is None,
                    reason="an FP8 GPU without TRITON_INTERPRET: main() would run the whole benchmark (`make bench`)")
def test_where_it_cannot_run_the_benchmark_says_so_and_returns(capsys, tmp_path):
    # Under `make test` (TRITON_INTERPRET=1) this runs on a GPU machine too: the interpreter is the reason.
    assert fp8_bench.main(str(tmp_path)) is None
    assert "skipped" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_synthetic_stream_is_learnable_and_deterministic():
    a = next(fp8_bench.synthetic_batches(vocab=50, batch=2, seq=16, steps=1, seed=3))
    b = next(fp8_bench.synthetic_batches(vocab=50, batch=2, seq=16, steps=1, seed=3))
    assert a.shape == (2, 17) and torch.equal(a, b)


@pytest.mark.slow
def test_loss_curves_compare_fp8_with_bf16_on_the_same_batches():
    rows, notes = fp8_bench.loss_curves(steps=2, device="cpu", backend="reference", batch=2, seq=16,
                                        preset={"name": "tiny", "n_layers": 2, "mtp_depth": 0})
    assert [r["run"] for r in rows] == ["bf16", "fp8"]
    assert abs(rows[0]["first_loss"] - rows[1]["first_loss"]) / rows[0]["first_loss"] < 0.02
    assert abs(notes["loss_rel_gap_fp8_vs_bf16"]) < 0.05


@pytest.mark.slow
def test_gpu_sections_run_end_to_end_on_tiny_shapes(device, monkeypatch):
    # The sections are written for an H100; here they run in the interpreter with one call per timing,
    # to prove the code paths (quantise, GEMMs, baselines, report rows) before a GPU ever sees them.
    monkeypatch.setattr(fp8_bench, "DEVICE", device)
    monkeypatch.setattr(fp8_bench, "_bench_ms", lambda fn: (fn(), 1.0)[1])
    monkeypatch.setattr(fp8_bench, "V3_LAYERS", [("a", 64, 130), ("b", 32, 128), ("c", 48, 128)])
    monkeypatch.setattr(fp8_bench, "M_VALUES", (33,))
    monkeypatch.setattr(fp8_bench, "GROUPED_EXPERTS", 3)
    monkeypatch.setattr(fp8_bench, "GROUPED_ROWS", 150)
    monkeypatch.setattr(fp8_bench, "GROUPED_LAYERS", [("expert", 32, 130)])
    monkeypatch.setattr(fp8_bench, "ERROR_SHAPE", (40, 64, 256))
    gemm, _ = fp8_bench.gemm_rows()
    assert len(gemm) == 3 and all(r["fp8_triton"] > 0 and r["bf16_matmul"] > 0 for r in gemm)
    steps = fp8_bench.linear_step_rows()
    assert [r["layer"] for r in steps] == ["c"] and all(r["x_vs_bf16"] > 0 for r in steps)
    grouped = fp8_bench.grouped_rows()
    assert grouped[0]["fp8_grouped_triton"] > 0 and grouped[0]["fp8_grouped_wgrad_triton"] > 0
    errors = {r["method"]: r["rel_err_vs_fp64"] for r in fp8_bench.error_rows()}
    assert errors["fp8 triton 1x128/128x128"] < 0.08 and errors["bf16 matmul"] < 0.01
