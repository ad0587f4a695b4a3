"""Beam's local job service (`local_job_service_main`) with the local runner's data-plane fix.

The job service runs each submitted pipeline on an FnApiRunner, whose timed flush of bundle inputs
drops chunks under load (see `pipelines.runner.no_timed_flush`). Start it through this module, never
`python -m apache_beam.runners.portability.local_job_service_main` directly, or it loses data:

    python -m tests.harness.job_service --port 8099 --staging_dir DIR
"""

import logging
import signal
import sys

from pipelines.runner import no_timed_flush


def main(argv: list[str]) -> None:
    no_timed_flush()
    from apache_beam.runners.portability import local_job_service_main

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.basicConfig(level=logging.WARNING)
    local_job_service_main.run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
