"""Checkpoints: complete ones are found, unfinished ones never are, the newest K are kept."""

import json
import os

import pytest
import torch

from deepcorpus.core.errors import UserError
from train import checkpoint as ck


def save(run, step, keep=3, **kw):
    model = torch.nn.Linear(3, 2)
    return ck.save_checkpoint(
        str(run), step, model_state=model.state_dict(), optimizer_state={"state": {}, "param_groups": []},
        trainer_state={"step": step}, config_toml="[train]\n", model_args={}, keep=keep, **kw)


def test_the_newest_complete_checkpoint_wins_and_old_ones_are_pruned(tmp_path):
    for step in (10, 20, 30, 40):
        save(tmp_path, step, keep=2)
    assert [s for s, _ in ck.complete_checkpoints(str(tmp_path))] == [30, 40]
    newest = ck.newest_checkpoint(str(tmp_path))
    assert newest.endswith("step_00000040")
    assert json.loads(open(os.path.join(newest, "trainer.json")).read())["step"] == 40
    assert ck.load_checkpoint(newest)["rng"]["torch"].dtype == torch.uint8


def test_a_write_that_dies_midway_never_becomes_the_newest(tmp_path, monkeypatch):
    save(tmp_path, 10)
    real = ck._write_bytes

    def dying(path, data):
        if path.endswith("optimizer.pt"):
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(ck, "_write_bytes", dying)
    with pytest.raises(OSError):
        save(tmp_path, 20)
    monkeypatch.setattr(ck, "_write_bytes", real)
    assert os.path.isdir(tmp_path / "checkpoints" / ".step_00000020.tmp")  # what the crash left
    assert ck.newest_checkpoint(str(tmp_path)).endswith("step_00000010")
    save(tmp_path, 30)  # the next save clears the leftovers
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["step_00000010", "step_00000030"]


def test_a_checkpoint_with_a_truncated_file_or_no_marker_is_skipped(tmp_path):
    save(tmp_path, 10)
    save(tmp_path, 20)
    newest = ck.newest_checkpoint(str(tmp_path))
    with open(os.path.join(newest, "model.pt"), "r+b") as f:
        f.truncate(10)
    assert ck.newest_checkpoint(str(tmp_path)).endswith("step_00000010")
    os.remove(os.path.join(ck.newest_checkpoint(str(tmp_path)), ck.MARKER))
    assert ck.newest_checkpoint(str(tmp_path)) is None
    with pytest.raises(UserError, match="no complete checkpoint"):
        ck.resolve_checkpoint(str(tmp_path))


def test_rng_states_round_trip():
    state = ck.rng_state()
    a = torch.rand(3)
    ck.set_rng_state(state)
    assert torch.equal(torch.rand(3), a)
