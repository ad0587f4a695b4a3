"""Each step of the tokenize pipeline on its own, in a TestPipeline."""

import os

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from deepcorpus.core import contracts, datasets
from pipelines import runner
from pipelines.tokenize import transforms
from pipelines.tokenize.fim import FimConfig, fim_split, fim_text
from pipelines.tokenize.tokenizer import load_tokenizer, tokenizer_hash

from .conftest import code_rows, formal_rows


def local_pipeline():
    """A TestPipeline on the in-process FnApiRunner (no worker start-up)."""
    options = runner.pipeline_options(["--direct_running_mode", "in_memory"])
    return BeamTestPipeline(runner=runner.make_runner(options), options=options)


def test_text_keeps_documents_and_drops_empty_rows_and_failed_proofs():
    rows = formal_rows(5)  # the fifth failed in Lean
    with local_pipeline() as p:
        docs = p | beam.Create(rows + [{"id": "e", "text": ""}]) | beam.ParDo(
            transforms.TextFn("formal", contracts.FORMAL_PROOF))
        assert_that(docs | beam.Map(lambda d: (d.source, d.id, d.code)),
                    equal_to([("formal", f"thm-{i}", False) for i in range(4)]))


def test_tokenize_applies_fim_to_code_only_and_decodes_back(tokenizer_path):
    tok = load_tokenizer(tokenizer_path)
    config = FimConfig(rate=0.5, seed=1)
    code = [transforms.Document("code", r["id"], r["text"], True) for r in code_rows(20)]
    prose = [transforms.Document("math", "m1", "1 + 1 = 2 in 数学", False)]
    expected = []
    for d in code + prose:
        split = fim_split(d.text, d.id, config) if d.code else None
        expected.append((d.id, fim_text(split, config.mode) if split else d.text, split is not None))
    assert any(e[2] for e in expected) and not all(e[2] for e in expected)

    def decode(t):
        return t.id, tok.decode(t.ids.tolist(), skip_special_tokens=False), t.fim

    with local_pipeline() as p:
        out = (p | beam.Create([code[:7], code[7:] + prose])
               | beam.ParDo(transforms.TokenizeFn(tokenizer_path, tokenizer_hash(tokenizer_path), config)))
        assert_that(out | beam.Map(decode), equal_to(expected))


def test_tokenize_can_begin_documents_with_bos(tokenizer_path):
    with local_pipeline() as p:
        out = (p | beam.Create([[transforms.Document("w", "a", "hello", False)]])
               | beam.ParDo(transforms.TokenizeFn(tokenizer_path, tokenizer_hash(tokenizer_path), FimConfig(rate=0.0),
                                                     add_bos=True)))
        assert_that(out | beam.Map(lambda t: int(t.ids[0])), equal_to([0]))


def test_sample_keys_documents_by_part_and_repeats_by_rate():
    docs = [transforms.TokenizedDoc("a" if i % 2 else "b", str(i), np.arange(3, dtype=np.int32), False)
            for i in range(200)]
    with local_pipeline() as p:
        keyed = p | beam.Create(docs) | beam.ParDo(transforms.SampleFn(4, seed=0, rates={"a": 2.0, "b": 0.0}))
        assert_that(keyed | beam.Map(lambda kv: (kv[1][1], kv[0] in range(4))) | beam.combiners.Count.PerElement(),
                    equal_to([(("a", True), 200)]))


