"""Scale invariance of `math run` on one machine: the same run at N and 8N pages.

- The largest element handed to any shuffle: Beam's own per-PCollection `sampled_byte_size`
  distributions (the FnApiRunner samples the encoded size of elements on every PCollection), read for
  the inputs of every GroupByKey in every pipeline the run starts. The raw HTML never reaches one,
  and nothing that reaches one grows with the crawl.
- The peak memory of the whole process tree (launcher, the worker fork server and its SDK worker
  processes, 2 at a time), its anonymous PSS (heaps; `Pss_Anon` + `Pss_Shmem`) summed over /proc
  every 50 ms, for pages padded to ~64 KB of HTML as real pages are (the bundled crawl's are ~4 KB,
  too small for a held crawl to show). PSS, because workers share the fork server's pages, which an
  RSS sum would count once per worker; anonymous, because the PSS of library pages falls whenever
  other processes (a parallel test's) map the same libraries, which made N's figure depend on what
  ran beside it (501 MiB at N on a busy CI run, 889 on a quiet one).
"""

import os
import re
import sys
import uuid

import pytest

from benchmarks.common import run_measured
from benchmarks.real_pages import DATE, _warcinfo, content_type, copy_url, iter_records
from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.samples.make_crawl import http_response, warc_record

CRAWL = sorted(__import__("glob").glob(samples.path("crawl", "*.warc.gz")))
PAD = "<script>var boilerplate = '" + "abcdefghij" * 6000 + "';</script>"  # ~60 KB the extraction drops


def _shifted(body: bytes, by: int) -> bytes:
    """The page with the letters of its text shifted by `by` (tags kept): another page to dedup, so
    every stage sees all the copies, not only those before dedup."""
    if by == 0:
        return body
    table = bytes.maketrans(bytes(range(97, 123)), bytes(97 + (i + by) % 26 for i in range(26)))
    return re.sub(rb">([^<]+)<", lambda m: b">" + m.group(1).translate(table) + b"<", body)


def replicate(copies: int, out_dir, pad: bool = False) -> str:
    """`copies` x the bundled crawl (each copy its own URLs, record ids and words) as a glob."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for c in range(copies):
        for src in CRAWL:
            path = out_dir / f"c{c:04d}-{os.path.basename(src)}"
            with open(path, "wb") as f:  # a gzip member per record, as Common Crawl
                f.write(_warcinfo(path.name))
                for i, (url, body) in enumerate(iter_records(src)):
                    body = _shifted(body, c)
                    if pad:
                        body = body.replace(b"</body>", PAD.encode() + b"</body>", 1)
                    record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{c}|{src}|{i}")  # unique, as in a crawl
                    f.write(warc_record(
                        "response", copy_url(url, c), DATE, http_response(body, content_type(body)),
                        {"Content-Type": "application/http; msgtype=response", "WARC-Record-ID": f"<urn:uuid:{record_id}>"}))
    return str(out_dir / "*.warc.gz")


def args(crawl, out, *extra):
    return ["math", "run", "--input", crawl, "--seed", samples.path("math_seed.jsonl"), "--output", str(out),
            "--iterations", "1", *extra]


def shuffle_element_max(pipeline, result) -> int:
    """The largest sampled encoded element on any GroupByKey's input in one pipeline run."""
    from apache_beam.metrics import monitoring_infos

    proto = pipeline.to_runner_api()
    inputs = {pc for t in proto.components.transforms.values() if t.spec.urn == "beam:transform:group_by_key:v1"
              for pc in t.inputs.values()}
    biggest = 0
    for info in result.monitoring_infos():
        if info.urn == monitoring_infos.SAMPLED_BYTE_SIZE_URN and info.labels.get("PCOLLECTION") in inputs:
            biggest = max(biggest, monitoring_infos.extract_distribution(info)[3])
    return biggest


