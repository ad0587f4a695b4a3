"""parts.py: a dataset read part by part, and per-row decisions applied without shuffling the rows."""

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from deepcorpus.core import datasets
from deepcorpus.core.contracts import DOCUMENTS
from pipelines.parts import ApplyByPart, ReadParts, dataset_parts


@pytest.fixture
def dataset(tmp_path):
    path = str(tmp_path / "docs")
    with datasets.DatasetWriter(path, DOCUMENTS, rows_per_part=4) as w:  # 10 rows in 3 parts
        w.write_rows([{"id": f"d{i}", "text": f"text {i}"} for i in range(10)])
    return path


def pipeline():
    return BeamTestPipeline(runner="FnApiRunner")


def test_parts_come_from_the_manifest(dataset):
    parts = dataset_parts(dataset)
    assert len(parts) == 3 and all(size > 0 for _, size in parts)


def test_read_parts_with_their_part(dataset):
    with pipeline() as p:
        rows = p | ReadParts(dataset, ["id"], with_part=True)
        assert_that(rows | beam.Map(lambda pr: (pr[0].rsplit("/", 1)[0] == dataset, pr[1]["id"])),
                    equal_to([(True, f"d{i}") for i in range(10)]))


def _decisions(p, dataset, ids, payload=None):
    where = {}
    for part, _ in dataset_parts(dataset):
        for row in datasets.iter_file_rows(part, "parquet", ["id"]):
            where[row["id"]] = part
    return p | beam.Create([(where[i], (i, payload)) for i in ids])


def test_apply_by_part_drop_keep_update(dataset):
    with pipeline() as p:
        dropped = _decisions(p, dataset, ["d1", "d5", "d9"]) | "Drop" >> ApplyByPart(dataset, "drop")
        assert_that(dropped | "DropIds" >> beam.Map(lambda r: r["id"]),
                    equal_to([f"d{i}" for i in range(10) if i not in (1, 5, 9)]), label="drop")
    with pipeline() as p:
        kept = (_decisions(p, dataset, ["d2", "d3"], "x")
                | "Keep" >> ApplyByPart(dataset, "keep", merge=lambda r, v: {**r, "text": v}))
        assert_that(kept | beam.Map(lambda r: (r["id"], r["text"])), equal_to([("d2", "x"), ("d3", "x")]))
    with pipeline() as p:
        updated = (_decisions(p, dataset, ["d0"], "y")
                   | "Update" >> ApplyByPart(dataset, "update", merge=lambda r, v: {**r, "text": v}, stage="u"))
        assert_that(updated | beam.Map(lambda r: r["text"]),
                    equal_to(["y"] + [f"text {i}" for i in range(1, 10)]))
    counters = {m.key.metric.name: m.committed for m in p.result.metrics().query()["counters"]
                if m.key.metric.namespace == "u"}
    assert counters == {"rows_read": 10, "rows_out": 10}


def test_apply_by_part_refuses_an_unknown_mode(dataset):
    with pytest.raises(ValueError, match="drop, keep or update"):
        ApplyByPart(dataset, "merge")
