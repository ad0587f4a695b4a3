"""The math pipeline's Beam steps, each a small DoFn or CombineFn over plain functions.

Counters use the stage names the summary shows: read, extract, langid, score, collect, overlap,
domains, training. Every step that drops rows counts each drop under `dropped_<reason>`, so the
conservation checks (`ledger.py`) can add them up.
"""

from __future__ import annotations

import hashlib

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.math.discover import stat_keys, under_prefixes
from pipelines.math.documents import MIN_CHARS, page_to_doc
from pipelines.math.page_caps import DEFAULT_CAPS, PageCaps, PageExtractor
from pipelines.math.warc import iter_pages


class _Counters:
    """Beam counters of one namespace, created on first use."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self._made: dict = {}

    def __call__(self, name: str, n: int = 1) -> None:
        if n:
            if name not in self._made:
                self._made[name] = Metrics.counter(self.namespace, name)
            self._made[name].inc(n)

    def __getstate__(self):
        return {"namespace": self.namespace}

    def __setstate__(self, state):
        self.namespace, self._made = state["namespace"], {}


class ReadCrawlFn(beam.DoFn):
    """A WARC/WET path -> its HTML pages (or WET texts), one record at a time; a file that does not
    end cleanly goes to the `errors` output as {"file", "kind", "error", "records_read", "bytes_read"}
    (and the rest of the run goes on). `progress` hears the bytes and pages as they are read."""

    def __init__(self, progress=None):
        self.progress = progress
        self._count = _Counters("read")

    def process(self, path: str):
        errors = []
        on_bytes = (lambda n: self.progress.add(bytes=n)) if self.progress is not None else None
        for page in iter_pages(path, self._count, errors.append, on_bytes=on_bytes):
            if self.progress is not None:
                self.progress.add(rows=1)
            yield page
        if self.progress is not None:
            self.progress.add(files=1)
            self.progress.flush()
        for err in errors:
            yield beam.pvalue.TaggedOutput("errors", err)


class ExtractFn(beam.DoFn):
    """A batch of pages -> a batch of web_doc rows (text with LaTeX, extraction metadata, hashes);
    short, empty and hostile pages dropped (`page_caps`: size, depth, time), each counted. Batches
    (from `BatchElements`) keep Resiliparse's and lid.176's working sets apart in the CPU caches:
    interleaving them page by page costs ~1.5x here."""

    def __init__(self, min_chars: int = MIN_CHARS, caps: PageCaps = DEFAULT_CAPS):
        self.min_chars = min_chars
        self.caps = caps
        self._count = _Counters("extract")

    def setup(self):
        self.pages = PageExtractor(self.caps)

    def teardown(self):
        if getattr(self, "pages", None) is not None:
            self.pages.close()

    def process(self, pages: list[dict]):
        rows = []
        for page in pages:
            self._count("in")
            row, reason = page_to_doc(page, self.min_chars, self.pages)
            if row is None:
                self._count(f"dropped_{reason}")
                continue
            self._count("out")
            n = row["extraction"]["n_formulas"]
            if n:
                self._count("pages_with_math")
                self._count("formulas", n)
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
        self._count = _Counters("langid")

    def setup(self):
        from classifiers.langid import LanguageIdentifier

        self.lid = LanguageIdentifier()

    def process(self, rows: list[dict]):
        for row in rows:
            self._count("in")
            lang, score = self.lid.predict(row["text"])
            if self.languages and lang not in self.languages:
                self._count("dropped_language")
                continue
            self._count("out")
            self._count(f"lang_{lang}")
            yield {**row, "language": lang, "language_score": score}


class ScoreFn(beam.DoFn):
    """A batch of rows -> each with the classifier's `score` and the `iteration`; counts pages at or
    above `threshold` and below it. `model`: a `pipelines.shared_model.SharedModel` (one copy per
    machine) or a model path (loaded in this process)."""

    def __init__(self, model, iteration: int | None = None, threshold: float | None = None):
        from pipelines.shared_model import SharedModel

        self.model = model if isinstance(model, SharedModel) else SharedModel(model, shared=False)
        self.iteration = iteration
        self.threshold = threshold
        self._count = _Counters("score")

    def setup(self):
        self.scorer = self.model.acquire()

    def process(self, rows: list[dict]):
        from classifiers.normalize import normalize_for_fasttext

        scores = self.scorer.score_normalized_many([normalize_for_fasttext(r["text"] or "") for r in rows])
        for row, score in zip(rows, scores):
            self._count("in")
            if self.threshold is not None:
                self._count("above_threshold" if score >= self.threshold else "below_threshold")
            yield {**row, "score": score, "iteration": self.iteration}


def score_record(row: dict) -> dict:
    """What `iter_K/scores/` keeps of a scored page (the math_score contract)."""
    return {k: row.get(k) for k in ("id", "url", "domain", "score", "token_count", "language")}


# --- ranking under a token budget ---------------------------------------------------------------------

BINS = 1000


def score_bin(score: float) -> int:
    return min(BINS - 1, max(0, int(score * BINS)))


class TokenHistogram(beam.CombineFn):
    """Pages and tokens per score bin (width 1/BINS): enough to find a budget's cutoff in one pass.
    The accumulator is 2 x BINS integers whatever the crawl's size."""

    def create_accumulator(self):
        return [[0] * BINS, [0] * BINS]

    def add_input(self, acc, item):
        score, tokens = item
        b = score_bin(score)
        acc[0][b] += 1
        acc[1][b] += int(tokens or 0)
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


