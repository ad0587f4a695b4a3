"""Run every benchmark module `benchmarks/*_bench.py` (each has `main(out_dir)`), one after another."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default="benchmarks/out")
    parser.add_argument("--only", nargs="*", help="benchmark module names (e.g. dedup_bench)")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    names = sorted(m.name for m in pkgutil.iter_modules([here]) if m.name.endswith("_bench"))
    failed = []
    for name in names:
        if args.only and name not in args.only:
            continue
        print(f"\n##### {name}", flush=True)
        try:
            importlib.import_module(f"benchmarks.{name}").main(args.output)
        except Exception:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
