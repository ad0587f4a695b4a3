"""The Trainer assembled from its components in Python, as another kind of training would: its own
loss function, the same loop, metrics and checkpoints."""

import json
import os

import pytest

from deepcorpus.core.metrics import read_metrics
from model import ModelOutput
from tests.train.shards import pattern_rows, write_shards
from train.checkpoint import build_checkpointer, load_checkpoint, newest_checkpoint
from train.config import TrainConfig
from train.loader import build_data
from train.metrics import build_metrics
from train.model_setup import build_model
from train.optim import build_optimizer, build_schedule
from train.parallel import Parallel
from train.trainer import Trainer

SEQ = 16


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "tokens"
    return write_shards(path, pattern_rows(64, SEQ, 256), seq_len=SEQ, vocab_size=256)


def components(tokens, run_dir, steps):
    cfg = TrainConfig(data=[tokens], output=str(run_dir), steps=steps, batch_size=4, micro_batch_size=2,
                      loader_workers=0, checkpoint_every=2, model={"n_layers": 2, "mtp_depth": 0}).validate()
    parallel = Parallel()
    data = build_data(cfg, parallel)
    model = build_model(cfg, data.sources[0].info, parallel)
    return cfg, parallel, data, model


def main_loss_only(model, mb):
    """A supplied loss: next-token prediction alone, without the balance term. (A parameter the loss
    never reaches has no optimizer state, and a strict resume refuses it: hence no MTP here.)"""
    out = model(mb.inputs, targets=mb.targets)
    return ModelOutput(out.logits, loss=out.main_loss, main_loss=out.main_loss)


def trainer_for(tokens, run_dir, steps):
    cfg, parallel, data, model = components(tokens, run_dir, steps)
    os.makedirs(run_dir, exist_ok=True)
    return Trainer(model, build_optimizer(cfg, model.module), build_schedule(cfg), data,
                   build_metrics(cfg, model.module, data.seq_len, parallel), parallel=parallel, steps=steps,
                   checkpointer=build_checkpointer(cfg, parallel, model.args), loss_fn=main_loss_only)


def test_a_supplied_loss_is_what_the_loop_minimises_logs_and_checkpoints(tokens, tmp_path):
    run = tmp_path / "run"
    outcome = trainer_for(tokens, run, steps=3).train()
    assert (outcome.step, outcome.stopped, outcome.last_saved) == (3, False, 3)
    records = read_metrics(str(run))
    assert [r["step"] for r in records] == [1, 2, 3]
    for r in records:
        assert r["loss"] == r["main_loss"] and r["mtp_loss"] is None and r["balance_loss"] == 0.0
    state = json.loads(open(os.path.join(newest_checkpoint(str(run)), "trainer.json")).read())
    assert state["step"] == 3 and state["tokens_seen"] == records[-1]["tokens_seen"]

    # A second Trainer continues from the step-2 checkpoint and repeats step 3 exactly.
    again = trainer_for(tokens, run, steps=3)
    again.load(load_checkpoint(os.path.join(run, "checkpoints", "step_00000002")))
    assert again.steps_done == 2
    assert again.train().step == 3
    resumed = read_metrics(str(run))
    assert [(r["step"], r["loss"], r["grad_norm"]) for r in resumed] == [
        (r["step"], r["loss"], r["grad_norm"]) for r in records]
