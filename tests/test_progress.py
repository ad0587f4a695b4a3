"""progress.py: running totals from the workers, one line per stage every few seconds."""

import io
import time

import pytest

from pipelines import progress


def test_summarize_bytes_files_rate_and_eta():
    line = progress.summarize({"bytes": 250_000_000, "bytes_total": 1_000_000_000, "files": 2, "files_total": 8,
                               "rows": 4000}, "pages", elapsed=10.0)
    assert line == "250.0 MB of 1.00 GB (25%), 2 of 8 files, 4,000 pages, 400 pages/s, ETA 30s"
    assert "ETA" not in progress.summarize({"rows": 10}, "rows", elapsed=1.0)


def test_sinks_in_other_processes_add_up_in_the_reporter():
    out = io.StringIO()
    with progress.Reporter("read", every_s=0.05, stream=out) as reporter:
        a, b = reporter.sink("pages"), reporter.sink("pages")
        a.add(bytes_total=100, files_total=2)
        a.add(bytes=40, rows=3, files=1)
        b.add(bytes=10, rows=2)
        a.flush()
        b.flush()
        time.sleep(0.3)
        totals, unit = reporter.totals()
        assert totals == {"bytes": 50, "bytes_total": 100, "files": 1, "files_total": 2, "rows": 5} and unit == "pages"
    assert "[read] 50 B of 100 B (50%), 1 of 2 files, 5 pages" in out.getvalue()
    a.add(rows=1)
    a.flush()  # after the run: the directory is gone, nothing is written, nothing fails


class _Slow:
    def __call__(self, x):
        from apache_beam.metrics import Metrics

        time.sleep(0.3)
        Metrics.counter("probe", "seen").inc()
        return x


@pytest.mark.slow
def test_a_remote_job_prints_its_id_and_then_its_counters(remote_like):
    # Dataflow's metrics advance while the job runs; Beam's local job service reports them at the end.
    import apache_beam as beam

    from pipelines import runner

    p = runner.new_pipeline(remote_like.beam_args)
    _ = p | beam.Create(list(range(20))) | beam.Map(_Slow())
    out = io.StringIO()
    result = p.run()
    progress.watch_remote(result, "probe", p.options, every_s=1.0, stream=out)
    result.wait_until_finish()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[probe] submitted: job ")
    assert any("probe/seen 20" in line for line in lines[1:]), lines
    # and the result's own metrics, which the summary reads, are the final ones, not a running answer
    assert {m.key.metric.name: m.committed for m in result.metrics().query()["counters"]
            if m.key.metric.namespace.endswith("probe")} == {"seen": 20}
