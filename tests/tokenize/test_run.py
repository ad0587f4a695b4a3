"""`deepcorpus tokenize run` end to end: shards decode back to the documents, packing rules, mixture."""

import collections
import json
import os

import numpy as np
import pytest

from deepcorpus.cli import main
from deepcorpus.core import datasets
from deepcorpus.core.contracts import TOKEN_SHARD
from deepcorpus.core.errors import UserError
from pipelines.tokenize import shards
from pipelines.tokenize.fim import FimConfig, fim_split, fim_text, undo_fim
from pipelines.tokenize.tokenizer import check_tokenizer_matches, load_tokenizer, save_tokenizer, train_tokenizer

from .conftest import code_rows, formal_rows, web_rows

IN_MEMORY = ["--direct_running_mode", "in_memory"]  # Beam's own option, passed through


def tokenize(inputs, tokenizer_path, out, *extra, seq_len=64):
    argv = ["tokenize", "run", *(["--input", *inputs] if inputs else []), "--tokenizer", tokenizer_path,
            "--seq-len", str(seq_len), "--output", str(out), *extra]
    assert main(argv) == 0
    return shards.open_shards(str(out))


def expected_texts(config=FimConfig()):
    """What each input document should decode to: code FIM'd where its hash says so."""
    texts = [r["text"] for r in web_rows(120)]
    for r in code_rows(60):
        split = fim_split(r["text"], r["id"], config)
        texts.append(fim_text(split, config.mode) if split else r["text"])
    texts += [r["text"] for r in formal_rows(30) if r["verified"]]
    return texts


