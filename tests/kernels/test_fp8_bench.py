"""benchmarks/fp8_bench.py: exits cleanly without a GPU, and its loss-curve section runs (reference kernels)."""

import torch

from benchmarks import fp8_bench


def test_without_a_gpu_the_benchmark_says_so_and_returns(capsys, tmp_path):
    if torch.cuda.is_available():
        return  # on a GPU machine the real run is `make bench`, not a unit test
    assert fp8_bench.main(str(tmp_path)) is None
    assert "skipped" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_synthetic_stream_is_learnable_and_deterministic():
    a = next(fp8_bench.synthetic_batches(vocab=50, batch=2, seq=16, steps=1, seed=3))
    b = next(fp8_bench.synthetic_batches(vocab=50, batch=2, seq=16, steps=1, seed=3))
    assert a.shape == (2, 17) and torch.equal(a, b)


def test_loss_curves_compare_fp8_with_bf16_on_the_same_batches():
    rows, notes = fp8_bench.loss_curves(steps=2, device="cpu", backend="reference", batch=2, seq=16,
                                        preset={"name": "tiny", "n_layers": 2, "mtp_depth": 0})
    assert [r["run"] for r in rows] == ["bf16", "fp8"]
    assert abs(rows[0]["first_loss"] - rows[1]["first_loss"]) / rows[0]["first_loss"] < 0.02
    assert abs(notes["loss_rel_gap_fp8_vs_bf16"]) < 0.05