def test_select_leaves_out_documents_before_tokenizing_and_sample_repeats_the_kept():
    docs = [transforms.Document("a" if i % 2 else "b", str(i), "x", False) for i in range(400)]
    rates = {"a": 1.5, "b": 0.25}
    with local_pipeline() as p:
        kept = p | beam.Create(docs) | beam.ParDo(transforms.SelectFn(7, rates))
        assert_that(kept | beam.Map(lambda d: d.source) | beam.combiners.Count.PerElement()
                    | beam.Filter(lambda kv: kv[0] == "a"), equal_to([("a", 200)]), label="a whole")
        b = kept | beam.Filter(lambda d: d.source == "b") | beam.combiners.Count.Globally()
        assert_that(b, _about(50, 0.3), label="b at its rate")
        tokenized = kept | beam.Map(lambda d: transforms.TokenizedDoc(d.source, d.id, np.arange(2, dtype=np.int32),
                                                                      False))
        copies = (tokenized | beam.ParDo(transforms.SampleFn(2, 7, rates))
                  | beam.Filter(lambda kv: kv[1][1] == "a") | "Count a" >> beam.combiners.Count.Globally())
        assert_that(copies, _about(300, 0.2), label="a repeated")


def _about(expected: int, rel: float):
    def check(got):
        assert len(got) == 1 and abs(got[0] - expected) <= rel * expected, f"{got} for about {expected}"
    return check


def test_sample_takes_a_fractional_rate_by_a_hash_of_the_document():
    """The same documents in any order and any bundling give the same sample, at about the rate."""
    docs = [transforms.TokenizedDoc("web", str(i), np.arange(2, dtype=np.int32), False) for i in range(2000)]
    with local_pipeline() as p:
        keyed = p | beam.Create(docs) | beam.ParDo(transforms.SampleFn(3, 5, {"web": 0.25}))
        ids = keyed | beam.Map(lambda kv: kv[1][0])  # the order hash, one per (document, copy)
        count = ids | beam.combiners.Count.Globally()
        assert_that(count, _about(500, 0.2), label="rate")
        again = (p | "Again" >> beam.Create(list(reversed(docs)))
                 | "Sample again" >> beam.ParDo(transforms.SampleFn(3, 5, {"web": 0.25}))
                 | "Orders again" >> beam.Map(lambda kv: kv[1][0]))
        assert_that(((ids | "Tag" >> beam.Map(lambda o: (o, 1))), (again | "Tag again" >> beam.Map(lambda o: (o, 2))))
                    | beam.Flatten() | beam.GroupByKey() | beam.MapTuple(lambda o, tags: tuple(sorted(tags)))
                    | beam.Distinct(), equal_to([(1, 2)]), label="same sample")


def test_write_part_writes_one_stream_per_part_and_its_record(tmp_path):
    schema = contracts.token_shard_schema(7, 1000)
    target = datasets.Target(str(tmp_path), datasets.new_run_id(), contracts.TOKEN_SHARD, schema)
    docs = [(0.3, "a", np.array([10, 11, 12], dtype=np.int32)), (0.1, "b", np.arange(20, 30, dtype=np.int32))]
    with local_pipeline() as p:
        records = (p | beam.Create([(3, docs)])
                   | beam.ParDo(transforms.WritePartFn(target, 7, eos_id=1, pad_id=2)))
        assert_that(records | beam.Map(lambda r: (r["index"], r["rows"], r["stats"]["tokens_by_source"],
                                                  r["stats"]["padding"], r["name"].startswith(f"part-{target.run_id}-00003-"))),
                    equal_to([(3, 2, {"a": 4, "b": 11}, 1, True)]))
    import pyarrow.parquet as pq

    (name,) = os.listdir(tmp_path)  # the part, straight in the dataset directory, and nothing else
    rows = pq.read_table(tmp_path / name).column("tokens").to_pylist()
    # Packed in hash order: b (0.1) before a (0.3).
    assert rows == [[20, 21, 22, 23, 24, 25, 26, 27], [28, 29, 1, 10, 11, 12, 1, 2]]


def test_workers_refuse_a_tokenizer_that_changed_after_the_driver_read_it(tokenizer_path):
    fn = transforms.TokenizeFn(tokenizer_path, "0" * 64, FimConfig())
    with pytest.raises(RuntimeError, match="changed while the pipeline ran"):
        fn.setup()
