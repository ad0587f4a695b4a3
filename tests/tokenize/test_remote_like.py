"""`tokenize run` on the remote-like harness (tests/harness/remote_like.py): Beam's PortableRunner, a job
service and an external worker pool that sees the bucket and none of the launcher's files. The corpora
and the shards are in the bucket; the tokenizer is only on the launcher and is staged for the workers."""

import json
import shutil

import pytest

from deepcorpus.cli import main
from pipelines.tokenize import shards
from pipelines.tokenize.tokenizer import load_tokenizer

IN_MEMORY = ["--direct_running_mode", "in_memory"]


def _tokenize(inputs, tokenizer_path, out, extra):
    assert main(["tokenize", "run", *[a for i in inputs for a in ("--input", i)], "--tokenizer", tokenizer_path,
                 "--seq-len", "64", "--num-parts", "2", "--output", str(out), *extra]) == 0
    return shards.open_shards(str(out))


@pytest.mark.slow
def test_tokenize_on_remote_workers_writes_the_local_runs_shards(remote_like, corpora, tokenizer_path, tmp_path,
                                                                 capsys):
    bucket = remote_like.dir("tokenize")
    inputs = []
    for name, path in corpora.items():  # the corpora, uploaded to the bucket
        shutil.copytree(path, bucket / name / "corpus")
        inputs.append(str(bucket / name / "corpus"))
    remote = _tokenize(inputs, tokenizer_path, bucket / "tokens", remote_like.beam_args)
    printed = capsys.readouterr().out
    local = _tokenize(list(corpora.values()), tokenizer_path, tmp_path / "tokens", IN_MEMORY)
    tok = load_tokenizer(tokenizer_path)
    assert sorted(shards.decode_documents(remote, tok)) == sorted(shards.decode_documents(local, tok))
    for key in ("num_tokens", "padding_tokens", "tokens_by_source", "documents_by_source", "conservation"):
        assert remote.manifest[key] == local.manifest[key], key
    assert remote.manifest["tokenizer"] == tokenizer_path  # the user's, not the staged copy
    summary = json.loads((bucket / "tokens" / "summary.json").read_text())
    assert all(line in printed for line in summary["conservation"])


@pytest.mark.slow
def test_a_mixture_on_remote_workers_samples_as_the_local_run(remote_like, corpora, tokenizer_path, tmp_path):
    """The rates are fixed by the launcher from metadata and a probe, so remote workers sample the
    same documents as a local run, with no side input to compute."""
    bucket = remote_like.dir("tokenize-mix")

    def mixture(root, name):
        mix = tmp_path / name
        mix.write_text(f"seed: 3\nsources:\n  - {{name: code, path: {root['code']}, weight: 0.6}}\n"
                       f"  - {{name: math, path: {root['math']}, weight: 0.4}}\n")
        return str(mix)

    uploaded = {}
    for name in ("code", "math"):
        shutil.copytree(corpora[name], bucket / name / "corpus")
        uploaded[name] = str(bucket / name / "corpus")
    remote = _tokenize([], tokenizer_path, bucket / "tokens", ["--mixture", mixture(uploaded, "remote.yaml"),
                                                                *remote_like.beam_args])
    local = _tokenize([], tokenizer_path, tmp_path / "tokens", ["--mixture", mixture(corpora, "local.yaml"),
                                                                *IN_MEMORY])
    tok = load_tokenizer(tokenizer_path)
    assert sorted(shards.decode_documents(remote, tok)) == sorted(shards.decode_documents(local, tok))
    for key in ("num_tokens", "tokens_by_source", "documents_by_source", "conservation"):
        assert remote.manifest[key] == local.manifest[key], key
    assert remote.manifest["mixture"]["rates"] == local.manifest["mixture"]["rates"]
    assert local.manifest["mixture"]["rates"]["math"] < 1  # something was left out, the same on both


def test_a_local_corpus_is_refused_for_remote_workers_in_one_line(corpora, tokenizer_path, tmp_path, capsys):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    remote = ["--runner", "PortableRunner", "--job_endpoint", "localhost:1", "--worker_visible_path", str(bucket)]
    argv = ["tokenize", "run", "--input", corpora["code"], "--tokenizer", tokenizer_path, "--seq-len", "64", "--output",
            str(bucket / "tokens"), *remote]
    assert main(argv) == 2
    assert f"--input {corpora['code']}: a path on this machine" in capsys.readouterr().err
    assert not (bucket / "tokens").exists()
