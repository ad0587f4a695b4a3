"""dedup_slim.py: dedup decided on slim records removes exactly the pages that UrlDedup followed by
MinHashDedup(WEB_MINHASH) on full rows removes (exact duplicates named "exact" instead)."""

import random

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from dedup.beam import WEB_MINHASH, MinHashDedup, UrlDedup
from deepcorpus.core.text import content_hash
from pipelines.math.dedup_slim import SlimDedup, SlimRecordsFn

WORDS = ("prime number integer divides square root triangle angle circle radius proof lemma theorem "
         "function limit series converges matrix vector field ring group order").split()


def docs():
    rng = random.Random(3)
    out = []
    for i in range(60):
        text = " ".join(rng.choice(WORDS) for _ in range(120))
        out.append({"id": f"d{i:03d}", "url": f"https://a.org/{i}", "crawl_date": f"2024-01-{1 + i % 20:02d}",
                    "text": text})
    for i in range(0, 10):  # exact copies under other URLs, crawled later
        out.append({**out[i], "id": f"x{i:03d}", "url": f"https://b.org/{i}", "crawl_date": "2024-03-01"})
    for i in range(10, 20):  # near copies: one word changed
        words = out[i]["text"].split()
        words[5] = "different"
        out.append({**out[i], "id": f"n{i:03d}", "url": f"https://c.org/{i}", "text": " ".join(words),
                    "crawl_date": "2024-03-02"})
    for i in range(20, 25):  # the same URL crawled again (kept: the latest), now a near copy of another page
        out.append({**out[i], "id": f"u{i:03d}", "text": out[i + 30]["text"] + " again", "crawl_date": "2024-04-01"})
    for d in out:
        d["content_hash"] = content_hash(d["text"])
    return out


class _Slim(SlimRecordsFn):
    """SlimRecordsFn on in-memory rows instead of a Parquet part."""

    def process(self, rows):
        yield from self._records("part-0", rows)


def test_slim_dedup_removes_what_full_row_dedup_removes():
    rows = docs()
    with BeamTestPipeline(runner="FnApiRunner") as p:
        full = p | "Full" >> beam.Create(rows)
        by_url = full | "Url" >> UrlDedup()
        near = by_url.kept | "Near" >> MinHashDedup(WEB_MINHASH, bucket_shards=16)
        expected = ((by_url.removed, near.removed) | "FullRemoved" >> beam.Flatten()
                    | "FullIds" >> beam.Map(lambda r: r["id"]))
        slim = p | "Rows" >> beam.Create([rows]) | "Slim" >> beam.ParDo(_Slim())
        kept, removed = slim | "SlimDedup" >> SlimDedup(16)
        got = removed | "SlimIds" >> beam.Map(lambda r: r["id"])
        joined = ({"full": expected | "K1" >> beam.Map(lambda i: (i, 1)), "slim": got | "K2" >> beam.Map(lambda i: (i, 1))}
                  | beam.CoGroupByKey() | beam.Map(lambda kv: (kv[0], bool(kv[1]["full"]), bool(kv[1]["slim"]))))
        assert_that(joined | beam.Filter(lambda t: t[1] != t[2]), equal_to([]), label="same removals")
        reasons = removed | "Reasons" >> beam.Map(lambda r: (r["id"][0], r["reason"])) | beam.Distinct()
        assert_that(reasons, equal_to([("x", "exact"), ("n", "near_duplicate"), ("d", "url"),
                                              ("u", "near_duplicate")]), label="reasons")
        assert_that(kept | "KeptCount" >> beam.combiners.Count.Globally(), equal_to([85 - 30]), label="kept")
