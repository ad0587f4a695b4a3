"""What a run records: the progress line, metrics.jsonl after a resume, the loss-curve summary."""

import json

import torch

from train.metrics import MetricsLog, gpu_peak_flops, loss_curve_summary, progress_line, sparkline
from train.trainer import StepResult


def result(step, loss, seconds=0.5):
    return StepResult(step=step, loss=loss, main_loss=loss * 0.8, mtp_loss=loss * 0.6, balance_loss=0.01,
                      grad_norm=1.5, lr=1e-3, tokens=1000, seconds=seconds, loader_seconds=0.01,
                      load_stats={"max_over_mean": 1.25})


def test_the_progress_line_shows_loss_mtp_lr_throughput_mfu_and_expert_load():
    log = MetricsLog("/nonexistent", log_every=1, total_steps=10, flops_per_token=1e9, peak_flops=1e13, world=1,
                     enabled=False)
    rec = log.record(result(3, 4.0))
    assert rec["tokens_per_s"] == 2000 and rec["mfu"] == 1e9 * 2000 / 1e13  # FLOPs/token x tokens/s / peak
    line = progress_line(rec, 10)
    for part in ("step 3/10", "loss 4.0000", "mtp 2.4000", "lr 1.00e-03", "2,000 tok/s", "mfu 20.0%",
                 "load max/mean 1.25"):
        assert part in line
    assert gpu_peak_flops(torch.device("cpu")) is None  # no MFU on a CPU


def test_a_resumed_run_forgets_the_steps_after_its_checkpoint(tmp_path):
    log = MetricsLog(str(tmp_path), log_every=10, total_steps=10, flops_per_token=None, peak_flops=None, world=1)
    for s in range(1, 7):
        log.record(result(s, 10.0 - s))
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 7, "lo')  # cut by the crash
    log.truncate_after(4)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [1, 2, 3, 4]
    assert json.loads(lines[-1])["tokens_seen"] == 4000


def test_the_loss_curve_summary_has_first_last_min_and_a_sparkline():
    records = [{"step": i + 1, "loss": 10 - 0.1 * i} for i in range(100)]
    text = loss_curve_summary(records)
    assert "first 10.0000   last 0.1000   min 0.1000 (step 100)" in text
    line = sparkline([r["loss"] for r in records], width=20)
    assert len(line) == 20 and line[0] == "█" and line[-1] == "▁"
    assert sparkline([3.0]) == "▁" and loss_curve_summary([]) == "no steps logged"
