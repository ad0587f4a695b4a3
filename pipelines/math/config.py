"""The configuration of `deepcorpus math run`, from its command-line options."""

from __future__ import annotations

from dataclasses import dataclass, field

from classifiers.math_classifier import ClassifierConfig
from deepcorpus import samples
from deepcorpus.core.errors import UserError
from pipelines.math.discover import DiscoveryConfig
from pipelines.math.documents import MIN_CHARS
from pipelines.math.inputs import CC_BASE, Spec, classify
from pipelines.math.page_caps import DEFAULT_CAPS, PageCaps

# Chosen on the bundled labelled set (deepcorpus/samples/math_eval.jsonl): at iteration 1 F1 is flat
# (0.93) from 0.1 to 0.7, at iteration 2 it is 1.0 up to 0.3 and 0.97 at 0.5, falling above 0.7; 0.5
# lies in both plateaus and is MegaMath's threshold for its fastText math classifier. `--threshold
# auto` re-picks the best-F1 threshold on --eval every iteration.
DEFAULT_THRESHOLD = 0.5


@dataclass
class MathRunConfig:
    inputs: list[str]
    seed: str
    output: str
    input_lists: list[str] = field(default_factory=list)  # --input-list files: one crawl file per line
    crawl_base: str = CC_BASE  # what relative listing lines are resolved against
    iterations: int = 4
    benchmarks: list[str] = field(default_factory=list)
    threshold: float | None = DEFAULT_THRESHOLD  # None: best F1 on the eval set, each iteration
    token_budget: int | None = None
    eval_path: str | None = None
    stop_overlap: float = 0.98
    languages: tuple[str, ...] = ()
    min_chars: int = MIN_CHARS
    approved_path: str | None = None
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    caps: PageCaps = DEFAULT_CAPS
    staged: dict[str, str] = field(default_factory=dict)  # local file -> the copy workers read (remote runs)

    def for_workers(self, path: str) -> str:
        """The path a worker should open for a file the user named (a staged copy, remote runs)."""
        return self.staged.get(path, path)

    @property
    def specs(self) -> list[Spec]:
        return [classify(s) for s in self.inputs] + [classify(s, from_list=True) for s in self.input_lists]


def config_from_args(args) -> MathRunConfig:
    threshold = getattr(args, "threshold", str(DEFAULT_THRESHOLD))
    if isinstance(threshold, str):
        if threshold == "auto":
            threshold = None
        else:
            try:
                threshold = float(threshold)
            except ValueError:
                raise UserError(f"--threshold: expected a probability or 'auto', not {threshold!r}") from None
    cls = ClassifierConfig()
    for name in ("max_positives", "max_negatives", "dim", "lr", "word_ngrams", "min_count", "epoch"):
        if getattr(args, name, None) is not None:
            setattr(cls, name, getattr(args, name))
    disc = DiscoveryConfig(
        domain_share=getattr(args, "domain_share", 0.10), prefix_share=getattr(args, "prefix_share", 0.5),
        min_prefix_pages=getattr(args, "min_prefix_pages", 3), prefix_depth=getattr(args, "prefix_depth", 1),
        auto_approve=getattr(args, "auto_approve", None),
    )
    langs = tuple(x for x in (getattr(args, "languages", "") or "").split(",") if x)
    inputs, lists = list(getattr(args, "input", None) or []), list(getattr(args, "input_list", None) or [])
    if not inputs and not lists:
        raise UserError("give the crawl with --input (files, globs, warc.paths.gz) or --input-list FILE")
    return MathRunConfig(
        inputs=inputs, input_lists=lists, crawl_base=getattr(args, "crawl_base", None) or CC_BASE,
        seed=args.seed, output=args.output, iterations=args.iterations,
        benchmarks=list(args.benchmark or []), threshold=threshold, token_budget=getattr(args, "token_budget", None),
        eval_path=getattr(args, "eval", None) or samples.path("math_eval.jsonl"),
        stop_overlap=getattr(args, "stop_overlap", 0.98), languages=langs,
        min_chars=getattr(args, "min_chars", MIN_CHARS), approved_path=getattr(args, "approved", None),
        caps=PageCaps(max_chars=getattr(args, "max_page_chars", None) or DEFAULT_CAPS.max_chars,
                      max_depth=getattr(args, "max_page_depth", None) or DEFAULT_CAPS.max_depth,
                      max_seconds=getattr(args, "max_page_seconds", None) or DEFAULT_CAPS.max_seconds),
        discovery=disc, classifier=cls,
    )
