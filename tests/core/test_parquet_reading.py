"""Reading a Parquet part holds about one row group, however many the part has.

pyarrow's (25.0) reader over a whole file kept about half of every row group it had read until the
file ended: a worker reading a 77k-page part of `extracted/` grew by 272 MiB. The same read of a
part with 8x the row groups must hold no more Arrow memory than of the small one."""

import random
import string

import pyarrow as pa
import pyarrow.parquet as pq

from deepcorpus.core.datasets import iter_parquet_batches

ROWS_PER_GROUP = 256


def _part(path, groups: int) -> str:
    rng = random.Random(groups)
    writer = None
    for _ in range(groups):
        # Random text compresses poorly: each row group is ~1 MiB in memory and about as much on disk.
        texts = ["".join(rng.choices(string.ascii_letters, k=4096)) for _ in range(ROWS_PER_GROUP)]
        table = pa.table({"id": [f"d{rng.random()}" for _ in texts], "text": texts})
        writer = writer or pq.ParquetWriter(str(path), table.schema)
        writer.write_table(table, row_group_size=ROWS_PER_GROUP)
    writer.close()
    return str(path)


def _peak_allocated(path: str) -> tuple[int, int]:
    rows, peak = 0, 0
    for batch in iter_parquet_batches(path, ["id", "text"], batch_size=128):
        rows += len(batch.to_pylist())
        peak = max(peak, pa.total_allocated_bytes())
    return rows, peak


def test_reading_a_part_holds_about_one_row_group(tmp_path):
    small, large = _part(tmp_path / "n.parquet", 4), _part(tmp_path / "8n.parquet", 32)
    assert pq.ParquetFile(large).metadata.num_row_groups == 32
    rows_n, peak_n = _peak_allocated(small)
    rows_8n, peak_8n = _peak_allocated(large)
    assert (rows_n, rows_8n) == (4 * ROWS_PER_GROUP, 32 * ROWS_PER_GROUP)
    group = 4096 * ROWS_PER_GROUP
    # A row group at a time: 3.7 MB for both. The whole-file reader held 6.9 MB and 36.7 MB.
    assert peak_8n <= peak_n + group, (peak_n, peak_8n)
    assert peak_8n < 4 * group, peak_8n