@pytest.fixture(scope="module")
def shard_set(corpora, tokenizer_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tokens"
    return tokenize(list(corpora.values()), tokenizer_path, out, "--num-parts", "3", *IN_MEMORY)


def test_decoding_the_shards_gives_back_every_document(shard_set, tokenizer_path):
    tok = load_tokenizer(tokenizer_path)
    decoded = list(shards.decode_documents(shard_set, tok))
    assert collections.Counter(decoded) == collections.Counter(expected_texts())
    fimmed = [t for t in decoded if t.startswith("<｜fim▁begin｜>")]
    assert 10 < len(fimmed) < 50  # about half of the 60 code documents
    code = {r["text"] for r in code_rows(60)}
    # Text-level undo is exact unless the code itself contains a sentinel's text (one sample line does).
    assert all(undo_fim(t) in code for t in fimmed if t.count("<｜fim▁hole｜>") == 1)


def test_the_manifest_says_how_to_read_the_shards(shard_set, tokenizer_path):
    m = shard_set.manifest
    assert m["schema"] == TOKEN_SHARD and m["seq_len"] == 64
    tok = load_tokenizer(tokenizer_path)
    assert (m["eos_id"], m["pad_id"], m["bos_id"]) == (1, 2, 0)
    assert m["vocab_size"] == tok.get_vocab_size()
    assert (m["fim_rate"], m["fim_mode"]) == (0.5, "psm")
    assert set(m["tokens_by_source"]) == {"math", "code", "formal"}
    assert sum(m["tokens_by_source"].values()) == m["num_tokens"]
    assert m["documents_by_source"] == {"code": 60, "formal": 24, "math": 120}
    assert datasets.token_shard_info(shard_set)["tokenizer_hash"] == m["tokenizer_hash"]
    summary = json.loads(open(os.path.join(shard_set.path, "summary.json")).read())
    assert summary["counters"]["pack"]["parts"] == 3 and summary["num_tokens"] == m["num_tokens"]
    assert summary["command"][:4] == ["deepcorpus", "tokenize", "run", "--input"] == m["command"][:4]
    assert "--num-parts" in summary["command"] and "in_memory" in summary["command"]
    # 120 + 60 + 30 rows read, 6 failed proofs dropped: in = kept + removed, stage by stage.
    assert summary["conservation"] == m["conservation"] == [
        f"documents: in 210 = tokenized 204 + {' + '.join(f'{k} {v}' for k, v in _text_drops(summary))}",
        "sampling: in 204 = sampled 204", "copies: in 204 = packed 204"]


def _text_drops(summary):
    return sorted((k, v) for k, v in summary["counters"]["text"].items() if k.startswith("dropped_"))


def test_documents_lost_between_the_stages_fail_the_run():
    from deepcorpus.core.errors import ConservationError
    from pipelines.tokenize.run import conservation

    counters = {"text": {"in_a": 10, "dropped_empty": 1}, "tokenize": {"docs": 9},
                "mixture": {"placed": 9, "copies": 9}, "pack": {"docs": 8}}
    documents, sampling, copies = conservation(counters)
    assert documents.ok and sampling.ok and not copies.ok
    with pytest.raises(ConservationError, match="copies: in 9 != packed 8"):
        copies.check()
    # A mixture leaves documents out before tokenizing them: they are the documents line's drops.
    mixed = conservation({**counters, "tokenize": {"docs": 7},
                          "mixture": {"in": 9, "kept_docs": 7, "dropped_docs": 2, "placed": 7, "copies": 8},
                          "pack": {"docs": 8}})
    assert [b.ok for b in mixed] == [True] * 4
    assert mixed[0].line() == "documents: in 10 = tokenized 7 + dropped_empty 1 + not sampled 2"
    assert mixed[1].line() == "mixture: in 9 = sampled 7 + not sampled 2"
    lost = conservation({**counters, "tokenize": {"docs": 6},
                         "mixture": {"in": 9, "kept_docs": 7, "dropped_docs": 2, "placed": 6, "copies": 7}})
    assert not lost[0].ok  # a sampled document that never came out of Tokenize


def test_each_part_is_one_stream_of_whole_documents(shard_set):
    assert len(shard_set.files) == 3
    table = shard_set.read()
    tokens_type = table.schema.field("tokens").type
    assert (tokens_type.list_size, str(tokens_type.value_type)) == (65, "int32")
    for part in shard_set.files:
        tokens = shards.part_tokens(shard_set, part)
        docs = shards.unpack(tokens, 1, 2)  # raises if a part ends inside a document
        assert sum(len(d) for d in docs) == int((tokens != 2).sum())  # no token lost
        assert not (tokens[:-1] == 2).any()  # only the last row is padded
        shards.check_part(shard_set, part)  # doc_starts follow every EOS
        assert datasets.read_parquet(part).column("doc_starts")[0].as_py()[0] == 0


@pytest.mark.slow
def test_the_same_inputs_and_seed_make_the_same_shards(corpora, tokenizer_path, shard_set, tmp_path):
    again = tokenize(list(corpora.values()), tokenizer_path, tmp_path / "again", "--num-parts", "3", *IN_MEMORY)
    for a, b in zip(shard_set.files, again.files):
        assert datasets.read_parquet(a).equals(datasets.read_parquet(b))


def test_shards_refuse_another_tokenizer(shard_set, tmp_path):
    other = tmp_path / "other.json"
    save_tokenizer(train_tokenizer(["something else entirely"] * 10, 300, min_frequency=1), str(other))
    with pytest.raises(UserError, match="written with tokenizer"):
        check_tokenizer_matches(shard_set.manifest, str(other), shard_set.path)


def test_spm_bos_and_plain_files_with_a_language_marker(tokenizer_path, tmp_path):
    src = tmp_path / "mixed.jsonl"
    rows = [{"id": f"c{i}", "text": r["text"], "language": "Python"} for i, r in enumerate(code_rows(20))]
    rows += [{"id": f"p{i}", "text": r["text"], "language": "en"} for i, r in enumerate(web_rows(20))]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = tokenize([str(src)], tokenizer_path, tmp_path / "t", "--fim-mode", "spm", "--fim-rate", "1",
                  "--add-bos", *IN_MEMORY)
    decoded = list(shards.decode_documents(ds, load_tokenizer(tokenizer_path)))
    assert len(decoded) == 40 and all(t.startswith("<｜begin▁of▁sentence｜>") for t in decoded)
    fimmed = [t for t in decoded if "<｜fim▁begin｜><｜fim▁hole｜>" in t]
    assert len(fimmed) == 20  # every code row, none of the prose


def test_a_second_run_with_the_same_configuration_is_skipped(shard_set, corpora, tokenizer_path, capsys):
    argv = ["tokenize", "run", "--input", *corpora.values(), "--tokenizer", tokenizer_path, "--seq-len", "64",
            "--output", shard_set.path, "--num-parts", "3", *IN_MEMORY]
    created = shard_set.manifest["created"]
    assert main(argv) == 0
    assert "up to date" in capsys.readouterr().out
    assert datasets.read_manifest(shard_set.path)["created"] == created  # nothing was rewritten


@pytest.mark.slow
def test_a_mixture_samples_sources_by_weight(corpora, tokenizer_path, tmp_path, capsys):
    mix = tmp_path / "mix.yaml"
    mix.write_text(f"seed: 3\nsources:\n  - {{name: code, path: {corpora['code']}, weight: 0.6}}\n"
                   f"  - {{name: math, path: {corpora['math']}, weight: 0.4}}\n")
    ds = tokenize(None, tokenizer_path, tmp_path / "mixed", "--mixture", str(mix), *IN_MEMORY)
    assert "target 60.0%" in capsys.readouterr().out
    m = ds.manifest
    shares = m["mixture"]["realised_share"]
    assert shares["code"] == pytest.approx(0.6, abs=0.08)
    assert m["mixture"]["rates"]["code"] == pytest.approx(1.0)  # the scarce source is taken whole
    assert m["documents_by_source"]["code"] == 60 and m["documents_by_source"]["math"] < 120
    assert m["seed"] == 3
    # The rates came from metadata and a bounded probe, before any document was tokenized.
    # code (rate 1) is taken whole: its tokens are the estimate's to check.
    assert m["mixture"]["estimated_tokens"]["code"] == pytest.approx(m["mixture"]["sampled_tokens"]["code"], rel=0.15)
    assert "not sampled" in m["conservation"][0]  # left out before tokenizing


@pytest.mark.slow
def test_a_total_repeats_a_small_source(corpora, tokenizer_path, tmp_path):
    mix = tmp_path / "mix.yaml"
    mix.write_text(f"sources:\n  - {{name: formal, path: {corpora['formal']}, weight: 0.5}}\n"
                   f"  - {{name: code, path: {corpora['code']}, weight: 0.5}}\n")
    ds = tokenize(None, tokenizer_path, tmp_path / "up", "--mixture", str(mix), "--total-tokens", "8000", *IN_MEMORY)
    m = ds.manifest
    assert m["mixture"]["rates"]["formal"] > 3
    assert m["documents_by_source"]["formal"] > 3 * 24  # verified proofs, repeated
    assert m["num_tokens"] == pytest.approx(8000, rel=0.15)


def test_wrong_usage_is_a_one_line_user_error(corpora, tokenizer_path, tmp_path, shard_set):
    base = ["tokenize", "run", "--tokenizer", tokenizer_path, "--seq-len", "64", "--output", str(tmp_path / "x")]
    with pytest.raises(UserError, match="give --input"):
        from pipelines.tokenize.run import resolve

        resolve(type("A", (), {"mixture": None, "input": None, "total_tokens": None})())
    assert main([*base, "--input", corpora["math"], "--mixture", "m.yaml"]) == 2
    assert main([*base, "--input", shard_set.path]) == 2  # token shards are not a corpus
    assert main([*base, "--input", str(tmp_path / "missing")]) == 2
    assert main(["tokenize", "run", "--input", corpora["math"], "--tokenizer", str(tmp_path / "nope.json"),
                 "--seq-len", "64", "--output", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


def test_a_failed_run_leaves_no_dataset_behind(tokenizer_path, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"text": "fine"}\n{"text": broken\n')
    assert main(["tokenize", "run", "--input", str(src), "--tokenizer", tokenizer_path, "--seq-len", "8",
                 "--output", str(tmp_path / "out"), *IN_MEMORY]) == 2  # the bad line is found mid-pipeline
    assert sorted(os.listdir(tmp_path)) == ["bad.jsonl"]


@pytest.mark.slow
def test_the_demo_command_on_local_workers(corpora, tokenizer_path, tmp_path):
    """As the demo runs it: default runner (FnApiRunner, one worker process per core)."""
    ds = tokenize(list(corpora.values()), tokenizer_path, tmp_path / "tokens", seq_len=128)
    tokens = np.concatenate([shards.part_tokens(ds, p) for p in ds.files])
    assert tokens.shape[1] == 129 and ds.manifest["num_parts"] == 1
    assert len(list(shards.iter_documents(ds))) == 204


def test_remote_workers_need_a_tokenizer_they_can_read(corpora, tokenizer_path, tmp_path, capsys):
    import shutil

    bucket = tmp_path / "bucket"
    shutil.copytree(corpora["math"], bucket / "math")
    remote = ["--runner", "PortableRunner", "--job_endpoint", "localhost:1", "--worker_visible_path", str(bucket)]
    # The launcher's tokenizer is staged to --temp_location; without one the workers could not read it.
    assert main(["tokenize", "run", "--input", str(bucket / "math"), "--tokenizer", tokenizer_path, "--seq-len", "64",
                 "--output", str(bucket / "tokens"), *remote]) == 2
    err = capsys.readouterr().err
    assert f"--tokenizer {tokenizer_path}: a path on this machine" in err and "no --temp_location" in err
    assert not (bucket / "tokens").exists()


def test_a_rerun_rebuilds_when_an_input_or_option_changed_and_says_which(corpora, tokenizer_path, tmp_path, caplog):
    import logging
    import shutil

    src = tmp_path / "math"
    shutil.copytree(os.path.dirname(corpora["math"]), src)  # a run directory we may touch
    argv = ["tokenize", "run", "--input", str(src), "--tokenizer", tokenizer_path, "--seq-len", "32",
            "--output", str(tmp_path / "tokens"), *IN_MEMORY]
    assert main(argv) == 0
    first = datasets.read_manifest(str(tmp_path / "tokens"))
    assert str(src / "corpus") in first["inputs"] and first["inputs"][str(src / "corpus")].startswith("dataset ")
    caplog.set_level(logging.INFO, logger="pipelines.tokenize")
    assert main([*argv[:-2], "--seq-len", "48", *IN_MEMORY]) == 0
    assert "option seq_len: 32 -> 48" in caplog.text
    caplog.clear()
    # The input dataset is rewritten (a new commit): the shards are rebuilt, naming it.
    with datasets.DatasetWriter(str(src / "corpus"), "web_doc") as w:
        w.write_rows(web_rows(30))
    assert main([*argv[:-2], "--seq-len", "48", *IN_MEMORY]) == 0
    assert f"input {src / 'corpus'} changed" in caplog.text
    assert datasets.read_manifest(str(tmp_path / "tokens"))["documents_by_source"] == {"math": 30}


def test_the_mixture_samples_as_documents_stream(corpora, tokenizer_path, tmp_path):
    """No step of a mixture's pipeline waits on a side input: Sample is fused with Tokenize, so
    token arrays are never all held before sampling."""
    import apache_beam as beam

    from deepcorpus.core.contracts import token_shard_schema
    from pipelines.tokenize import run
    from pipelines.tokenize.tokenizer import tokenizer_hash

    sources = [datasets.resolve_input(corpora[n]) for n in ("code", "math")]
    inputs = run.Inputs(sources, ["code", "math"], {"code": 0.6, "math": 0.4})
    tok = load_tokenizer(tokenizer_path)
    estimates = run.estimated_tokens(inputs, tok)
    rates = run.planned_rates(inputs, estimates)
    assert rates["code"] == pytest.approx(1.0) and 0 < rates["math"] < 1
    target = datasets.Target(str(tmp_path / "out"), datasets.new_run_id(), TOKEN_SHARD, token_shard_schema(64, 600))
    p = beam.Pipeline()
    run.build(p, inputs, tokenizer_path, tokenizer_hash(tokenizer_path), target, seq_len=64, eos_id=1, pad_id=2,
              fim_config=FimConfig(), seed=0, num_parts=2, rates=rates)
    proto = p.to_runner_api()
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2

    side_inputs = []
    for t in proto.components.transforms.values():
        if t.spec.urn == common_urns.primitives.PAR_DO.urn:
            payload = beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload)
            if payload.side_inputs:
                side_inputs.append(t.unique_name)
    # Only the commit's list of part records (after every part is written) has one.
    assert [n for n in side_inputs if not n.startswith("Commit/")] == []
    assert any(name.endswith("Sample") for name in (t.unique_name for t in proto.components.transforms.values()))


def test_the_probe_counts_bytes_that_train_nothing(corpora, tokenizer_path):
    """A proof Lean rejected is in the metadata's bytes but trains no tokens: the probe's bytes per
    token is over all rows, so the estimate is of tokens that will be packed."""
    from pipelines.tokenize import run

    tok = load_tokenizer(tokenizer_path)
    formal = datasets.resolve_input(corpora["formal"])
    everything = run.bytes_per_token(tok, formal, "all")
    assert run.bytes_per_token(tok, formal, "verified") == pytest.approx(everything * 30 / 24, rel=0.1)
    # Bounded: a probe of 500 bytes reads a few rows, whatever the source's size.
    assert run.bytes_per_token(tok, formal, "all", limit=500) == pytest.approx(everything, rel=0.3)
