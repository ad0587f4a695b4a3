"""A local Beam worker process: Beam's own SDK harness (`sdk_worker_main`), started quietly.

The FnApiRunner starts one of these per local worker (`pipelines.runner`). Beam's harness sends
every log record, and a failed bundle's traceback, to the runner, which decides what the user sees
(one line for a UserError). Started as Beam starts it, each worker also wrote to the terminal: a
module-level `logging.warning()` before any handler exists (Beam's "apitools not found" on import)
gives the root logger a stderr handler that then printed every record again, and the harness prints
each failed bundle's traceback to stderr itself. Without `--debug` the worker's Python-level stderr
goes nowhere; a native crash still reaches the terminal through file descriptor 2.
"""

import logging
import os
import sys


def main() -> None:
    logging.getLogger().addHandler(logging.NullHandler())  # a handler exists: no implicit stderr one
    if "--debug" not in sys.argv[1:]:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv[:1])


if __name__ == "__main__":
    main()
