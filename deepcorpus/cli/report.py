"""`deepcorpus report`: a self-contained HTML report with plots for a run directory."""

from deepcorpus.cli import command_parser


def register(sub) -> None:
    p = command_parser(sub, "report", "Write an HTML report (plots embedded) for a run directory.", [
        "deepcorpus report demo-out --output demo-out/report.html",
    ])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (e.g. demo-out, out/math, runs/x)")
    p.add_argument("--output", required=True, help="the HTML file to write")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from deepcorpus.report import write_report

    return write_report(args.run_dir, args.output)
