"""`deepcorpus math STEP --help` shows examples; options parse into the run's configuration."""

import pytest

from deepcorpus.cli import build_parser, main
from pipelines.math.config import MathRunConfig, config_from_args

STEPS = ["run", "train-classifier", "score", "discover", "decontaminate"]


@pytest.mark.parametrize("step", STEPS)
def test_every_step_has_help_with_an_example(step, capsys):
    with pytest.raises(SystemExit) as e:
        main(["math", step, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert f"deepcorpus math {step}" in out


def parse(*argv):
    args, extra = build_parser().parse_known_args(["math", "run", "--input", "a.warc.gz", "--seed", "s.jsonl",
                                                   "--output", "o", *argv])
    return config_from_args(args), extra


def test_options_reach_the_config():
    cfg, extra = parse("--threshold", "auto", "--token-budget", "1000", "--auto-approve", "0.6", "--dim", "64",
                       "--languages", "en,zh", "--runner", "DataflowRunner")
    assert isinstance(cfg, MathRunConfig)
    assert cfg.threshold is None and cfg.token_budget == 1000 and cfg.discovery.auto_approve == 0.6
    assert cfg.classifier.dim == 64 and cfg.classifier.lr == 0.1 and cfg.languages == ("en", "zh")
    assert extra == ["--runner", "DataflowRunner"]  # Beam's own flags pass through


def test_defaults_are_the_papers():
    cfg, _ = parse()
    assert cfg.iterations == 4 and cfg.threshold == 0.5 and cfg.stop_overlap == 0.98
    assert cfg.discovery.domain_share == 0.10 and cfg.classifier.epoch == 3


def test_bad_threshold_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as e:  # refused while the options are parsed, before any work
        main(["math", "run", "--input", "a.warc.gz", "--seed", "s.jsonl", "--output", "o", "--threshold", "x"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--threshold" in err[0] and "'auto'" in err[0]


def test_a_crawl_directory_means_the_crawl_files_in_it(tmp_path):
    from deepcorpus.core.errors import UserError
    from pipelines.math.inputs import ExpandInputs, check, classify

    (tmp_path / "crawl").mkdir()
    for name in ("b.warc.gz", "a.wet.gz", "notes.txt"):
        (tmp_path / "crawl" / name).write_bytes(b"")
    spec = classify(str(tmp_path / "crawl"))
    expected = [str(tmp_path / "crawl" / n) for n in ("a.wet.gz", "b.warc.gz")]
    assert spec.kind == "dir" and check([spec], "") == expected
    assert sorted(ExpandInputs("").process(spec)) == expected  # what the workers read
    (tmp_path / "repos").mkdir()
    with pytest.raises(UserError, match=r"repos: a directory with no WARC/WET files"):
        check([classify(str(tmp_path / "repos"))], "")
