"""Dataset writes: the commit protocol's writer against Beam's WriteToParquet, at N and 8N documents.

Both run the same pipeline (Create -> write) on the local FnApiRunner, in one process, on the same
documents (~1 KB of text each), in the same run:

- baseline: `beam.io.WriteToParquet` into a staging directory (Beam writes each bundle to its
  temp dir and renames the files into place when the pipeline finishes) followed by the previous
  deepcorpus commit: the launcher opens every part's footer to count rows, then moves each part.
  On GCS or S3 each rename is a copy plus a delete of the whole object.
- deepcorpus: `pipelines.io.WriteDataset` (each bundle's part written once, in place, its record
  emitted; the part list written last) and `Stage.commit` (one manifest write; no part is read).

Columns: seconds for the whole write, docs/s, the launcher's commit time, how many part files
the launcher opened at the commit, and renames (file moves) per write. The protocol's numbers to
hold: 0 part reads and 0 renames at any size, commit time flat in the input.

    python -m benchmarks.commit_bench            # or: make bench
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from benchmarks.common import report

N = 5_000
TEXT = "lorem ipsum dolor sit amet consectetur adipiscing elit " * 18  # ~1 KB


def _docs(n: int):
    return [{"id": f"d{i}", "text": f"{i} {TEXT}"} for i in range(n)]


def _count_calls(module, name: str, box: dict):
    real = getattr(module, name)

    def counted(*a, **k):
        box[name] = box.get(name, 0) + 1
        return real(*a, **k)

    setattr(module, name, counted)
    return real


def baseline(n: int, root: str) -> dict:
    import apache_beam as beam
    import pyarrow.parquet as pq

    from deepcorpus.core import contracts, storage
    from pipelines import runner

    staging, final = os.path.join(root, ".out.tmp"), os.path.join(root, "baseline")
    schema = contracts.DOCUMENTS_SCHEMA
    start = time.perf_counter()
    p = runner.new_pipeline(["--direct_running_mode", "in_memory", "--direct_num_workers", "1"])
    _ = (p | beam.Create(_docs(n)) | beam.io.WriteToParquet(os.path.join(staging, "part"), schema, codec="zstd",
                                                            file_name_suffix=".parquet"))
    runner.run(p, "baseline")
    commit_start = time.perf_counter()
    files = [f for f in storage.listdir(staging) if f.endswith(".parquet")]
    rows = 0
    for f in files:  # what the old commit did: open each footer, then move each part
        with storage.open_random(f) as handle:
            rows += pq.ParquetFile(handle).metadata.num_rows
    os.makedirs(final)
    for f in files:
        storage.move(f, os.path.join(final, os.path.basename(f)))
    end = time.perf_counter()
    assert rows == n
    # Beam's finalize renamed each temp file too: two moves per part in all.
    return {"seconds": end - start, "commit_s": end - commit_start, "parts": len(files),
            "part_reads_at_commit": len(files), "renames": 2 * len(files)}


def deepcorpus(n: int, root: str) -> dict:
    import apache_beam as beam

    from deepcorpus.core import contracts, datasets, storage
    from pipelines.stage import Stage

    path = os.path.join(root, "deepcorpus")
    calls: dict = {}
    start = time.perf_counter()
    with Stage("bench", ["--direct_running_mode", "in_memory", "--direct_num_workers", "1"], command=None) as stage:
        _ = stage.pipeline | beam.Create(_docs(n)) | stage.write(path, contracts.DOCUMENTS)
        stage.run()
        commit_start = time.perf_counter()
        real_open, real_move = (_count_calls(storage, "open_random", calls), _count_calls(storage, "move", calls))
        try:
            manifest = stage.commit(path)
        finally:
            storage.open_random, storage.move = real_open, real_move
    end = time.perf_counter()
    assert manifest["row_count"] == n and datasets.open_dataset(path).row_count == n
    return {"seconds": end - start, "commit_s": end - commit_start, "parts": manifest["num_parts"],
            "part_reads_at_commit": calls.get("open_random", 0), "renames": calls.get("move", 0)}


def main(out_dir: str = "benchmarks/out") -> dict:
    rows = []
    for n in (N, 8 * N):
        for name, fn in (("baseline (WriteToParquet + old commit)", baseline), ("deepcorpus", deepcorpus)):
            root = tempfile.mkdtemp(prefix="commit-bench-")
            try:
                r = fn(n, root)
            finally:
                shutil.rmtree(root, ignore_errors=True)
            rows.append({"system": name, "docs": n, "seconds": r["seconds"], "docs_per_s": n / r["seconds"],
                         "commit_s": r["commit_s"], "parts": r["parts"],
                         "part_reads_at_commit": r["part_reads_at_commit"], "renames": r["renames"]})
    return report("commit", rows, notes={"doc_bytes": len(TEXT) + 8, "runner": "FnApiRunner in_memory, 1 worker",
                                         "storage": "local disk (on GCS/S3 a rename is a copy plus a delete)"},
                  out_dir=out_dir)


if __name__ == "__main__":
    from benchmarks.common import out_dir_from_argv

    main(out_dir_from_argv(__doc__))
