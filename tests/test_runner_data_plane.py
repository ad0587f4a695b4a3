"""The local runner's data plane loses nothing (issue 24).

Beam's FnApiRunner sends each bundle's input to its workers through a stream that a second thread
flushes on a timer; `flush` takes a lock and `write` does not, so chunks written while a timed flush
is blocked are cleared unsent. `pipelines.runner` turns timed flushing off. The first test pins the
Beam behaviour the workaround exists for (if it starts failing, Beam fixed it and the workaround can
go); the second runs a real two-worker pipeline on a slow data plane and checks every row arrives.
"""

import json
import threading
import time

import apache_beam as beam
import pytest
from apache_beam.metrics import Metrics
from apache_beam.runners.portability.fn_api_runner import execution
from apache_beam.runners.worker import data_plane

from pipelines import runner, summary


def test_beams_timed_flush_drops_what_is_written_while_it_is_blocked():
    sent = []
    in_flush, written = threading.Event(), threading.Event()

    def slow_send(data):  # the send queue is full: the timed flush waits here
        if not data:  # the timer fired before the first write (a loaded machine): nothing taken yet
            return
        sent.append(data)
        in_flush.set()
        written.wait(5)

    stream = data_plane.TimeBasedBufferingClosableOutputStream(
        close_callback=sent.append, flush_callback=slow_send, time_flush_threshold_ms=1)
    stream.write(b"a" * 1000)
    assert in_flush.wait(5)  # the timer fired and took the first chunk
    stream.write(b"b" * 1000)  # written while that flush is blocked ...
    written.set()
    time.sleep(0.2)  # ... and cleared when it returns
    stream.close()
    received = b"".join(sent)
    assert received.count(b"a") == 1000
    assert received.count(b"b") < 1000, "Beam no longer drops data here: pipelines.runner.no_timed_flush can go"


@pytest.mark.slow
def test_two_local_workers_get_every_row_of_a_large_input_on_a_slow_data_plane(tmp_path, monkeypatch):
    # A slow machine, made reproducible: the runner hands a stage's input over in slow chunks, and
    # sending a large message to a worker blocks for a while (a full send queue).
    path = tmp_path / "rows.jsonl"
    n = 24_000
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"r{i}", "text": "x" * 1000}) + "\n")

    partition = execution.ListBuffer.partition

    class SlowChunks(list):
        def __iter__(self):
            for chunk in list.__iter__(self):
                time.sleep(0.6)
                yield chunk

    monkeypatch.setattr(execution.ListBuffer, "partition", lambda self, k: [SlowChunks(p) for p in partition(self, k)])
    enqueue = data_plane._GrpcDataChannel._enqueue_to_send

    def slow_enqueue(self, elem):
        if isinstance(elem, data_plane.beam_fn_api_pb2.Elements.Data) and len(elem.data) > 1_000_000:
            time.sleep(0.8)
        enqueue(self, elem)

    monkeypatch.setattr(data_plane._GrpcDataChannel, "_enqueue_to_send", slow_enqueue)

    seen = Metrics.counter("check", "rows_out")
    from deepcorpus.core import datasets

    p = runner.new_pipeline(["--direct_num_workers", "2"])
    rows = (p | beam.Create([str(path)]) | beam.FlatMap(datasets.iter_file_rows, "jsonl", None)
            | "ById" >> beam.Map(lambda r: (r["id"], r)))
    # A second input from a later stage makes the join's input a materialized buffer of many chunks,
    # as dedup's JoinKeepers is (rows from the read, keepers from the components).
    later = (rows | "Group" >> beam.GroupByKey() | "Mark" >> beam.Map(lambda kv: (kv[0], 1)))
    _ = ({"row": rows, "mark": later} | beam.CoGroupByKey()
         | beam.FlatMap(lambda kv: [seen.inc() for _ in kv[1]["row"]]))
    counters = summary.counters_from_result(runner.run(p, "slow data plane"))
    assert counters["check"]["rows_out"] == n
