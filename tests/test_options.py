"""Options are checked while they are parsed, before any work starts: every number has a range, every
output must be writable and of the right kind, and an option nobody knows is named with the closest
one that exists. Each refusal is one line on stderr and exit status 2, and nothing is written."""

import argparse
import hashlib
import os

import pytest

from deepcorpus.cli import build_parser, main
from deepcorpus.core import command
from deepcorpus.core.command import Bounded, integer, number, number_or

# --- every numeric option of every command has a range --------------------------------------------


def _options(parser, prefix=()):
    """(command words, action) for every option of every (sub-)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, (*prefix, name))
        elif action.option_strings:
            yield prefix, action


def _is_range(kind) -> bool:
    return isinstance(kind, Bounded) or isinstance(getattr(kind, "bounded", None), Bounded)


def test_every_numeric_option_of_every_command_has_a_range():
    numeric = bare = 0
    for words, action in _options(build_parser()):
        takes_value = action.nargs != 0 and not isinstance(action, argparse._HelpAction)
        looks_numeric = isinstance(action.default, (int, float)) and not isinstance(action.default, bool)
        if action.type in (int, float) or takes_value and looks_numeric and not _is_range(action.type):
            bare += 1
            print("no range:", " ".join(words), action.option_strings[-1])
        numeric += _is_range(action.type)
    assert bare == 0
    assert numeric > 80  # the walk saw the commands' options (math, dedup, tokenize, formal, train, ...)


def test_every_numeric_train_config_field_has_its_range_in_the_field():
    from train.config import FIELDS

    for name, f in FIELDS.items():
        if f.type.split("|")[0].strip() in ("int", "float"):
            assert isinstance(f.metadata.get("range"), Bounded), name


def _refused(argv, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


BAD_VALUES = [
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--threshold"], "2"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--threshold"], "nan"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--dim"], "0"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--token-budget"], "-5"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--lr"], "-1"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--lr"], "nan"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--iterations"], "0"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--stop-overlap"], "1.5"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}", "--min-chars"], "-1"),
    (["math", "train-classifier", "--positives", "p", "--negatives", "n", "--output", "{}.out", "--epoch"], "0"),
    (["math", "score", "--input", "d", "--model", "m", "--output", "{}", "--threshold"], "inf"),
    (["math", "discover", "--input", "d", "--output", "{}.out", "--domain-share"], "2"),
    (["math", "decontaminate", "--input", "d", "--benchmark", "b", "--output", "{}", "--max-items"], "0"),
    (["dedup", "decontaminate", "--input", "d", "--benchmark", "b", "--output", "{}", "--max-items"], "0"),
    (["dedup", "decontaminate", "--input", "d", "--benchmark", "b", "--output", "{}", "--ngram"], "2"),
    (["dedup", "minhash", "--input", "d", "--output", "{}", "--bands"], "0"),
    (["dedup", "minhash", "--input", "d", "--output", "{}", "--threshold"], "0"),
    (["dedup", "minhash", "--input", "d", "--output", "{}", "--cc-rounds"], "0"),
    (["code", "run", "--input", "r", "--output", "{}", "--max-file-bytes"], "0"),
    (["code", "run", "--input", "r", "--output", "{}", "--seed"], "-1"),
    (["formal", "run", "--output", "{}", "--count"], "0"),
    (["formal", "run", "--output", "{}", "--timeout"], "0"),
    (["formal", "run", "--output", "{}", "--temperature"], "-1"),
    (["formal", "run", "--output", "{}", "--min-quality"], "1.5"),
    (["tokenize", "train-tokenizer", "--input", "d", "--output", "{}.out", "--vocab-size"], "1e10"),
    (["tokenize", "train-tokenizer", "--input", "d", "--output", "{}.out", "--vocab-size"], "100"),
    (["tokenize", "train-tokenizer", "--input", "d", "--vocab-size", "300", "--output", "{}.out", "--sample-bytes"], "0"),
    (["tokenize", "run", "--input", "d", "--tokenizer", "t.json", "--output", "{}", "--seq-len"], "0"),
    (["tokenize", "run", "--input", "d", "--tokenizer", "t.json", "--seq-len", "8", "--output", "{}", "--fim-rate"], "1.5"),
    (["tokenize", "run", "--input", "d", "--tokenizer", "t.json", "--seq-len", "8", "--output", "{}", "--num-parts"], "0"),
    (["train", "--data", "d", "--output", "{}", "--warmup-steps"], "-1"),
    (["train", "--data", "d", "--output", "{}", "--lr"], "-1"),
    (["train", "--data", "d", "--output", "{}", "--lr"], "nan"),
    (["train", "--data", "d", "--output", "{}", "--steps"], "0"),
    (["train", "--data", "d", "--output", "{}", "--beta2"], "1"),
    (["train", "--data", "d", "--output", "{}", "--batch-size"], "1.5"),
    (["inspect", "d", "--sample"], "0"),
    (["demo", "--steps"], "0"),
    (["dedup", "minhash", "--input", "d", "--output", "{}", "--batch-size"], "0"),
    (["export", "r", "--output", "{}", "--step"], "-1"),
    (["eval", "r", "--benchmark", "b", "--output", "{}", "--top-p"], "0"),
    (["eval", "r", "--benchmark", "b", "--output", "{}", "--temperature"], "-0.5"),
    (["eval", "r", "--benchmark", "b", "--output", "{}", "--samples"], "0"),
]


@pytest.mark.parametrize("argv, value", BAD_VALUES, ids=lambda v: " ".join(v[:2] + v[-1:]) if isinstance(v, list) else v)
def test_an_out_of_range_value_is_refused_before_any_work(argv, value, tmp_path, capsys):
    out = tmp_path / "out"
    line = _refused([a.replace("{}", str(out)) for a in argv] + [value], capsys)
    assert argv[-1] in line and value in line  # names the option and the value
    assert not os.listdir(tmp_path)  # nothing written


def test_integers_may_be_written_in_scientific_notation():
    assert integer(1)("1e9") == 10**9 and integer(1)("1_000") == 1000
    with pytest.raises(argparse.ArgumentTypeError, match="whole number"):
        integer(1)("1.5")
    with pytest.raises(argparse.ArgumentTypeError, match="got nan"):
        number()("nan")
    with pytest.raises(argparse.ArgumentTypeError, match=r"in \(0, 1\]"):
        number(0, 1, lo_open=True)("0")
    assert number_or("auto", lo=0, hi=1)("auto") == "auto"
    assert number_or("auto", lo=0, hi=1)("0.25") == 0.25
    args = build_parser().parse_args(["tokenize", "train-tokenizer", "--input", "d", "--vocab-size", "32e3",
                                      "--output", "t.json", "--sample-bytes", "4e9"])
    assert (args.vocab_size, args.sample_bytes) == (32000, 4 * 10**9)


def test_a_config_file_value_gets_the_same_range_check(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text("[train]\nlr = -1.0\n")
    assert main(["train", "--config", str(config), "--data", "d", "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{config}: lr: expected a number > 0, got -1" in err[0]  # names the file
    # A value the command line overrides is not the file's error.
    config.write_text("[train]\nlr = -1.0\nwarmup_steps = 'x'\n")
    assert main(["train", "--config", str(config), "--lr", "0.1", "--data", "d", "--output", str(tmp_path / "run")]) == 2
    assert f"{config}: warmup_steps" in capsys.readouterr().err
    config.write_text("[train]\nsteps = 10\n[model]\nn_layers = 'abc'\n")
    assert main(["train", "--config", str(config), "--data", "d", "--output", str(tmp_path / "run")]) == 2
    assert "n_layers must be a whole number" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("override, message", [
    ("n_layers=abc", "n_layers must be a whole number (got 'abc')"),
    ("n_layer=3", "unknown model field 'n_layer' (did you mean n_layers?)"),
    ("mtp_lambda=x", "mtp_lambda must be a number"),
])
def test_model_overrides_are_checked_against_model_args(override, message, tmp_path, capsys):
    assert main(["train", "--data", "d", "--output", str(tmp_path / "run"), "--model", override]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "run").exists()


def test_model_overrides_of_the_right_type_pass():
    from train.config import parse_model_overrides

    assert parse_model_overrides(["n_layers=4", "mtp_lambda=1", "score_func=softmax"]) == {
        "n_layers": 4, "mtp_lambda": 1.0, "score_func": "softmax"}


@pytest.mark.parametrize("argv, name", [
    (["code", "run", "--input", "", "--output", "o"], "--input"),
    (["math", "run", "--input", "c.warc.gz", "--seed", "", "--output", "o"], "--seed"),
    (["dedup", "minhash", "--input", "   ", "--output", "o"], "--input"),
    (["inspect", ""], "DATA"),
    (["tokenize", "run", "--input", "d", "--tokenizer", "", "--seq-len", "8", "--output", "o"], "--tokenizer"),
    (["train", "--data", "d", "--output", ""], "--output"),
])
def test_an_empty_value_is_refused_not_taken_for_the_current_directory(argv, name, tmp_path, capsys, monkeypatch):
    # An unset shell variable in quotes ("$CRAWL") is an empty path: the current directory to the file
    # system, which `code run` would read as a repository and `math run` as a folder of crawl files.
    monkeypatch.chdir(tmp_path)
    line = _refused(argv, capsys)
    assert f"argument {name}: " in line and ("an empty value" in line or "an empty path" in line)
    assert os.listdir(tmp_path) == []


def test_an_empty_value_is_allowed_where_it_means_something():
    args = build_parser().parse_args(["math", "run", "--input", "c.warc.gz", "--seed", "s", "--output", "o",
                                      "--languages", ""])
    assert command.empty_value(command.leaf_parser(build_parser(), args), args) is None
    args.input = [""]
    assert command.empty_value(command.leaf_parser(build_parser(), args), args) == "argument --input"


# --- unknown options ------------------------------------------------------------------------------


def test_a_typo_of_our_option_is_refused_not_handed_to_beam(tmp_path, capsys):
    line = _refused(["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", str(tmp_path / "m"),
                     "--iteratons", "1"], capsys)
    assert "--iteratons" in line and "did you mean --iterations?" in line


def test_a_typo_of_a_beam_option_names_the_beam_option(tmp_path, capsys):
    line = _refused(["dedup", "exact", "--input", "d.jsonl", "--output", str(tmp_path / "o"),
                     "--temp_locaton", "gs://b/tmp"], capsys)
    assert "did you mean --temp_location?" in line


def test_beam_options_still_pass_through(tmp_path, capsys):
    # Known to Beam, so parsing goes on; the run then stops at the missing input (a UserError: returned).
    assert main(["dedup", "exact", "--input", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o"),
                 "--direct_num_workers=1", "--direct_running_mode", "in_memory"]) == 2
    assert "missing.jsonl: no such file" in capsys.readouterr().err


def test_a_bad_value_of_a_beam_option_is_one_line(tmp_path, capsys):
    assert main(["dedup", "minhash", "--input", "d.jsonl", "--output", str(tmp_path / "o"),
                 "--direct_num_workers", "abc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--direct_num_workers: invalid int value: 'abc'" in err[0]
    assert not (tmp_path / "o").exists()


def test_an_unknown_runner_names_the_closest_beam_runner(tmp_path, capsys):
    assert main(["dedup", "minhash", "--input", "d.jsonl", "--output", str(tmp_path / "o"),
                 "--runner", "Dirctrunner"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--runner Dirctrunner: not a Beam runner (did you mean DirectRunner?" in err[0]


def test_a_runner_named_as_beam_allows_is_the_runner_our_checks_see():
    from pipelines.runner import check_beam_args

    # Beam resolves names case-insensitively and with "Runner" optional: Dataflow's required options
    # and the local defaults must apply to what Beam runs, not only to the exact class name.
    dataflow = ["--project", "p", "--region", "r", "--temp_location", "gs://b/tmp"]
    assert check_beam_args(["--runner", "dataflow", *dataflow]) == ["--runner", "DataflowRunner", *dataflow]
    assert check_beam_args(["--runner=direct"]) == ["--runner=DirectRunner"]
    assert check_beam_args(["--runner", "my.module.MyRunner"]) == ["--runner", "my.module.MyRunner"]


def test_dataflow_without_its_options_is_refused_before_any_work(tmp_path, capsys):
    assert main(["dedup", "minhash", "--input", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o"),
                 "--runner", "Dataflowrunner"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "DataflowRunner needs --project, --region, --temp_location" in err[0]


def test_beams_own_validation_errors_are_one_line():
    from deepcorpus.core.errors import UserError
    from pipelines.runner import new_pipeline

    with pytest.raises(UserError, match=r"^Beam options: Invalid GCS path \(/tmp/x\), given for the option: temp_location;"):
        new_pipeline(["--runner", "DataflowRunner", "--project", "p", "--region", "r", "--temp_location", "/tmp/x"])


def test_an_unknown_option_of_a_command_without_beam_names_the_closest(tmp_path, capsys):
    line = _refused(["report", str(tmp_path), "--output", str(tmp_path / "r.html"), "--outptu", "x"], capsys)
    assert "unrecognized option --outptu" in line


# --- outputs --------------------------------------------------------------------------------------

# Each command that writes, with `{}` where its output goes and whether that output is a directory.
WRITERS = [
    (["math", "run", "--input", "c.warc.gz", "--seed", "s.jsonl", "--output", "{}"], "dir"),
    (["math", "train-classifier", "--positives", "p", "--negatives", "n", "--output", "{}"], "file"),
    (["math", "score", "--input", "d", "--model", "m", "--output", "{}"], "dir"),
    (["math", "discover", "--input", "d", "--output", "{}"], "file"),
    (["math", "decontaminate", "--input", "d", "--benchmark", "b", "--output", "{}"], "dir"),
    (["math", "decontaminate", "--input", "d", "--benchmark", "b", "--output", "o", "--removed", "{}"], "dir"),
    (["code", "run", "--input", "r", "--output", "{}"], "dir"),
    (["formal", "run", "--output", "{}"], "dir"),
    (["formal", "run", "--output", "o", "--cache", "{}"], "file"),
    (["dedup", "exact", "--input", "d", "--output", "{}"], "dir"),
    (["dedup", "url", "--input", "d", "--output", "o", "--removed", "{}"], "dir"),
    (["dedup", "minhash", "--input", "d", "--output", "{}"], "dir"),
    (["dedup", "decontaminate", "--input", "d", "--benchmark", "b", "--output", "{}"], "dir"),
    (["tokenize", "train-tokenizer", "--input", "d", "--vocab-size", "300", "--output", "{}"], "file"),
    (["tokenize", "run", "--input", "d", "--tokenizer", "t", "--seq-len", "8", "--output", "{}"], "dir"),
    (["train", "--data", "d", "--output", "{}"], "dir"),
    (["inspect", "d", "SELECT 1", "--output", "{}"], "file"),
    (["report", "r", "--output", "{}"], "file"),
    (["demo", "--output", "{}"], "dir"),
    (["export", "r", "--output", "{}"], "dir"),
    (["eval", "r", "--benchmark", "b", "--output", "{}"], "dir"),
    (["ablate", "--config", "a.yaml", "--output", "{}"], "dir"),
]


def _fill(argv, path):
    return [str(path) if a == "{}" else a for a in argv]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("argv, kind", WRITERS, ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else v)
def test_an_output_of_the_wrong_kind_is_refused_and_left_alone(argv, kind, tmp_path, capsys):
    if kind == "dir":
        target = tmp_path / "a-file"
        target.write_text("not a dataset\n")
        before = _digest(target)
        assert f"{target}: is a file, not a directory" in _refused(_fill(argv, target), capsys)
        assert _digest(target) == before
    else:
        target = tmp_path / "a-dir"
        (target / "inside").mkdir(parents=True)
        (target / "inside" / "x").write_text("keep\n")
        assert f"{target}: is a directory, not a file" in _refused(_fill(argv, target), capsys)
        assert (target / "inside" / "x").read_text() == "keep\n"


@pytest.mark.parametrize("argv, kind", WRITERS, ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else v)
def test_an_output_under_a_file_is_refused(argv, kind, tmp_path, capsys):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("x\n")
    line = _refused(_fill(argv, blocker / "sub" / "out"), capsys)
    assert f"{blocker}/sub/out: {blocker} is a file, not a directory" in line
    assert blocker.read_text() == "x\n"


@pytest.fixture
def unwritable_dir(tmp_path):
    """A directory no file can be created in: mode 0555 for a normal user; root writes anywhere there,
    so root gets /sys (a read-only file system), when it is one."""
    if os.geteuid() != 0:
        d = tmp_path / "locked"
        d.mkdir()
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    if command.writable_problem("/sys/deepcorpus-probe", "dir") is None:
        pytest.skip("running as root without a read-only /sys: no directory here is unwritable")
    yield type(tmp_path)("/sys")


@pytest.mark.parametrize("argv, kind", WRITERS, ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else v)
def test_an_unwritable_output_is_refused_before_any_work(argv, kind, unwritable_dir, capsys):
    target = unwritable_dir / "deepcorpus-test-out"
    line = _refused(_fill(argv, target), capsys)
    assert f"{target}: cannot write in {unwritable_dir}" in line
    assert not target.exists()


def test_writable_outputs_pass_and_leave_no_probe_behind(tmp_path):
    assert command.writable_problem(str(tmp_path / "new" / "dataset"), "dir") is None
    assert command.writable_problem(str(tmp_path / "report.html"), "file") is None
    assert command.writable_problem("gs://bucket/out", "dir") is None  # checked by its first write
    assert "http(s)" in command.writable_problem("https://example.org/out", "dir")
    assert os.listdir(tmp_path) == []


def test_help_shows_each_range(capsys):
    with pytest.raises(SystemExit):
        main(["math", "run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--dim DIM vector dimension (default 256) (a whole number >= 1)" in out
    assert "(a number in [0, 1])" in out  # --threshold, besides 'auto'


def test_a_stray_word_among_beam_options_is_refused_not_dropped(tmp_path, capsys):
    # `--input a.jsonl b.jsonl`: Beam would drop b.jsonl with a warning and the run would go on without it.
    line = _refused(["dedup", "minhash", "--input", "a.jsonl", "b.jsonl", "--output", str(tmp_path / "o")], capsys)
    assert "unrecognized argument b.jsonl (to give an option several values, repeat it" in line
    line = _refused(["dedup", "minhash", "--input", "a.jsonl", "--output", str(tmp_path / "o"), "--num_workers", "2", "3"],
                    capsys)
    assert "unrecognized argument 3 " in line


def test_beam_option_values_are_not_stray_words():
    from pipelines.runner import unknown_beam_args

    assert unknown_beam_args(["--runner", "DataflowRunner", "--num_workers=4", "--save_main_session",
                              "--temp_location", "gs://b/t"]) == []
    assert unknown_beam_args(["--save_main_session", "x", "-n"]) == ["x", "-n"]


def test_no_option_defaults_to_an_empty_value_that_would_be_refused():
    # `empty_value` looks at parsed values, defaults included: an empty default must be allowed.
    for words, action in _options(build_parser()):
        if isinstance(action.default, str) and not action.default.strip():
            assert action.dest in command.EMPTY_ALLOWED, (words, action.option_strings)


def test_train_help_shows_train_configs_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    from train.config import TrainConfig

    defaults = TrainConfig()
    assert f"(default {defaults.batch_size})" in out and f"(default {defaults.schedule})" in out
    assert out.count("(default") >= 15  # the options default to None (so only what is given overrides --config)
