"""Repository near-dedup on signatures: no repository's text goes through a shuffle for it.

A repository's MinHash signature is the elementwise minimum of its files' signatures (the MinHash
of the union of their shingle sets), computed where each file is read and combined per
repository (`RepoFactsFn`: 256 numbers and the ranking fields, ~2 KB per repository, whatever its
size). Near-duplicate repositories are then found from (node, signature) pairs, node = (rank
tuple, repository): the smallest node of a cluster is kept, as everywhere in dedup/.

`NearDuplicates` runs dedup/beam.py's near-dedup over precomputed signatures on them.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from dedup import beam as dedup_beam
from dedup.beam import CODE_MINHASH
from dedup.minhash import MinHashConfig, MinHasher

CONFIG = CODE_MINHASH


def file_signature(hasher: MinHasher, text: str) -> np.ndarray | None:
    """One file's signature, or None when it has no shingles (too short to count)."""
    signature = hasher.signature(text)
    return None if (signature == np.iinfo(np.uint64).max).all() else signature


class RepoFactsFn(beam.CombineFn):
    """Per repository: the elementwise-min signature of its files and the fields that rank it
    (licence of the first file by path that has one, most stars, latest revision)."""

    def create_accumulator(self):
        return {"signature": None, "license": None, "stars": None, "revision_date": None, "files": 0}

    def add_input(self, acc, facts):
        return self.merge_accumulators([acc, facts])

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for a in accs:
            out["files"] += a["files"]
            sig = a["signature"]
            if sig is not None:
                out["signature"] = sig.copy() if out["signature"] is None else np.minimum(out["signature"], sig)
            if a["license"] is not None and (out["license"] is None or a["license"][0] < out["license"][0]):
                out["license"] = a["license"]  # (path, licence): the first file by path decides
            if a["stars"] is not None:
                out["stars"] = a["stars"] if out["stars"] is None else max(out["stars"], a["stars"])
            if a["revision_date"]:
                out["revision_date"] = max(out["revision_date"] or "", a["revision_date"])
        return out

    def extract_output(self, acc):
        return acc


def file_facts(record: dict, signature: np.ndarray | None) -> dict:
    """What one file adds to its repository's facts."""
    return {"signature": signature, "license": (record["path"], record["license"]) if record.get("license") else None,
            "stars": record.get("stars"), "revision_date": record.get("revision_date"), "files": 1}


def repo_row(repo: str, facts: dict) -> dict:
    """The fields keep_rank reads, for one repository."""
    return {"id": repo, "license": facts["license"][1] if facts["license"] else None, "stars": facts["stars"],
            "revision_date": facts["revision_date"]}


def NearDuplicates(config: MinHashConfig = CONFIG, stage: str = "repo_dedup") -> beam.PTransform:
    """(node, signature) -> (removed id, keeper id): every repository but the smallest node of its
    cluster, by dedup/beam.py's near-dedup over precomputed signatures (LSH band hashes, chunk-local
    union-find and hub-safe connected components; only nodes and band hashes cross a shuffle)."""
    return dedup_beam.NearDuplicates(config, stage=stage)


class CountRepos(beam.DoFn):
    """Counts the repositories that have code files: the `in` of repo_dedup."""

    def __init__(self, stage: str = "repo_dedup"):
        self.seen = Metrics.counter(stage, "in")

    def process(self, element):
        self.seen.inc()
        yield element
