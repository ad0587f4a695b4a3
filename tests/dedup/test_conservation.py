"""`dedup minhash` loses nothing and decides the same way whatever the runner does (issue 24).

A corpus with a boilerplate hub (many near-copies of one page) among distinct documents runs on the
local multi-process runner with one and two workers and with small and large batches; every run must
give exactly the clusters union-find finds on the candidate pairs (documents sharing a band key),
keep the smallest-ranked document of each, and account for every input row.
"""

import json
import random

import pyarrow.parquet as pq
import pytest

from dedup.beam import WEB_MINHASH, earliest_first, node_of
from dedup.components import union_find_components
from dedup.minhash import MinHasher
from deepcorpus.cli import main


def hub_corpus(n_distinct=600, n_hub=400, seed=0) -> list[dict]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20000)]
    docs = [{"id": f"d{i:04d}", "text": " ".join(rng.choice(vocab) for _ in range(120))} for i in range(n_distinct)]
    page = [rng.choice(vocab) for _ in range(150)]
    for i in range(n_hub):
        words = list(page)
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        docs.append({"id": f"h{i:04d}", "text": " ".join(words)})
    rng.shuffle(docs)
    return docs


def expected_removals(docs: list[dict]) -> dict[str, str]:
    """{removed id: kept id} from union-find over the candidate pairs, the keeper by rank key."""
    hasher = MinHasher(WEB_MINHASH)
    buckets: dict[bytes, list] = {}
    for doc, keys in zip(docs, hasher.band_keys_batch(hasher.signatures([d["text"] for d in docs]))):
        for key in keys:
            buckets.setdefault(key, []).append(node_of(doc, earliest_first))
    edges = [(nodes[0], other) for nodes in buckets.values() for other in nodes[1:]]
    return {node[1]: keeper[1] for node, keeper in union_find_components(edges).items() if node != keeper}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    docs = hub_corpus()
    path = tmp_path_factory.mktemp("hub") / "docs.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return str(path), docs, expected_removals(docs)


@pytest.mark.slow
@pytest.mark.parametrize("workers,batch", [(1, 1024), (2, 7), (2, 1024)])
def test_every_run_finds_the_union_find_clusters_and_accounts_for_every_row(corpus, tmp_path, capsys,
                                                                             workers, batch):
    path, docs, expected = corpus
    assert len({v for v in expected.values()}) >= 1 and sum(k.startswith("h") for k in expected) >= 390
    code = main(["dedup", "minhash", "--input", path, "--output", str(tmp_path / "kept"),
                 "--removed", str(tmp_path / "removed"), "--batch-size", str(batch),
                 "--direct_num_workers", str(workers)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"dedup: in {len(docs):,} = kept {len(docs) - len(expected):,} + removed {len(expected):,}" in out
    kept = set(pq.read_table(str(tmp_path / "kept")).column("id").to_pylist())
    removed = pq.read_table(str(tmp_path / "removed")).to_pylist()
    assert {r["id"]: r["duplicate_of"] for r in removed} == expected
    assert kept == {d["id"] for d in docs} - set(expected)


def test_a_lost_row_fails_the_command_with_the_numbers(corpus, tmp_path, capsys, monkeypatch):
    import dedup.beam as dedup_beam

    split = dedup_beam._SplitFn.process

    def drop_one(self, element):  # a fault inside the transform: one row vanishes
        key, values = element
        return split(self, (key, [v for v in values if not (isinstance(v, dict) and v["id"] == "d0001")]))

    monkeypatch.setattr(dedup_beam._SplitFn, "process", drop_one)
    path, docs, _ = corpus
    code = main(["dedup", "minhash", "--input", path, "--output", str(tmp_path / "kept"),
                 "--direct_running_mode", "in_memory"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"rows do not add up, dedup: in {len(docs):,} != kept" in err and "(+1 unaccounted)" in err
    assert not (tmp_path / "kept").exists()
