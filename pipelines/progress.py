"""Progress of a long pipeline, while it runs: bytes read of the total, rows per second, an ETA.

Locally, the FnApiRunner only hands back metrics when a pipeline ends, and its workers are other
processes. So the steps that read (`Progress` sinks, pickled into their DoFns) write their running
totals to small files in a directory the launcher owns (at most once a second per process), and the
launcher's `Reporter` thread adds them up every few seconds and prints one line per stage:

    [candidates: read, extract, langid] 412.0 MB of 1.20 GB (34%), 3 of 8 files, 2,314 pages, 402 pages/s, ETA 1m58s

On a remote runner (Dataflow) there is no shared directory: `Stage.run` prints the job's URL and
then its counters as they advance, from Beam's metrics API (`watch_remote`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid

log = logging.getLogger(__name__)

EVERY_S = float(os.environ.get("DEEPCORPUS_PROGRESS_EVERY", "5"))
FIELDS = ("bytes", "bytes_total", "files", "files_total", "rows")


class Progress:
    """A DoFn's running totals: `add(bytes=, rows=, files=, bytes_total=, files_total=)`. Picklable;
    each process writes its own file (`flush` at most once a second, and at the end of a bundle)."""

    def __init__(self, directory: str, unit: str = "rows"):
        self.directory = directory
        self.unit = unit
        self._totals: dict[str, int] | None = None

    def __getstate__(self):
        return {"directory": self.directory, "unit": self.unit}

    def __setstate__(self, state):
        self.directory, self.unit, self._totals = state["directory"], state["unit"], None

    def add(self, **deltas: int) -> None:
        if self._totals is None:
            self._totals = dict.fromkeys(FIELDS, 0)
            self._name = os.path.join(self.directory, f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json")
            self._last = 0.0
        for key, value in deltas.items():
            self._totals[key] += int(value or 0)
        now = time.monotonic()
        if now - self._last >= 1.0:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self._totals is None or not os.path.isdir(self.directory):
            return
        self._last = now if now is not None else time.monotonic()
        tmp = self._name + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump({"unit": self.unit, **self._totals}, f)
            os.replace(tmp, self._name)
        except OSError:  # the launcher removed the directory: the pipeline is over
            pass


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}" if n < 10 else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _fmt_time(s: float) -> str:
    s = int(s)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def summarize(totals: dict[str, int], unit: str, elapsed: float) -> str:
    """One progress line from summed totals."""
    parts = []
    done, total = totals.get("bytes", 0), totals.get("bytes_total", 0)
    if total:
        parts.append(f"{_fmt_bytes(done)} of {_fmt_bytes(total)} ({min(done / total, 1):.0%})")
    elif done:
        parts.append(f"{_fmt_bytes(done)} read")
    if totals.get("files_total"):
        parts.append(f"{totals.get('files', 0):,} of {totals['files_total']:,} files")
    rows = totals.get("rows", 0)
    rate = rows / elapsed if elapsed > 0 else 0.0
    parts.append(f"{rows:,} {unit}")
    parts.append(f"{rate:,.0f} {unit}/s")
    eta = None
    if total and done:
        eta = elapsed * (total - done) / done
    elif totals.get("files_total") and totals.get("files"):
        eta = elapsed * (totals["files_total"] - totals["files"]) / totals["files"]
    if eta is not None and eta > 0:
        parts.append(f"ETA {_fmt_time(eta)}")
    return ", ".join(parts)


class Reporter:
    """The launcher's side: a directory for the sinks, and a thread printing a line every EVERY_S."""

    def __init__(self, what: str, every_s: float = EVERY_S, stream=None):
        self.what = what
        self.every_s = every_s
        self.stream = stream or sys.stderr
        self.directory = tempfile.mkdtemp(prefix="deepcorpus-progress-")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0.0
        self.lines: list[str] = []

    def sink(self, unit: str = "rows") -> Progress:
        return Progress(self.directory, unit)

    def totals(self) -> tuple[dict[str, int], str]:
        sums = dict.fromkeys(FIELDS, 0)
        unit = "rows"
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return sums, unit
        for name in names:
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(self.directory, name)) as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            if data.get("unit") != "rows":
                unit = data["unit"]
            for key in FIELDS:
                sums[key] += int(data.get(key, 0))
        return sums, unit

    def line(self) -> str | None:
        totals, unit = self.totals()
        if not any(totals.values()):
            return None
        return f"[{self.what}] {summarize(totals, unit, time.monotonic() - self._start)}"

    def __enter__(self) -> Reporter:
        self._start = time.monotonic()
        if self.every_s > 0:
            self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            text = self.line()
            if text:
                self.lines.append(text)
                print(text, file=self.stream, flush=True)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)


TERMINAL = ("DONE", "FAILED", "CANCELLED", "DRAINED", "UPDATED", "STOPPED")


def job_url(result, options) -> str | None:
    """Where to watch a remote job: Dataflow's console page, or the job id elsewhere."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions, StandardOptions

    job_id = None
    for getter in ("job_id", "_job_id"):  # Dataflow's result has job_id(), the portable runner's _job_id
        fn = getattr(result, getter, None)
        try:
            job_id = fn() if callable(fn) else fn
        except Exception:  # noqa: BLE001 - not every result knows its id
            job_id = None
        if job_id:
            break
    runner = options.view_as(StandardOptions).runner
    if runner == "DataflowRunner" and job_id:
        gcp = options.view_as(GoogleCloudOptions)
        return f"https://console.cloud.google.com/dataflow/jobs/{gcp.region}/{job_id}?project={gcp.project}"
    return f"job {job_id}" if job_id else None


def watch_remote(result, what: str, options, every_s: float = 30.0, stream=None) -> None:
    """Print the job's URL, then its counters whenever they change, until the job ends."""
    stream = stream or sys.stderr
    url = job_url(result, options)
    if url:
        print(f"[{what}] submitted: {url}", file=stream, flush=True)
    last: dict = {}
    shown_at = time.monotonic()
    while True:
        state = str(getattr(result, "state", "") or "")
        done = any(state.endswith(t) for t in TERMINAL)
        if not done:
            time.sleep(1.0)
            if time.monotonic() - shown_at < every_s:
                continue
        shown_at = time.monotonic()
        changed = {k: v for k, v in _counters(result).items() if last.get(k) != v}
        if changed:  # Dataflow reports counters as they advance; Beam's local job service at the end
            last.update(changed)
            shown = ", ".join(f"{k} {v:,}" for k, v in sorted(changed.items())[:12])
            print(f"[{what}] {state.rsplit('.', 1)[-1].lower() or 'running'}: {shown}", file=stream, flush=True)
        if done:
            return


def _metrics_now(result):
    """The job's metrics as they are now. The portable runner's `metrics()` keeps its first answer for
    good, so asking it while the job runs would freeze the final counters at that answer: ask its job
    service directly instead."""
    if hasattr(result, "_job_service") and hasattr(result, "_job_id"):
        from apache_beam.portability.api import beam_job_api_pb2
        from apache_beam.runners.portability.portable_runner import PortableMetrics

        return PortableMetrics(result._job_service.GetJobMetrics(
            beam_job_api_pb2.GetJobMetricsRequest(job_id=result._job_id)))
    return result.metrics()


def _counters(result) -> dict[str, int]:
    try:
        return {f"{m.key.metric.namespace.rsplit('.', 1)[-1]}/{m.key.metric.name}":
                m.committed if m.committed is not None else m.attempted
                for m in _metrics_now(result).query()["counters"]}
    except Exception:  # noqa: BLE001 - metrics may be unavailable while the job starts
        return {}
