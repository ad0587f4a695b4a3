"""`deepcorpus train` end to end on CPU: the loss falls, resume is exact, DDP matches one process."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

from deepcorpus.cli import main
from deepcorpus.core.metrics import read_metrics
from tests.train.shards import pattern_rows, write_shards
from train.checkpoint import load_for_inference, newest_checkpoint
from train.trainer import Trainer

SEQ = 32
FAST = ["--preset", "tiny", "--batch-size", "8", "--log-every", "5", "--loader-workers", "1"]


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "tokens"
    return write_shards(path, pattern_rows(400, SEQ, 2048), seq_len=SEQ, vocab_size=2048, rows_per_part=150)


@pytest.fixture(scope="module")
def bundled_tokens(tmp_path_factory):
    """The bundled math seed pages and formal problems, tokenized and packed as `tokenize run` does."""
    from deepcorpus import samples
    from deepcorpus.core.contracts import TOKEN_SHARD, token_shard_schema
    from deepcorpus.core.datasets import DatasetWriter, iter_jsonl
    from pipelines.tokenize.packing import pack
    from pipelines.tokenize.tokenizer import hash_bytes, shard_manifest_keys, to_bytes, train_tokenizer

    texts = [r["text"] for name in ("math_seed.jsonl", "problems.jsonl") for r in iter_jsonl(samples.path(name))
             if r.get("text")]
    tok = train_tokenizer(texts, vocab_size=512)
    keys = shard_manifest_keys(tok, hash_bytes(to_bytes(tok)))
    schema = token_shard_schema(SEQ, keys["vocab_size"])
    docs = [("bundled", enc.ids) for enc in tok.encode_batch(texts)]
    table, _ = pack(docs, SEQ, keys["eos_id"], keys["pad_id"], schema)
    path = tmp_path_factory.mktemp("bundled") / "tokens"
    with DatasetWriter(str(path), TOKEN_SHARD, schema=schema) as w:
        w.write_table(table)
        w.extra.update(seq_len=SEQ, **keys)
    return str(path)


def losses(run_dir):
    return [r["loss"] for r in read_metrics(str(run_dir))]


def train(tokens, run_dir, *extra):
    return main(["train", "--data", tokens, "--output", str(run_dir), *FAST, *extra])


@pytest.mark.slow
def test_the_loss_falls_on_bundled_text_and_the_run_ends_with_a_loss_curve(bundled_tokens, tmp_path, capsys):
    assert train(bundled_tokens, tmp_path / "run", "--steps", "40", "--doc-mask") == 0
    out = capsys.readouterr().out
    assert "loss curve over 40 steps" in out and "first" in out and "min" in out
    curve = losses(tmp_path / "run")
    assert len(curve) == 40
    assert sum(curve[-5:]) / 5 < 0.85 * curve[0]
    rec = read_metrics(str(tmp_path / "run"))[-1]
    assert rec["main_loss"] < math.log(512) - 1  # a nat better than guessing uniformly
    for key in ("main_loss", "mtp_loss", "balance_loss", "lr", "tokens_per_s", "grad_norm", "tokens_seen",
                "expert_load_max_over_mean"):
        assert rec[key] is not None, key
    assert rec["tokens_seen"] <= 40 * 8 * SEQ  # target tokens: the padding at a part's end does not count
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == 40 and summary["last_loss"] == curve[-1]
    assert "[model]" in (tmp_path / "run" / "config.toml").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["full", "sharded"])
def test_resuming_after_a_crash_reproduces_the_uninterrupted_run_bit_for_bit(tokens, tmp_path, monkeypatch, fmt):
    common = ["--steps", "10", "--checkpoint-every", "4", "--keep-checkpoints", "5", "--checkpoint-format", fmt]
    assert train(tokens, tmp_path / "full", *common) == 0

    real_step = Trainer.step

    def crash_at_7(self, step, *a, **kw):
        if step == 6:
            raise RuntimeError("simulated crash")
        return real_step(self, step, *a, **kw)

    monkeypatch.setattr(Trainer, "step", crash_at_7)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(tokens, tmp_path / "crashed", *common)
    monkeypatch.setattr(Trainer, "step", real_step)
    assert len(losses(tmp_path / "crashed")) == 6  # steps 5 and 6 ran after the step-4 checkpoint
    assert train(tokens, tmp_path / "crashed", *common, "--resume") == 0

    assert losses(tmp_path / "crashed") == losses(tmp_path / "full")  # exact float equality
    a = load_for_inference(str(tmp_path / "full"))[0].state_dict()
    b = load_for_inference(str(tmp_path / "crashed"))[0].state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _torchrun(tokens, run_dir, *extra):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "deepcorpus", "train", "--data", tokens, "--output", str(run_dir), *FAST, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


DIST_STEPS = ["--steps", "6", "--micro-batch-size", "4", "--schedule", "constant", "--warmup-steps", "0"]


@pytest.fixture(scope="module")
def single_process_run(tokens, tmp_path_factory):
    run = tmp_path_factory.mktemp("single") / "run"
    assert train(tokens, run, *DIST_STEPS) == 0  # 2 micro-batches of 4 per step
    return losses(run)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ddp", "fsdp"])
def test_two_gloo_ranks_match_one_process_with_the_same_global_batch(tokens, single_process_run, tmp_path, how):
    if how == "fsdp":  # also stop at step 3 and resume from the sharded checkpoint
        _torchrun(tokens, tmp_path / how, *DIST_STEPS, "--distributed", how, "--steps", "3")
        _torchrun(tokens, tmp_path / how, *DIST_STEPS, "--distributed", how, "--resume")
    else:
        _torchrun(tokens, tmp_path / how, *DIST_STEPS, "--distributed", how)  # 1 micro-batch of 4 per rank
    single, dist = single_process_run, losses(tmp_path / how)
    assert len(dist) == 6
    assert dist == pytest.approx(single, rel=1e-5)
    ckpt = newest_checkpoint(str(tmp_path / how))
    assert sorted(f for f in os.listdir(ckpt) if f.startswith("rng_")) == ["rng_rank0.pt", "rng_rank1.pt"]
    # FSDP writes each rank's shards (torch.distributed.checkpoint); DDP one full state dict.
    assert os.path.isdir(os.path.join(ckpt, "sharded")) == (how == "fsdp")
    model, _, _ = load_for_inference(str(tmp_path / how))  # gathered back into one process
    assert model(torch.randint(0, 2048, (1, 4))).logits.isfinite().all()


@pytest.mark.slow
def test_a_trained_checkpoint_loads_for_inference(tokens, tmp_path):
    assert train(tokens, tmp_path / "run", "--steps", "3") == 0
    model, args, tokenizer = load_for_inference(str(tmp_path / "run"))
    assert not model.training and args.vocab_size == 2048 and tokenizer is None
    x = torch.randint(0, 2048, (1, 8))
    assert model(x).logits.shape == (1, 8, 2048)


def test_shards_of_another_tokenizer_are_refused_on_the_command_line(tokens, tmp_path, capsys):
    other = write_shards(tmp_path / "other", pattern_rows(10, SEQ, 2048), seq_len=SEQ, vocab_size=2048,
                         tokenizer_hash="cd" * 32)
    assert train(tokens, tmp_path / "run", "--data", other, "--steps", "1") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another tokenizer" in err and "other" in err


def test_a_corrupt_shard_is_one_line_and_exit_2(tmp_path, capsys):
    from deepcorpus.core.datasets import open_dataset

    path = write_shards(tmp_path / "tokens", pattern_rows(20, SEQ, 2048), seq_len=SEQ, vocab_size=2048)
    part = open_dataset(path).files[0]
    size = os.path.getsize(part)
    with open(part, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\0" * (size - size // 2))  # the listed size, but not Parquet any more
    assert train(path, tmp_path / "run", "--steps", "1") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{os.path.basename(part)}: corrupt token shard" in err


def test_fp8_without_a_capable_gpu_is_refused_clearly(tokens, tmp_path, capsys):
    assert train(tokens, tmp_path / "run", "--steps", "1", "--fp8") == 2
    err = capsys.readouterr().err
    assert "--fp8" in err and "\n" not in err.strip()


def test_count_params_prints_json(capsys):
    assert main(["train", "--preset", "v3", "--count-params", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert set(counts) == {"total", "activated", "mtp"}
    assert 660e9 < counts["total"] < 690e9 and 35e9 < counts["activated"] < 39e9


@pytest.mark.slow
def test_fp8_reference_kernels_train_and_checkpoint(tokens, tmp_path):
    assert train(tokens, tmp_path / "run", "--steps", "3", "--fp8", "--fp8-backend", "reference") == 0
    curve = losses(tmp_path / "run")
    assert len(curve) == 3 and curve[-1] < curve[0]
    model, _, _ = load_for_inference(str(tmp_path / "run"))  # FP8 master weights load into a plain model
    assert model(torch.randint(0, 2048, (1, 4))).logits.isfinite().all()


@pytest.mark.slow
def test_router_biases_move_once_per_optimizer_step_and_are_checkpointed(tokens, tmp_path, monkeypatch):
    from model import Transformer

    calls = []
    real = Transformer.update_router_biases

    def counted(self, *a, **kw):
        calls.append(1)
        return real(self, *a, **kw)

    monkeypatch.setattr(Transformer, "update_router_biases", counted)
    assert train(tokens, tmp_path / "run", "--steps", "3", "--micro-batch-size", "2") == 0  # 4 micro-batches/step
    assert len(calls) == 3
    state = torch.load(os.path.join(newest_checkpoint(str(tmp_path / "run")), "model.pt"))
    biases = [v for k, v in state.items() if k.endswith("gate.bias")]
    assert biases and any(b.abs().sum() > 0 for b in biases)


@pytest.mark.slow
def test_config_file_and_options_make_the_effective_config_saved_with_the_checkpoint(tokens, tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[train]\nsteps = 2\nlr = 0.0005\nschedule = "cosine"\noutput = "{tmp_path / "run"}"\n'
                   '[model]\nn_layers = 2\n')
    assert main(["train", "--config", str(cfg), "--data", tokens, "--batch-size", "4", "--model", "mtp_depth=0"]) == 0
    from train.config import read_toml

    saved = read_toml(os.path.join(newest_checkpoint(str(tmp_path / "run")), "config.toml"))
    assert (saved.steps, saved.lr, saved.schedule, saved.batch_size) == (2, 0.0005, "cosine", 4)
    assert saved.model == {"n_layers": 2, "mtp_depth": 0}
    assert saved.tokenizer_hash == "ab" * 32  # recorded from the shards: a resume refuses other ones
    rec = read_metrics(str(tmp_path / "run"))[-1]
    assert rec["mtp_loss"] is None


def test_a_run_directory_with_checkpoints_needs_resume(tokens, tmp_path, capsys):
    from train.checkpoint import save_checkpoint

    save_checkpoint(str(tmp_path / "run"), 5, model_state={}, optimizer_state={}, trainer_state={},
                    config_toml="", model_args={}, keep=1)
    assert train(tokens, tmp_path / "run", "--steps", "1") == 2
    assert "add --resume" in capsys.readouterr().err


def test_a_mixture_file_names_the_datasets_and_weights(tokens, tmp_path):
    mix = tmp_path / "mix.yaml"
    mix.write_text(f"sources:\n  - {{name: main, path: {tokens}, weight: 1}}\n")
    assert main(["train", "--mixture", str(mix), "--output", str(tmp_path / "run"), *FAST, "--steps", "1"]) == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps"] == 1


def test_missing_inputs_and_options_are_one_line_errors(tokens, tmp_path, capsys):
    assert main(["train", "--output", str(tmp_path / "run"), "--steps", "1"]) == 2
    assert "no training data" in capsys.readouterr().err
    assert main(["train", "--data", tokens, "--steps", "1"]) == 2
    assert "--output RUN_DIR is required" in capsys.readouterr().err
    assert train(tokens, tmp_path / "run", "--steps", "1", "--batch-size", "6", "--micro-batch-size", "4") == 2
    assert "multiple of micro_batch_size" in capsys.readouterr().err


def test_count_params_prints_a_table_without_json(capsys):
    assert main(["train", "--preset", "tiny", "--count-params", "--model", "n_layers=2"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == ["total", "activated", "mtp"]


def test_count_params_counts_the_model_of_the_config_file(tmp_path, capsys):
    """The preset and [model] of --config, then --model: the model the run would build (the file
    was ignored once, and a bad value in it went unnamed)."""
    def count(*argv):
        assert main(["train", "--count-params", "--json", *argv]) == 0
        return json.loads(capsys.readouterr().out)["total"]

    f = tmp_path / "run.toml"
    f.write_text("[train]\npreset = 'tiny'\n[model]\nn_layers = 6\n")
    assert count("--config", str(f)) == count("--preset", "tiny", "--model", "n_layers=6") > count("--preset", "tiny")
    assert count("--config", str(f), "--model", "n_layers=2") == count("--preset", "tiny", "--model", "n_layers=2")
    f.write_text("[model]\nn_heads = 0\n")
    assert main(["train", "--count-params", "--config", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{f}: [model] n_heads must be positive, got 0" in err[0]


def test_tensorboard_is_optional_and_says_what_to_install(tokens, tmp_path, capsys):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        assert train(tokens, tmp_path / "run", "--steps", "1", "--tensorboard") == 2
        assert "pip install tensorboard" in capsys.readouterr().err
    else:
        assert train(tokens, tmp_path / "run", "--steps", "1", "--tensorboard") == 0
        assert os.listdir(tmp_path / "run" / "tensorboard")


@pytest.mark.slow
def test_sigterm_checkpoints_at_the_step_boundary_and_resume_continues(tokens, tmp_path):
    import signal
    import time

    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "deepcorpus", "train", "--data", tokens, "--output", str(run), *FAST,
           "--steps", "100000", "--checkpoint-every", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(losses(run)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert "continue with --resume" in out
    done = len(losses(run))
    assert newest_checkpoint(str(run)).endswith(f"step_{done:08d}")
    assert train(tokens, run, "--resume", "--steps", str(done + 2)) == 0
    assert len(losses(run)) == done + 2


@pytest.mark.slow
def test_activation_checkpointing_trains_the_same_losses(tokens, single_process_run, tmp_path):
    assert train(tokens, tmp_path / "run", *DIST_STEPS, "--activation-checkpointing") == 0
    assert losses(tmp_path / "run") == pytest.approx(single_process_run, rel=1e-6)
