"""TrainConfig: defaults < --config file (TOML or YAML) < command line; every field written back."""

import pytest

from deepcorpus.core.errors import UserError
from train.config import TrainConfig, build_config, load_file, parse_model_overrides, read_toml, write_toml


def test_file_values_are_overridden_by_the_command_line(tmp_path):
    cfg_file = tmp_path / "run.toml"
    cfg_file.write_text('[train]\nsteps = 300\nlr = 0.001\ndata = ["a", "b"]\n[model]\nn_layers = 4\n')
    cfg = build_config({"steps": 50, "lr": None, "model": {"dim": 32}}, str(cfg_file))
    assert cfg.steps == 50 and cfg.lr == 0.001 and cfg.data == ["a", "b"]
    assert cfg.model == {"n_layers": 4, "dim": 32}
    assert cfg.batch_size == TrainConfig().batch_size


def test_yaml_works_too_and_keys_may_sit_at_top_level(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("steps: 7\nschedule: cosine\ndoc-mask: true\nmodel: {mtp_depth: 0}\n")
    assert load_file(str(f)) == {"steps": 7, "schedule": "cosine", "doc_mask": True, "model": {"mtp_depth": 0}}


def test_the_written_config_lists_every_field_and_reads_back_equal(tmp_path):
    cfg = TrainConfig(data=["x/tokens"], steps=12, lr=3e-4, model={"n_layers": 2, "score_func": "softmax"})
    write_toml(cfg, str(tmp_path / "config.toml"))
    text = (tmp_path / "config.toml").read_text()
    for name in TrainConfig.__dataclass_fields__:
        assert name in text
    assert read_toml(str(tmp_path / "config.toml")) == cfg


@pytest.mark.parametrize("content, message", [
    ("[train]\nstep = 3\n", "unknown config key 'step'"),
    ("[train]\nsteps = 'many'\n", "steps must be a number"),
    ("[train\n", "malformed TOML"),
])
def test_bad_files_say_what_is_wrong(tmp_path, content, message):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    with pytest.raises(UserError, match=message):
        build_config({}, str(f))


def test_values_are_checked():
    with pytest.raises(UserError, match="schedule must be one of"):
        build_config({"schedule": "linear"})
    with pytest.raises(UserError, match="steps: expected a whole number >= 1, got 0"):
        build_config({"steps": 0})
    with pytest.raises(UserError, match="lr: expected a number > 0, got nan"):
        build_config({"lr": float("nan")})


def test_model_overrides_are_typed():
    assert parse_model_overrides(["n_layers=4", "score_func=softmax", "mtp_lambda=0.1", "norm_topk_prob=true"]) == {
        "n_layers": 4, "score_func": "softmax", "mtp_lambda": 0.1, "norm_topk_prob": True}
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_model_overrides(["n_layers"])


@pytest.mark.parametrize("cli, message", [
    ({}, "run.toml: [model] n_heads must be positive, got 0"),
    ({"n_groups": 3}, "--model: n_routed_experts (8) must divide into n_groups (3)"),
])
def test_a_bad_model_value_names_where_it_came_from(tmp_path, cli, message):
    f = tmp_path / "run.toml"
    f.write_text("[train]\npreset = 'tiny'\n[model]\nn_heads = 0\n" if not cli else "[model]\nn_layers = 3\n")
    with pytest.raises(UserError) as e:
        build_config({"model": cli or None}, str(f))
    assert str(e.value).endswith(message) and (str(f) in str(e.value)) == (not cli)
