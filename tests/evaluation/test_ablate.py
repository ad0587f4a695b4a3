"""`deepcorpus ablate` on tiny data whose arms differ in a known direction; resume; the report."""

import json
import os

import pytest
import yaml

from deepcorpus.cli import main
from deepcorpus.report import build_html
from tests.evaluation.conftest import arithmetic_docs, prose_docs, write_text_benchmark, write_tokens

pytestmark = pytest.mark.slow
SEEDS = [0, 1]


@pytest.fixture(scope="module")
def arms(tiny_run, tmp_path_factory):
    """Two arms of the same number of tokens, one of arithmetic, one of prose, and held-out text of each."""
    root = tmp_path_factory.mktemp("ablation_data")
    tok = tiny_run["tokenizer"]
    n_arith = write_tokens(str(root / "arith"), arithmetic_docs(400, 10), tok, "arith")
    n_prose = write_tokens(str(root / "prose"), prose_docs(400, 11), tok, "prose", max_tokens=n_arith)
    assert abs(n_arith - n_prose) / n_arith < 0.02
    benchmarks = [f"arith_text={write_text_benchmark(root / 'arith_text.jsonl', arithmetic_docs(20, 99))}",
                  f"prose_text={write_text_benchmark(root / 'prose_text.jsonl', prose_docs(20, 98))}"]
    return root, benchmarks


def config(root, benchmarks, **overrides) -> str:
    data = {"preset": "tiny", "steps": 25, "seeds": SEEDS,
            "train": {"batch_size": 8, "loader_workers": 1, "log_every": 25},
            "arms": [{"name": "arith", "data": str(root / "arith")}, {"name": "prose", "data": str(root / "prose")}],
            "benchmarks": benchmarks, "eval": {"metrics": ["bpb"]}, **overrides}
    path = root / f"ablate-{len(os.listdir(root))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_each_arm_wins_on_its_own_kind_of_text_for_every_seed(arms, tmp_path, capsys, one_torch_thread):
    root, benchmarks = arms
    out = tmp_path / "ablation"
    assert main(["ablate", "--config", config(root, benchmarks), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "benchmark" in printed and "arith" in printed and "(2 seeds)" in printed
    result = json.loads((out / "ablation.json").read_text())
    table = {(r["benchmark"], r["metric"]): r for r in result["table"]}
    arith_row, prose_row = table[("arith_text", "bpb")], table[("prose_text", "bpb")]
    for seed in range(len(SEEDS)):  # the expected direction holds seed by seed, not just on average
        assert arith_row["arms"]["arith"]["values"][seed] < arith_row["arms"]["prose"]["values"][seed]
        assert prose_row["arms"]["prose"]["values"][seed] < prose_row["arms"]["arith"]["values"][seed]
    assert arith_row["best"] == "arith" and prose_row["best"] == "prose"
    assert arith_row["arms"]["arith"]["sd"] is not None and len(arith_row["arms"]["arith"]["values"]) == 2
    assert result["steps"] == 25 and result["tokens_per_run"] == 25 * 8 * 64
    for name in ("ablation.md", "ablation.csv", "ablation.png"):
        assert (out / name).stat().st_size > 0
    assert "**" in (out / "ablation.md").read_text()
    # Every run trained on the same schedule and seeds: the configs differ only in their data.
    configs = {}
    for arm in ("arith", "prose"):
        for seed in SEEDS:
            text = (out / "runs" / arm / f"seed_{seed}" / "config.toml").read_text()
            configs[(arm, seed)] = [line for line in text.splitlines() if not line.startswith(("data =", "output ="))]
    assert configs[("arith", 0)] == configs[("prose", 0)] and configs[("arith", 1)] == configs[("prose", 1)]
    assert configs[("arith", 0)] != configs[("arith", 1)]  # the seed

    # Resumable: a second run trains and evaluates nothing again.
    checkpoint = next((out / "runs" / "arith" / "seed_0" / "checkpoints").iterdir())
    before = os.path.getmtime(checkpoint / "model.pt")
    assert main(["ablate", "--config", config(root, benchmarks), "--output", str(out)]) == 0
    assert os.path.getmtime(checkpoint / "model.pt") == before
    assert json.loads((out / "ablation.json").read_text())["table"] == result["table"]
    # Another schedule for the same output is refused rather than mixed in.
    changed = config(root, benchmarks, steps=30)
    assert main(["ablate", "--config", changed, "--output", str(out)]) == 2
    assert "trained with other settings" in capsys.readouterr().err

    page, _ = build_html(str(out))
    assert "Data ablation" in page and page.count("<img ") == 2 and "<b>" in page


def test_bad_configs_are_refused_before_training(arms, tmp_path, capsys):
    root, benchmarks = arms
    other_seq = tmp_path / "other"
    from deepcorpus.core.contracts import TOKEN_SHARD, token_shard_schema
    from deepcorpus.core.datasets import DatasetWriter, read_manifest

    manifest = read_manifest(str(root / "arith"))
    with DatasetWriter(str(other_seq), TOKEN_SHARD, schema=token_shard_schema(32, manifest["vocab_size"])) as w:
        w.write_rows([{"tokens": [1] * 33, "doc_starts": [0], "source": "x"}])
        w.extra.update({k: manifest[k] for k in ("vocab_size", "tokenizer_hash", "eos_id", "pad_id")}, seq_len=32)
    cases = [
        ({"arms": [{"name": "a", "data": str(root / "arith")}, {"name": "a", "data": str(root / "prose")}]},
         "two arms are named 'a'"),
        ({"arms": [{"name": "a", "data": str(root / "arith")}, {"name": "b", "data": str(other_seq)}]},
         "seq_len 32 differs"),
        ({"tokens": 1000}, "exactly one of 'tokens' or 'steps'"),
        ({"train": {"data": ["x"]}}, "set per arm by ablate"),
        ({"eval": {"metrics": ["bleu"]}}, "--metrics takes"),
        ({"colour": "blue"}, "unknown key 'colour'"),
        # Values get the checks of `deepcorpus train` and `eval` now, naming this file, not the first run's train.yaml.
        ({"steps": None, "tokens": -5}, ".yaml: tokens: expected a whole number >= 1, got -5"),
        ({"seeds": [-1]}, ".yaml: seeds: expected a whole number in [0, 4294967295], got -1"),
        ({"train": {"lr": -1}}, ".yaml: lr: expected a number > 0, got -1"),
        ({"train": {"lrr": 1}}, ".yaml: train: unknown config key 'lrr'"),
        ({"eval": {"limit": 0}}, ".yaml: --limit must be at least 1"),
    ]
    for overrides, message in cases:
        assert main(["ablate", "--config", config(root, benchmarks, **overrides), "--output", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "o" / "runs").exists()