# --- domain statistics, keyed by score bin ------------------------------------------------------------


def domain_stat_items(row: dict, threshold: float, depth: int):
    """((kind, key), (1, bin or -1)) for the page's domain and URL prefix; the score's bin only for
    pages at or above `threshold` (the only ones the cutoff, which is >= threshold, can collect)."""
    b = score_bin(row["score"]) if row["score"] >= threshold else -1
    for key in stat_keys(row["url"], depth):
        yield key, (1, b)


class DomainBins(beam.CombineFn):
    """(pages, {score bin: pages at or above the threshold}) per domain or prefix: at most BINS
    entries per key, so the counts can wait for the cutoff without holding a single page."""

    def create_accumulator(self):
        return [0, {}]

    def add_input(self, acc, item):
        pages, b = item
        acc[0] += pages
        if b >= 0:
            acc[1][b] = acc[1].get(b, 0) + 1
        return acc

    def merge_accumulators(self, accs):
        out = [0, {}]
        for pages, bins in accs:
            out[0] += pages
            for b, n in bins.items():
                out[1][b] = out[1].get(b, 0) + n
        return out

    def extract_output(self, acc):
        return acc[0], acc[1]


def collected_at(element, cutoff: float, threshold: float):
    """((kind, key), (pages, bins)) -> ((kind, key), (pages, collected at `cutoff`)). The cutoff is
    the threshold itself or a bin edge above it, so the bins count exactly."""
    key, (pages, bins) = element
    if cutoff <= threshold:
        collected = sum(bins.values())
    else:
        first = round(cutoff * BINS)
        collected = sum(n for b, n in bins.items() if b >= first)
    return key, (pages, collected)


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


# --- sampling the classifier's training data ----------------------------------------------------------


def sample_hash(seed: int, row_id: str) -> float:
    """A deterministic number in [0, 1) for (seed, id): who is sampled never depends on workers,
    bundles or retries, and the smallest hashes are the sample at any size."""
    digest = hashlib.blake2b(f"{seed}\0{row_id}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def sample_rate(wanted: int, population: int) -> float:
    """The rate at which a population of at least `population` gives `wanted` rows with
    overwhelming probability (the mean plus six standard deviations of margin), at most 1."""
    if population <= 0:
        return 1.0
    margin = wanted + 6 * wanted**0.5 + 100
    return min(1.0, margin / population)


class SampleRolesFn(beam.DoFn):
    """A candidate (id, url, extraction) -> (id, (role, hash)) if it is sampled for training:
    `positive` (under an approved prefix) at `positive_rate`, `negative` (no formula, not under an
    approved prefix) at `negative_rate`; the rest counted by why they are not."""

    def __init__(self, seed: int, approved: tuple[str, ...], negative_rate: float, positive_rate: float):
        self.seed = seed
        self.approved = tuple(approved)
        self.negative_rate = negative_rate
        self.positive_rate = positive_rate
        self._count = _Counters("training")

    def process(self, row: dict):
        h = sample_hash(self.seed, row["id"])
        if self.approved and under_prefixes(row["url"], self.approved):
            role, rate = "positive", self.positive_rate
        elif (row.get("extraction") or {}).get("n_formulas"):
            self._count("dropped_has_formulas")
            return
        else:
            role, rate = "negative", self.negative_rate
        if h >= rate:
            self._count("dropped_not_sampled")
            return
        self._count(f"sampled_{role}s")
        yield row["id"], (role, h)
