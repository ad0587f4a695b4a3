"""The math pipeline's Beam steps, each a small DoFn or PTransform over plain functions.

Counters use the stage names the summary shows: read, extract, langid, score, collect, overlap,
discover, training.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.math.discover import stat_keys, under_prefixes
from pipelines.math.documents import MIN_CHARS, page_to_doc
from pipelines.math.warc import iter_pages


class ReadCrawlFn(beam.DoFn):
    """A WARC/WET path -> its HTML pages (or WET texts), one record at a time; a broken file goes
    to the `errors` output as {"file", "error"} (and the rest of the run goes on)."""

    def __init__(self):
        self._counters = {}

    def _count(self, name: str, n: int = 1) -> None:
        if name not in self._counters:
            self._counters[name] = Metrics.counter("read", name)
        self._counters[name].inc(n)

    def process(self, path: str):
        errors = []
        yield from iter_pages(path, self._count, errors.append)
        for err in errors:
            yield beam.pvalue.TaggedOutput("errors", err)


class ExtractFn(beam.DoFn):
    """A batch of pages -> a batch of web_doc rows (text with LaTeX, extraction metadata, hashes);
    short pages dropped. Batches (from `BatchElements`) keep Resiliparse's and lid.176's working sets
    apart in the CPU caches: interleaving them page by page costs ~1.5x here."""

    def __init__(self, min_chars: int = MIN_CHARS):
        self.min_chars = min_chars
        self.seen = Metrics.counter("extract", "in")
        self.out = Metrics.counter("extract", "out")
        self.with_math = Metrics.counter("extract", "pages_with_math")
        self.formulas = Metrics.counter("extract", "formulas")
        self._counters = {}

    def _count(self, name: str) -> None:
        if name not in self._counters:
            self._counters[name] = Metrics.counter("extract", name)
        self._counters[name].inc()

    def process(self, pages: list[dict]):
        rows = []
        for page in pages:
            self.seen.inc()
            row, reason = page_to_doc(page, self.min_chars)
            if row is None:
                self._count(f"dropped_{reason}")
                continue
            self.out.inc()
            n = row["extraction"]["n_formulas"]
            if n:
                self.with_math.inc()
                self.formulas.inc(n)
            for fmt in row["extraction"]["math_formats"]:
                self._count(f"format_{fmt}")
            rows.append(row)
        if rows:
            yield rows


class LanguageIdFn(beam.DoFn):
    """A batch of rows -> each row with `language` and `language_score` (lid.176); keeps only
    `languages` when given."""

    def __init__(self, languages: tuple[str, ...] = ()):
        self.languages = tuple(languages)
        self.seen = Metrics.counter("langid", "in")
        self.dropped = Metrics.counter("langid", "dropped_language")
        self._counters = {}

    def setup(self):
        from classifiers.langid import LanguageIdentifier

        self.lid = LanguageIdentifier()

    def process(self, rows: list[dict]):
        for row in rows:
            self.seen.inc()
            lang, score = self.lid.predict(row["text"])
            if self.languages and lang not in self.languages:
                self.dropped.inc()
                continue
            if lang not in self._counters:
                self._counters[lang] = Metrics.counter("langid", f"lang_{lang}")
            self._counters[lang].inc()
            yield {**row, "language": lang, "language_score": score}


class ScoreFn(beam.DoFn):
    """Adds the classifier's `score` and the `iteration`; counts pages at or above `threshold`."""

    def __init__(self, model_path: str, iteration: int | None = None, threshold: float | None = None):
        self.model_path = model_path
        self.iteration = iteration
        self.threshold = threshold
        self.seen = Metrics.counter("score", "in")
        self.above = Metrics.counter("score", "above_threshold")

    def setup(self):
        from classifiers.math_classifier import MathClassifier

        self.model = MathClassifier.load(self.model_path)

    def process(self, row: dict):
        self.seen.inc()
        score = self.model.score(row["text"] or "")
        if self.threshold is not None and score >= self.threshold:
            self.above.inc()
        yield {**row, "score": score, "iteration": self.iteration}


# --- ranking under a token budget ---------------------------------------------------------------------

BINS = 1000


