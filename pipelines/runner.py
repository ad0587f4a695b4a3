"""Build Beam pipeline options and run pipelines locally or on Dataflow.

Beam's own options pass through unchanged. With no `--runner`, pipelines run on the FnApiRunner in
`multi_processing` mode with one worker per core: Beam's DirectRunner would first try Prism, which
downloads a binary at run time, and the in-memory mode runs on a single core.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
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

from deepcorpus.core.errors import DatasetError, UserError

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


class Options(PipelineOptions):
    """PipelineOptions whose views are made once per class.

    Beam's `view_as` builds a new argparse parser of every option the view's class knows and parses
    the flags again each time, and `Pipeline.apply` asks for a view on every transform it applies:
    a `math run` launcher spent ~1 s building each minhash dedup graph (3,000 views, 35,000
    `add_argument` calls) in it. A view holds no values of its own (its reads and writes go to the
    options' shared `_all_options`), and the flags do not change once parsed, so one view per class
    is the same view. The cache is not pickled: a pickled view would keep a value that Beam's
    `__getstate__` drops (`impersonate_service_account`)."""

    def view_as(self, cls):
        views = self.__dict__.get("_views")
        if views is None:
            views = {}
            object.__setattr__(self, "_views", views)  # PipelineOptions' __setattr__ takes options only
        view = views.get(cls)
        if view is None:
            view = views[cls] = super().view_as(cls)
        return view

    def __getstate__(self):
        state = super().__getstate__()
        return {k: v for k, v in state.items() if k != "_views"}


def pipeline_options(beam_args: list[str], config: RunnerConfig | None = None) -> PipelineOptions:
    """PipelineOptions from the user's Beam flags, with local defaults filled in."""
    config = config or RunnerConfig()
    options = Options(beam_args)
    runner = options.view_as(StandardOptions).runner
    if runner is None or runner in ("DirectRunner", "FnApiRunner"):
        direct = options.view_as(DirectOptions)
        if "--direct_running_mode" not in " ".join(beam_args):
            direct.direct_running_mode = "in_memory" if config.in_memory else "multi_processing"
        if "--direct_num_workers" not in " ".join(beam_args):
            # In-process runs have one worker (more only make Beam warn that they do nothing).
            in_process = direct.direct_running_mode == "in_memory"
            direct.direct_num_workers = 1 if in_process else config.num_workers or os.cpu_count() or 1
    else:
        if _runner_name(runner) == "dataflowrunner":
            _check_dataflow(options)
        _fill_packaging(options)
    # DoFns defined in __main__ (or notebooks) need their globals on remote workers.
    options.view_as(SetupOptions).save_main_session = False
    return options


def _runner_name(runner) -> str:
    """"DataflowRunner", "dataflow", "apache_beam.runners.dataflow.DataflowRunner" -> "dataflowrunner"."""
    name = (runner if isinstance(runner, str) else type(runner).__name__).rsplit(".", 1)[-1].lower()
    return name if name.endswith("runner") else name + "runner"


def _check_dataflow(options: PipelineOptions) -> None:
    gcp = options.view_as(GoogleCloudOptions)
    missing = [name for name in ("project", "region", "temp_location") if not getattr(gcp, name)]
    if missing:
        raise UserError("DataflowRunner needs " + ", ".join(f"--{m}" for m in missing))


def image_tag() -> str:
    """The container tag of this code: the package version and git commit (`0.1.0-g1a2b3c4d5e6f`;
    Docker tags cannot hold the `+` of the version string). `make image` builds with it."""
    from deepcorpus.core.datasets import code_version

    return code_version().replace("+", "-")


def _fill_packaging(options: PipelineOptions) -> None:
    """Ship the project to the workers of any remote runner (Dataflow, a portable job service,
    Flink, Spark) unless the user gave a container or packages of their own. setup.py installs the
    package with its plain dependencies: what the workers import, not the launcher's torch, duckdb
    or matplotlib (pyproject.toml's `launcher` extra). A container whose tag is not this code's
    version is run, with a warning: its workers run other code than the launcher."""
    setup = options.view_as(SetupOptions)
    worker = options.get_all_options()
    image = worker.get("sdk_container_image")
    if image:
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        if tag != image_tag():
            log.warning("--sdk_container_image %s: its tag is not this code's (%s); the workers run the code in "
                        "the image (make image builds %s)", image, image_tag(), image_tag())
        return
    if not setup.setup_file and not setup.extra_packages and not setup.requirements_file:
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
    from pipelines import allocators, forkserver, worker

    allocators.steady()  # before the fork server and the workers start: they inherit it
    worker.release_output_streams()  # in_memory mode runs the bundles in this process
    from pipelines import spill
    from pipelines.bundles import SplittingBundleManager

    spill.install()  # grouped collections move to disk as they grow (the launcher's memory stays flat)

    class LocalRunner(FnApiRunner):
        def run_pipeline(self, pipeline, options):
            direct = options.view_as(DirectOptions)
            if direct.direct_running_mode != "multi_processing":
                return super().run_pipeline(pipeline, options)
            # FnApiRunner would start `python -m apache_beam.runners.worker.sdk_worker_main`, which
            # outlives a killed launcher. Start ours instead: give it the environment, and a mode
            # name that none of FnApiRunner's branches replaces it for.
            # Forked from one warm process (pipelines/forkserver.py): each worker skips ~2 CPU s of imports.
            debug = worker_log_level <= logging.DEBUG
            self._default_environment = environments.SubprocessSDKEnvironment.from_command_string(
                command_string=forkserver.client_command(debug) or worker.command(debug=debug))
            direct.direct_running_mode = "multi_processing (deepcorpus workers)"
            try:
                return super().run_pipeline(pipeline, options)
            finally:
                direct.direct_running_mode = "multi_processing"

        def _get_bundle_manager(self, bundle_context_manager):
            # Stage inputs in bundles of bounded size (pipelines/bundles.py), not one bundle per
            # worker, so that a worker's memory does not grow with the stage's input.
            if bundle_context_manager.stage.is_stateful():
                return super()._get_bundle_manager(bundle_context_manager)
            return SplittingBundleManager(bundle_context_manager, self._progress_frequency,
                                          cache_token_generator=FnApiRunner.get_cache_token_generator(static=False))

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
    try:
        return beam.Pipeline(runner=make_runner(options), options=options)
    except ValueError as e:
        # Beam's own checks of its options (a runner's required flags, a malformed gs:// path):
        # "Pipeline has validations errors:" and one line per problem.
        problems = [line.strip().rstrip(".") for line in str(e).splitlines()[1:] if line.strip()]
        if not str(e).startswith("Pipeline has validations errors") or not problems:
            raise
        raise UserError("Beam options: " + "; ".join(problems)) from None


def run(pipeline: beam.Pipeline, what: str):
    """Run to completion and return the result; time it for the summary. A remote job's URL and
    its counters as they advance are printed while it runs (`pipelines.progress.watch_remote`). A
    UserError raised in a worker (a malformed line, a corrupt part) comes back as that UserError,
    its one line as the worker wrote it, not as Beam's RuntimeError carrying every worker's traceback."""
    start = time.time()
    beam_class = next((c for c in type(pipeline.runner).__mro__ if c.__module__.startswith("apache_beam")),
                      type(pipeline.runner))
    log.info("running %s on %s", what, beam_class.__name__)  # FnApiRunner, DataflowRunner, ...
    try:
        with one_sdist_at_a_time(pipeline.options):
            result = pipeline.run()  # a remote runner returns once the job is staged and submitted
        if not is_local(pipeline.options):
            from pipelines import progress

            progress.watch_remote(result, what, pipeline.options, every_s=float(os.environ.get(
                "DEEPCORPUS_REMOTE_PROGRESS_EVERY", "30")))
        result.wait_until_finish()
    except Exception as e:
        user_error = worker_user_error(e)
        if user_error is None:
            raise
        raise user_error from e  # --debug shows the worker's traceback as the cause
    log.info("%s finished in %.1fs", what, time.time() - start)
    return result


@contextlib.contextmanager
def one_sdist_at_a_time(options: PipelineOptions):
    """Beam stages `--setup_file` by running `setup.py sdist` in the project's folder, which builds
    its release tree (deepcorpus-VERSION/) there and then deletes it: two jobs submitted at once from
    one checkout (parallel tests, two commands started together) delete each other's tree mid-build
    ("No such file or directory: deepcorpus-0.1.0/..."). Submissions that build it take turns, on a
    lock in the temporary folder (nothing is written beside the user's code)."""
    setup_file = options.view_as(SetupOptions).setup_file
    if not setup_file or is_local(options):
        yield
        return
    import fcntl
    import hashlib
    import tempfile

    folder = os.path.dirname(os.path.abspath(setup_file))
    lock = os.path.join(tempfile.gettempdir(), f"deepcorpus-sdist-{hashlib.sha1(folder.encode()).hexdigest()[:12]}.lock")
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


_USER_ERROR = re.compile(r"deepcorpus\.core\.errors\.(UserError|DatasetError): (.*)")
_WHILE_RUNNING = re.compile(r"( \[while running '[^']*'\])+$")


def worker_user_error(e: BaseException) -> UserError | None:
    """The UserError a failed pipeline run carries: the exception itself (in-process workers raise it
    again with Beam's "[while running 'Step']" appended), or the last one named in the text of the
    error a worker process or a remote runner sent back."""
    if isinstance(e, UserError):
        return type(e)(_WHILE_RUNNING.sub("", str(e)))
    found = _USER_ERROR.findall(str(e))
    if not found:
        return None
    kind, message = found[-1]
    return (DatasetError if kind == "DatasetError" else UserError)(_WHILE_RUNNING.sub("", message.strip()))


def _beam_actions() -> dict:
    """Option string -> argparse action, for every option Beam's registry of PipelineOptions knows."""
    actions: dict = {}

    def capture(parser):
        actions.update((s, action) for action in parser._actions for s in action.option_strings)

    PipelineOptions([]).get_all_options(add_extra_args_fn=capture)
    return actions


def beam_option_strings() -> set[str]:
    """Every option Beam's registry of PipelineOptions knows (--runner, --temp_location, ...)."""
    return set(_beam_actions())


def check_beam_args(beam_args: list[str]) -> list[str]:
    """`beam_args` as Beam will read them, checked before any work: a value Beam's parser rejects
    (`--direct_num_workers abc`) and a runner Beam does not know (`--runner Foo`) are one-line
    UserErrors; a runner named as Beam allows it (`dataflow`, `Dataflowrunner`, `direct`) is written
    as its class name, so that our own checks of the runner (local defaults, Dataflow's options) see
    the runner Beam will use."""
    import contextlib
    import io

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            runner = PipelineOptions(beam_args).get_all_options()["runner"]
    except SystemExit:  # Beam's argparse printed a usage block and the reason on its last line
        reason = stderr.getvalue().strip().splitlines()[-1:] or ["invalid Beam option"]
        raise UserError(re.sub(r"^[^:]*: error: ", "", reason[0])) from None
    if not runner:
        return list(beam_args)
    name = canonical_runner(runner)
    out, i = [], 0
    while i < len(beam_args):
        a = beam_args[i]
        if a == "--runner" and i + 1 < len(beam_args):
            out += ["--runner", name]
            i += 2
            continue
        out.append(f"--runner={name}" if a.startswith("--runner=") else a)
        i += 1
    if name == "DataflowRunner":
        _check_dataflow(PipelineOptions(out))
    return out


def canonical_runner(name: str) -> str:
    """Beam's class name for a runner as Beam's `create_runner` resolves it (case-insensitive, the
    'Runner' suffix optional), a fully qualified class name as given, or a UserError naming the
    closest known runner."""
    import difflib

    from apache_beam.runners.runner import _RUNNER_MAP

    if "." in name:
        return name
    path = _RUNNER_MAP.get(name.lower()) or _RUNNER_MAP.get(name.lower() + "runner")
    if path:
        return path.rsplit(".", 1)[-1]
    known = list(StandardOptions.KNOWN_RUNNER_NAMES)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise UserError(f"--runner {name}: not a Beam runner ({hint}known: {', '.join(known)}, or a class's full name)")


def unknown_beam_args(beam_args: list[str]) -> list[str]:
    """The options among `beam_args` that Beam does not know (it would drop them with a warning),
    and words that are no option's value (`--input a.jsonl b.jsonl`: b.jsonl would be ignored)."""
    known = _beam_actions()
    unknown, i = [], 0
    while i < len(beam_args):
        a = beam_args[i]
        name = a.split("=", 1)[0]
        if name not in known:
            unknown.append(a)  # an option Beam does not know, or a stray word Beam would drop
        elif "=" not in a and known[name].nargs != 0 and i + 1 < len(beam_args):
            i += 1  # the option's value
        i += 1
    return unknown


def quiet_beam_logging() -> None:
    """Beam's workers log every bundle at INFO; users want the pipeline's own progress."""
    for name in ("apache_beam", "apache_beam.runners", "apache_beam.runners.worker"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if "--debug" in sys.argv:
        logging.getLogger("apache_beam").setLevel(logging.INFO)
