"""The single stages of the math loop as commands: train-classifier, score, discover (decontaminate is
`dedup decontaminate`'s implementation, see `pipelines/math/cli.py`).

Each works on existing datasets (or JSONL/Parquet files), so a user can audit or redo one stage of
a run, or use the classifier outside the loop.
"""

from __future__ import annotations

import logging
import sys

import apache_beam as beam

from classifiers.evaluation import binary_metrics
from classifiers.fasttext_binary import check_model_file
from classifiers.math_classifier import ClassifierConfig, train_classifier
from deepcorpus.core import datasets, outputs
from deepcorpus.core.contracts import WEB_DOC
from deepcorpus.core.errors import UserError
from pipelines import summary
from pipelines.io import ReadDocuments
from pipelines.math import transforms as T
from pipelines.math.discover import DiscoveryConfig, approve, count_pages, discover, write_review
from pipelines.math.documents import as_web_doc
from pipelines.math.iteration import load_labelled
from pipelines.runner import quiet_beam_logging
from pipelines.stage import Stage

log = logging.getLogger(__name__)


def _texts(specs: list[str]):
    for source in datasets.resolve_inputs(specs):
        for row in datasets.iter_source_rows(source, ["text"]):
            if row.get("text"):
                yield row["text"]


def train_classifier_step(args) -> int:
    cfg = ClassifierConfig()
    for name in ("max_positives", "max_negatives", "dim", "lr", "word_ngrams", "min_count", "epoch"):
        if getattr(args, name, None) is not None:
            setattr(cfg, name, getattr(args, name))
    outputs.check_file_output(args.output)
    try:
        clf = train_classifier(_texts(args.positives), _texts(args.negatives), args.output, cfg)
    except ValueError as e:
        raise UserError(f"{args.output}: {e}") from None
    print(f"model: {args.output} ({clf.info['positives']} positives, {clf.info['negatives']} negatives, "
          f"{clf.info['epochs']} epochs)")
    if args.eval:
        texts, labels = load_labelled(args.eval)
        m = binary_metrics(clf.score_many(texts), labels, args.threshold)
        print(f"on {args.eval}: precision {m['precision']:.3f} recall {m['recall']:.3f} F1 {m['f1']:.3f} "
              f"at threshold {args.threshold}")
    return 0


class _KeepScored(beam.DoFn):
    def __init__(self, threshold):
        self.threshold = threshold

    def process(self, row):
        if self.threshold is None or row["score"] >= self.threshold:
            yield row


def _require_worker_paths(beam_args: list[str], paths: list[tuple[str, str]]) -> None:
    """Before the job: every path the workers open must be one they can read (one line, exit 2)."""
    from pipelines import worker_paths
    from pipelines.runner import pipeline_options

    worker_paths.require(pipeline_options(beam_args), paths)


def score_step(args, beam_args) -> int:
    sources = datasets.resolve_inputs(args.input)
    check_model_file(args.model)
    quiet_beam_logging()
    inputs = [p for s in sources for p in ([s.dataset.path] if s.dataset else s.files)] + [args.model]
    _require_worker_paths(beam_args, [("--input", p) for p in inputs[:-1]] + [("--model", args.model),
                                                                              ("--output", args.output)])
    from pipelines.math.iteration import _share
    from pipelines.shared_model import SharedModel

    model = SharedModel(args.model, _share(args.model, beam_args))  # one copy per machine
    with Stage("score", beam_args, command=args.command_line) as stage:
        _ = (
            stage.pipeline
            | "Read" >> ReadDocuments(sources, progress=stage.progress("rows"))
            | "AsWebDoc" >> beam.Map(as_web_doc)
            | "Batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "Score" >> beam.ParDo(T.ScoreFn(model, None, args.threshold))
            | "Keep" >> beam.ParDo(_KeepScored(args.threshold))
            | "Write" >> stage.write(args.output, WEB_DOC, inputs=inputs, options={"threshold": args.threshold},
                                     replace=getattr(args, "force", False))
        )
        counters = stage.run()
        manifest = stage.commit(args.output, extra={"model": args.model, "counters": counters})
    print(summary.format_table(counters, title="score"))
    print(f"wrote {manifest['row_count']:,} documents to {args.output}")
    return 0


def discover_step(args) -> int:
    rows = []
    for source in datasets.resolve_inputs(args.input, WEB_DOC):
        rows.extend(datasets.iter_source_rows(source, ["url", "score"]))
    if any(r.get("score") is None for r in rows):
        raise UserError(f"{args.input[0]}: documents without a score; run `deepcorpus math score` first")
    cfg = DiscoveryConfig(args.domain_share, args.prefix_share, args.min_prefix_pages, args.prefix_depth,
                          args.auto_approve)
    stats = count_pages(((r["url"], r["score"] >= args.threshold) for r in rows if r.get("url")), cfg.prefix_depth)
    found = approve(discover(stats, cfg), None, cfg.auto_approve)
    outputs.check_file_output(args.output)
    write_review(args.output, found, 0)
    print(f"{len(found.domains)} math domains, {len(found.prefixes)} proposed prefixes -> {args.output}")
    for p in found.prefixes:
        print(f"  {p['prefix']}: {p['collected']}/{p['pages']} collected ({p['share']:.0%})"
              f"{'  approved' if p['approved'] else ''}")
    sys.stdout.flush()
    return 0