class TokenHistogram(beam.CombineFn):
    """Pages and tokens per score bin (width 1/BINS): enough to find a budget's cutoff in one pass."""

    def create_accumulator(self):
        return [[0] * BINS, [0] * BINS]

    def add_input(self, acc, row):
        b = min(BINS - 1, max(0, int(row["score"] * BINS)))
        acc[0][b] += 1
        acc[1][b] += int(row["token_count"] or 0)
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for pages, tokens in accs:
            for k in range(BINS):
                out[0][k] += pages[k]
                out[1][k] += tokens[k]
        return out

    def extract_output(self, acc):
        return {"pages": acc[0], "tokens": acc[1]}


def budget_cutoff(hist: dict, threshold: float, token_budget: int | None) -> float:
    """The lowest score kept: `threshold`, raised (by whole bins from the top) to fit `token_budget`."""
    if not token_budget:
        return threshold
    total = 0
    for b in range(BINS - 1, -1, -1):
        lo = b / BINS
        if lo < threshold:
            break
        total += hist["tokens"][b]
        if total > token_budget:
            return max(threshold, (b + 1) / BINS)
    return threshold


class CollectFn(beam.DoFn):
    """Keeps rows scored at or above the cutoff (a side input computed from the histogram)."""

    def __init__(self):
        self.kept = Metrics.counter("collect", "collected")
        self.tokens = Metrics.counter("collect", "tokens")
        self.below = Metrics.counter("collect", "below_cutoff")

    def process(self, row: dict, cutoff: float):
        if row["score"] >= cutoff:
            self.kept.inc()
            self.tokens.inc(int(row["token_count"] or 0))
            yield row
        else:
            self.below.inc()


def domain_stat_items(row: dict, cutoff: float, depth: int):
    """((kind, key), (pages, collected)) for the page's domain and URL prefix."""
    collected = int(row["score"] >= cutoff)
    for key in stat_keys(row["url"], depth):
        yield key, (1, collected)


def sum_pairs(pairs) -> tuple[int, int]:
    pages = collected = 0
    for p, c in pairs:
        pages += p
        collected += c
    return pages, collected


def math_domain_stats(element, domain_share: float):
    """(domain, [(kind, key, pages, collected)...]) -> those entries if the domain is math-related.

    Filtering in the pipeline keeps the driver's share small: a crawl has millions of domains, but
    only the math-related ones and their prefixes matter to discovery."""
    _, entries = element
    entries = list(entries)
    for kind, _key, pages, collected in entries:
        if kind == "domain" and pages and collected / pages > domain_share:
            yield from entries
            return


class FirstIterationFn(beam.DoFn):
    """Joins this iteration's collected rows with the previous iteration's ids: the overlap counters,
    and `iteration` set to the iteration that first collected the page."""

    def __init__(self):
        self.both = Metrics.counter("overlap", "also_collected_before")
        self.new = Metrics.counter("overlap", "newly_collected")
        self.lost = Metrics.counter("overlap", "no_longer_collected")

    def process(self, element):
        _, joined = element
        before = joined["previous"]
        rows = joined["current"]
        if not rows:
            if before:
                self.lost.inc()
            return
        for row in rows:
            if before:
                self.both.inc()
                yield {**row, "iteration": before[0]}
            else:
                self.new.inc()
                yield row


class TrainingCandidateFn(beam.DoFn):
    """Routes candidate pages for the next classifier: `positive` (uncollected, under an approved
    prefix) or `negative` (no formula, not under an approved prefix, not collected)."""

    def __init__(self, approved: tuple[str, ...], model_path: str | None, cutoff: float | None):
        self.approved = tuple(approved)
        self.model_path = model_path
        self.cutoff = cutoff
        self.pos = Metrics.counter("training", "seed_added_candidates")
        self.neg = Metrics.counter("training", "negative_candidates")

    def setup(self):
        self.model = None
        if self.model_path:
            from classifiers.math_classifier import MathClassifier

            self.model = MathClassifier.load(self.model_path)

    def process(self, row: dict):
        collected = self.model is not None and self.model.score(row["text"] or "") >= self.cutoff
        if collected:
            return
        if self.approved and under_prefixes(row["url"], self.approved):
            self.pos.inc()
            yield beam.pvalue.TaggedOutput("positive", row)
        elif not (row.get("extraction") or {}).get("n_formulas"):
            self.neg.inc()
            yield row
