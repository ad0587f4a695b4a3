"""Build Beam pipeline options and run pipelines locally or on Dataflow.

Beam's own options pass through unchanged. With no `--runner`, pipelines run on the FnApiRunner in
`multi_processing` mode with one worker per core: Beam's DirectRunner would first try Prism, which
downloads a binary at run time, and the in-memory mode runs on a single core.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
)

from deepcorpus.core.errors import UserError

log = logging.getLogger(__name__)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class DeepcorpusOptions(PipelineOptions):
    """Our own pipeline flags, beside Beam's (so Beam's parser knows them and --help lists them)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--worker_visible_path", action="append", default=None, metavar="DIR",
            help="a local directory the workers of a remote runner can read and write at the same path (a "
                 "shared filesystem, the remote-like test harness's bucket); repeatable. Other local paths are "
                 "refused for remote runners")


@dataclass
class RunnerConfig:
    """What the CLI knows beyond Beam's own flags."""

    num_workers: int | None = None  # local workers; default one per core
    in_memory: bool = False  # single-process FnApiRunner, for tests and tiny inputs


def pipeline_options(beam_args: list[str], config: RunnerConfig | None = None) -> PipelineOptions:
    """PipelineOptions from the user's Beam flags, with local defaults filled in."""
    config = config or RunnerConfig()
    options = PipelineOptions(beam_args)
    runner = options.view_as(StandardOptions).runner
    if runner is None or runner in ("DirectRunner", "FnApiRunner"):
        direct = options.view_as(DirectOptions)
        if "--direct_running_mode" not in " ".join(beam_args):
            direct.direct_running_mode = "in_memory" if config.in_memory else "multi_processing"
        if "--direct_num_workers" not in " ".join(beam_args):
            direct.direct_num_workers = config.num_workers or os.cpu_count() or 1
    elif runner == "DataflowRunner":
        _fill_dataflow_defaults(options)
    # DoFns defined in __main__ (or notebooks) need their globals on remote workers.
    options.view_as(SetupOptions).save_main_session = False
    return options


def _fill_dataflow_defaults(options: PipelineOptions) -> None:
    """Ship the project to workers unless the user gave a container or package of their own."""
    gcp = options.view_as(GoogleCloudOptions)
    setup = options.view_as(SetupOptions)
    missing = [name for name in ("project", "region", "temp_location") if not getattr(gcp, name)]
    if missing:
        raise UserError("DataflowRunner needs " + ", ".join(f"--{m}" for m in missing))
    worker = options.get_all_options()
    if not worker.get("sdk_container_image") and not setup.setup_file and not setup.extra_packages:
        setup.setup_file = os.path.join(PROJECT_ROOT, "setup.py")


def make_runner(options: PipelineOptions):
    """The runner object for `beam.Pipeline`: FnApiRunner locally, else Beam's by name."""
    runner = options.view_as(StandardOptions).runner
    if runner is None or runner in ("DirectRunner", "FnApiRunner"):
        return _local_runner(logging.DEBUG if "--debug" in sys.argv else logging.WARNING)
    return runner  # beam.Pipeline resolves names such as "DataflowRunner"


def _local_runner(worker_log_level: int):
    """FnApiRunner whose worker processes log at `worker_log_level` (they log every bundle at INFO)
    and die with the launcher (`pipelines/worker.py`)."""
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.runners.portability.fn_api_runner.fn_runner import ExtendedProvisionInfo
    from apache_beam.transforms import environments
    from google.protobuf import struct_pb2

    no_timed_flush()
    from pipelines import worker

    class LocalRunner(FnApiRunner):
        def run_pipeline(self, pipeline, options):
            direct = options.view_as(DirectOptions)
            if direct.direct_running_mode != "multi_processing":
                return super().run_pipeline(pipeline, options)
            # FnApiRunner would start `python -m apache_beam.runners.worker.sdk_worker_main`, which
            # outlives a killed launcher. Start ours instead: give it the environment, and a mode
            # name that none of FnApiRunner's branches replaces it for.
            self._default_environment = environments.SubprocessSDKEnvironment.from_command_string(
                command_string=worker.command())
            direct.direct_running_mode = "multi_processing (deepcorpus workers)"
            try:
                return super().run_pipeline(pipeline, options)
            finally:
                direct.direct_running_mode = "multi_processing"

    options = struct_pb2.Struct()
    options.update({"default_sdk_harness_log_level": logging.getLevelName(worker_log_level)})
    info = beam_provision_api_pb2.ProvisionInfo(retrieval_token="unused-retrieval-token", pipeline_options=options)
    return LocalRunner(provision_info=ExtendedProvisionInfo(info))


def no_timed_flush() -> None:
    """Turn off the FnApiRunner's timed flushing of the data it sends to its workers.

    Beam's local runner (2.77) sends each bundle's input through a stream that a second thread flushes
    every `DATA_BUFFER_TIME_LIMIT_MS` (1 s). `flush()` takes a lock and `write()` does not: when the
    timed flush blocks on the full send queue (a stage input of hundreds of MB, a loaded machine)
    while the runner goes on writing the input's chunks, the flush's `_clear()` then drops every chunk
    written in between. Whole chunks of a stage's input vanish with no error: `dedup minhash` lost up
    to 5% of a 300k-document corpus this way, differently on every run. Timed flushing only serves
    streaming latency; without it the stream is flushed by size, from the writing thread alone."""
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = 0


def is_local(options: PipelineOptions) -> bool:
    return options.view_as(StandardOptions).runner in (None, "DirectRunner", "FnApiRunner")


def new_pipeline(beam_args: list[str], config: RunnerConfig | None = None) -> beam.Pipeline:
    options = pipeline_options(beam_args, config)
    return beam.Pipeline(runner=make_runner(options), options=options)


def run(pipeline: beam.Pipeline, what: str):
    """Run to completion and return the result; time it for the summary. A remote job's URL and
    its counters as they advance are printed while it runs (`pipelines.progress.watch_remote`)."""
    start = time.time()
    log.info("running %s on %s", what, type(pipeline.runner).__name__)
    result = pipeline.run()
    if not is_local(pipeline.options):
        from pipelines import progress

        progress.watch_remote(result, what, pipeline.options, every_s=float(os.environ.get(
            "DEEPCORPUS_REMOTE_PROGRESS_EVERY", "30")))
    result.wait_until_finish()
    log.info("%s finished in %.1fs", what, time.time() - start)
    return result


def quiet_beam_logging() -> None:
    """Beam's workers log every bundle at INFO; users want the pipeline's own progress."""
    for name in ("apache_beam", "apache_beam.runners", "apache_beam.runners.worker"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if "--debug" in sys.argv:
        logging.getLogger("apache_beam").setLevel(logging.INFO)