@pytest.mark.slow
def test_nothing_handed_to_a_shuffle_grows_with_the_crawl(tmp_path, monkeypatch):
    from pipelines import runner

    seen: list[int] = []
    real_run = runner.run

    def run(pipeline, what):
        result = real_run(pipeline, what)
        seen.append(shuffle_element_max(pipeline, result))
        return result

    monkeypatch.setattr(runner, "run", run)
    largest = {}
    for copies in (1, 8):
        seen.clear()
        crawl = replicate(copies, tmp_path / f"crawl{copies}")
        assert main(args(crawl, tmp_path / f"out{copies}", "--direct_running_mode", "in_memory")) == 0
        largest[copies] = max(seen)
    print(f"largest element handed to a shuffle: N {largest[1]:,} B, 8N {largest[8]:,} B")
    # Slim records (~500 B), ids, file and part names, histograms: small by construction. The biggest
    # are band-key packs, (key, node) pairs of at most one batch of 1,024 records x 20 bands spread over
    # at least 16 shards: ~1,300 pairs on average of up to ~200 B (a node holds the date and the
    # record's key twice). They fill up to that batch as the crawl grows (BatchElements sizes batches
    # by timing, so how far depends on the machine's load), then stop.
    bound = 1024 * 20 // 16 * 250
    assert largest[1] <= bound and largest[8] <= bound, largest


# What made 8N's peak grow, found with memray and per-process PSS timelines (2026-12-03, 8N): the
# output buffers of finished stages (14 MiB; released since, pipelines/worker.py), MinHash's powers
# cache (8 MiB; windows of 256 KiB since, dedup/shingles.py), and the fork server's heap, which every
# worker that ran a full collection copied (the dedup workers' anonymous PSS: 138-159 MiB at 8N, 83-84
# at N; frozen out of the workers' collections since, pipelines/forkserver.py). Anonymous PSS after
# all three: N 441, 8N 489-490 MiB (before: N 444, 8N 587).
# The budget for a local run's whole tree (2.5 GiB at 16x and 64x the real-page crawl).
BUDGET_MB = 2560


@pytest.mark.slow
def test_peak_memory_of_the_process_tree_is_flat_from_n_to_8n(tmp_path):
    env = {**os.environ, "DEEPCORPUS_PROGRESS_EVERY": "0"}
    peaks, pss = {}, {}
    for copies in (1, 8):
        crawl = replicate(copies, tmp_path / f"crawl{copies}", pad=True)
        # The classifier's training set is capped (DeepSeekMath: 500K + 500K) and fastText's table is
        # sized to it: capped here below N's pages, so both runs train the same size of model and what
        # is measured is the data path. (Uncapped, 8N trains on 8x the negatives: a 5x bigger table,
        # loaded by the launcher and each worker.)
        cmd = [sys.executable, "-c", "import sys; from deepcorpus.cli import main; sys.exit(main())",
               *args(crawl, tmp_path / f"out{copies}", "--direct_running_mode", "multi_processing",
                     "--direct_num_workers", "2", "--max-negatives", "120", "--max-positives", "40")]

        measured = run_measured(cmd, env)
        peaks[copies], pss[copies] = measured["peak_tree_anon_mb"], measured["peak_tree_pss_mb"]
    html_8n = 8 * 342 * (len(PAD) + 4000)
    # 8N holds ~8 x 342 pages of ~64 KB (~175 MB of HTML): held anywhere, it would show several times over.
    print(f"peak process-tree anonymous PSS: N {peaks[1]:.0f} MiB, 8N {peaks[8]:.0f} MiB; all PSS: N {pss[1]:.0f}, "
          f"8N {pss[8]:.0f} (~{html_8n / 1e6:.0f} MB of HTML at 8N)")
    assert pss[1] <= BUDGET_MB and pss[8] <= BUDGET_MB, (peaks, pss)
    # Flat: what 8N adds over N is ~bundle-sized, not ~crawl-sized (its HTML alone is ~175 MB).
    assert peaks[8] <= peaks[1] * 1.15 + 64, f"not flat from N to 8N (anonymous PSS, MiB): {peaks}"
