"""Every step of `math run` on the remote-like harness (PortableRunner, workers that see only the
bucket): the crawl through Common Crawl's own listing and --crawl-base in the bucket, the seed and the
benchmark staged from the launcher's disk, and the same corpus as a local run."""

import gzip
import json
import shutil

import pytest

from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core import datasets

CRAWL = sorted(__import__("glob").glob(samples.path("crawl", "*.warc.gz")))
BENCH = samples.path("benchmarks", "math_benchmark.jsonl")


def _args(inputs, out, *extra):
    return ["math", "run", *inputs, "--seed", samples.path("math_seed.jsonl"), "--output", str(out),
            "--benchmark", BENCH, "--auto-approve", "0.6", "--iterations", "2", "--stop-overlap", "0.9", *extra]


@pytest.mark.slow
def test_math_run_on_remote_like_workers_matches_a_local_run(remote_like, tmp_path):
    bucket = remote_like.dir("math")
    lines = []
    for i, f in enumerate(CRAWL):
        rel = f"crawl-data/CC-MAIN-2024-10/segments/{i}/warc/{i:05d}.warc.gz"
        (bucket / "cc" / rel).parent.mkdir(parents=True)
        shutil.copy(f, bucket / "cc" / rel)
        lines.append(rel)
    listing = bucket / "warc.paths.gz"
    listing.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    out = bucket / "out"
    assert main(_args(["--input", str(listing), "--crawl-base", str(bucket / "cc")], out,
                      *remote_like.beam_args)) == 0
    local = tmp_path / "local"
    assert main(_args(["--input", samples.path("crawl", "*.warc.gz")], local,
                      "--direct_running_mode", "in_memory", "--direct_num_workers", "1")) == 0
    remote_urls = sorted(datasets.open_dataset(str(out / "corpus")).read(["url"]).column("url").to_pylist())
    local_urls = sorted(datasets.open_dataset(str(local / "corpus")).read(["url"]).column("url").to_pylist())
    assert len(remote_urls) > 150 and remote_urls == local_urls
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counters"]["read"]["files_listed"] == 3 and summary["counters"]["read"]["html"] == 342
    assert all(" != " not in line for line in summary["conservation"])


@pytest.mark.slow
def test_paths_the_workers_cannot_read_are_refused_before_the_first_job(remote_like, tmp_path, capsys):
    out = remote_like.dir("refused") / "out"
    assert main(_args(["--input", samples.path("crawl", "*.warc.gz")], out, *remote_like.beam_args)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--input" in err[0] and "cannot read" in err[0]
    assert not (out / "extracted").exists()
