"""Stage 2 of `math run`, once per iteration K: training data, the fastText classifier and its
evaluation, scoring and collecting the candidates, domain and URL-prefix discovery -> `iter_K/`,
its `metrics.json` written last (an iteration with it is complete and is reused)."""

from __future__ import annotations

import dataclasses
import heapq
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.pvalue import AsSingleton

from classifiers.evaluation import best_threshold, binary_metrics
from classifiers.math_classifier import MathClassifier, train_classifier
from deepcorpus.core import datasets, fingerprint, storage
from deepcorpus.core.contracts import DOCUMENTS, MATH_SCORE, WEB_DOC
from deepcorpus.core.errors import UserError
from pipelines import summary
from pipelines.io import ReadDocuments, WriteJsonl, listing_files
from pipelines.math import ledger
from pipelines.math import transforms as T
from pipelines.math.config import MathRunConfig
from pipelines.math.discover import approve, discover, write_review
from pipelines.parts import ApplyByPart, ReadParts
from pipelines.shared_model import SharedModel
from pipelines.stage import Stage

log = logging.getLogger(__name__)



@dataclass
class Iteration:
    k: int
    dir: str
    metrics: dict

    @property
    def model(self) -> str:
        return storage.join(self.dir, "model.bin")

    @property
    def collected(self) -> str:
        return storage.join(self.dir, "collected")

    @property
    def seed_added(self) -> str:
        return storage.join(self.dir, "training", "seed_added")

    @property
    def approved(self) -> list[str]:
        return [p["prefix"] for p in self.metrics.get("prefixes", []) if p.get("approved")]


def load_labelled(path: str) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for i, row in enumerate(datasets.iter_jsonl(path) if not path.endswith(".parquet") else
                            datasets.read_parquet(path).to_pylist()):
        if "text" not in row or "label" not in row:
            raise UserError(f"{path}: row {i + 1} needs 'text' and 'label' (1 = math, 0 = not)")
        datasets.check_text(row["text"], path, i + 1)
        if row["label"] not in (0, 1, "0", "1"):  # True and False are 1 and 0 too
            raise UserError(f"{path}: row {i + 1}: label must be 1 (math) or 0 (not), not {row['label']!r}")
        texts.append(row["text"])
        labels.append(int(row["label"]))
    if not texts or len(set(labels)) < 2:
        raise UserError(f"{path}: the evaluation set needs both math (1) and non-math (0) rows")
    return texts, labels


def web_docs(path: str) -> datasets.Source:
    return datasets.resolve_input(path, WEB_DOC)


def write_json(path: str, obj) -> None:
    storage.write_bytes_atomic(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode())


def read_json(path: str):
    return json.loads(storage.read_bytes(path))


def smallest_by_hash(rows, k: int, seed: int) -> list[dict]:
    """The k rows of smallest `sample_hash(seed, id)`: the sampled rows trimmed to the cap, the same
    rows whatever order they arrive in (the sample is a rate, so it holds a few more than k)."""
    return heapq.nsmallest(k, rows, key=lambda r: T.sample_hash(seed, r["id"]))


def _pipeline_options(beam_args: list[str]):
    from pipelines.runner import pipeline_options

    return pipeline_options(beam_args)


def _share(model: str, beam_args: list[str]) -> bool:
    from pipelines import worker_paths
    from pipelines.shared_model import should_share

    options = _pipeline_options(beam_args)
    in_memory = "in_memory" in " ".join(beam_args)
    return should_share(model, worker_paths.remote_runner(options) is not None, in_memory)


# --- the seed, sampled once per run -------------------------------------------------------------------


def seed_rows_estimate(source: datasets.Source) -> int:
    """The seed's row count from metadata (a dataset's manifest, Parquet footers); for JSONL an
    estimate from the bytes and the first MiB's lines, halved: the sample rate errs high, the
    launcher trims."""
    if source.dataset is not None:
        return source.dataset.row_count
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        total = 0
        for f in source.files:
            with storage.open_random(f) as handle:
                total += pq.ParquetFile(handle).metadata.num_rows
        return total
    total_bytes = sum(storage.size(f) for f in source.files)
    head = storage.peek(source.files[0], 1 << 20)
    lines = max(1, head.count(b"\n"))
    return int(total_bytes / (len(head) / lines) / 2)


def seed_sample(cfg: MathRunConfig, beam_args: list[str], command: list[str]) -> tuple[str, dict]:
    """`seed_sample/`: the seed's rows sampled once per run at the rate its size gives, by a hash of
    (seed, id) (at most `max_positives`, after the launcher's trim); reused by every iteration."""
    path = storage.join(cfg.output, "seed_sample")
    k, seed = cfg.classifier.max_positives, cfg.classifier.seed
    options = {"max_positives": k, "seed": seed}
    manifest, changed = datasets.reusable(path, fingerprint.make([cfg.seed], options, base=cfg.output))
    if manifest is not None:
        return path, manifest.get("counters", {})
    source = datasets.resolve_input(cfg.seed)
    rate = T.sample_rate(k, seed_rows_estimate(source))
    if source.dataset is None:  # the files workers open: staged copies on remote runners
        source = dataclasses.replace(source, files=[cfg.for_workers(f) for f in source.files])
    with Stage("seed sample", beam_args, command=command) as stage:
        _ = (
            stage.pipeline
            | "ReadSeed" >> ReadDocuments([source], columns=["id", "text"], progress=stage.progress("rows"))
            | "Sample" >> beam.ParDo(_SampleSeedFn(seed, rate))
            | "WriteSeedSample" >> stage.write(path, DOCUMENTS, inputs=[cfg.seed], options=options, replace=True,
                                               base=cfg.output)
        )
        counters = stage.run()
        s = counters.get("seed", {})
        ledger.check([summary.Balance("seed", s.get("in", 0), {"sampled": s.get("sampled", 0)},
                                      {"not_sampled": s.get("dropped_not_sampled", 0)})])
        ledger.committed(path, s.get("sampled", 0), stage.written_rows(path))
        stage.commit(path, extra={"counters": counters, "rate": rate})
    return path, counters


class _SampleSeedFn(beam.DoFn):
    def __init__(self, seed: int, rate: float):
        self.seed, self.rate = seed, rate
        self.seen = Metrics.counter("seed", "in")
        self.kept = Metrics.counter("seed", "sampled")
        self.dropped = Metrics.counter("seed", "dropped_not_sampled")

    def process(self, row):
        self.seen.inc()
        if not row.get("text") or T.sample_hash(self.seed, str(row["id"])) >= self.rate:
            self.dropped.inc()
            return
        self.kept.inc()
        yield {"id": str(row["id"]), "text": row["text"]}


# --- training data ------------------------------------------------------------------------------------


class _ExcludeCollectedFn(beam.DoFn):
    """(id, {cand: [(part, role, hash)], prev: [...]}) -> (part, (id, role)) unless collected before."""

    def __init__(self):
        self.before = Metrics.counter("training", "collected_before")

    def process(self, element):
        row_id, joined = element
        for part, role, _ in joined["cand"]:
            if joined["prev"]:
                self.before.inc()
            else:
                yield part, (row_id, role)


class _SplitRolesFn(beam.DoFn):
    def __init__(self):
        self.neg = Metrics.counter("training", "negatives")
        self.pos = Metrics.counter("training", "positives")

    def process(self, row):
        role = row.pop("_role")
        if role == "positive":
            self.pos.inc()
            yield beam.pvalue.TaggedOutput("positive", row)
        else:
            self.neg.inc()
            yield {"id": row["id"], "url": row["url"], "text": row["text"]}


def sample_rates(cfg: MathRunConfig, prev: Iteration | None) -> tuple[float, float]:
    """(negative rate, positive rate) from the counts the manifests give: candidates without a
    formula, less the previous iteration's collected pages; the approved prefixes' uncollected pages."""
    manifest = datasets.read_manifest(storage.join(cfg.output, "candidates"))
    counts = (manifest.get("counters") or {}).get("candidates", {})
    without = counts.get("without_formulas", manifest["row_count"])
    negatives = max(1, without - (prev.metrics.get("n_collected", 0) if prev else 0))
    approved = [p for p in (prev.metrics.get("prefixes", []) if prev else []) if p.get("approved")]
    if any(p.get("uncollected") is None for p in approved):
        positive_rate = 1.0  # a prefix approved by annotation only: its size is unknown
    else:
        positive_rate = T.sample_rate(cfg.classifier.max_positives, sum(p["uncollected"] for p in approved))
    return T.sample_rate(cfg.classifier.max_negatives, negatives), positive_rate


def training_data(cfg: MathRunConfig, it_dir: str, prev: Iteration | None, beam_args: list[str],
                  command: list[str]) -> dict:
    """Sample negatives and positives (uncollected pages under approved prefixes) from the
    candidates by a hash of (seed, id), at the rates the counts give, in parallel; the launcher
    trims them to the caps. Pages the previous iteration collected are left out (by its stored
    `collected/` ids: nothing is scored again)."""
    candidates = storage.join(cfg.output, "candidates")
    approved = tuple(prev.approved) if prev else ()
    negative_rate, positive_rate = sample_rates(cfg, prev)
    seed_added = storage.join(it_dir, "training", "seed_added")
    negatives = storage.join(it_dir, "training", "negatives.jsonl")
    inputs = [candidates] + ([prev.collected] if prev else [])
    with Stage("training data", beam_args, command=command) as stage:
        stage.track_jsonl(negatives, sharded=True)
        p = stage.pipeline
        roles = (
            p
            | "ReadCandidates" >> ReadParts(candidates, ["id", "url", "extraction"], with_part=True,
                                            progress=stage.progress("rows"))
            | "SampleRoles" >> beam.ParDo(_RolesWithPart(cfg.classifier.seed, approved, negative_rate, positive_rate))
        )
        if prev is not None:
            previous = (
                p
                | "ReadPrevious" >> ReadParts(prev.collected, ["id"])
                | "PreviousIds" >> beam.Map(lambda r: (r["id"], None))
            )
            decisions = ({"cand": roles, "prev": previous} | "JoinPrevious" >> beam.CoGroupByKey()
                         | "NotCollectedBefore" >> beam.ParDo(_ExcludeCollectedFn()))
        else:
            decisions = roles | "ByPart" >> beam.Map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
        split = (
            decisions
            | "PickRows" >> ApplyByPart(candidates, "keep", merge=lambda row, role: {**row, "_role": role},
                                        stage="training_pick")
            | "SplitRoles" >> beam.ParDo(_SplitRolesFn()).with_outputs("positive", main="negative")
        )
        _ = split.negative | "WriteNegatives" >> stage.write_jsonl(negatives, sharded=True)
        _ = split.positive | "WriteSeedAdded" >> stage.write(
            seed_added, WEB_DOC, inputs=inputs, replace=True, base=cfg.output,
            options={"approved_prefixes": list(approved), "rates": [negative_rate, positive_rate],
                     "seed": cfg.classifier.seed})
        counters = stage.run()
        n_candidates = datasets.read_manifest(candidates)["row_count"]
        lines = ledger.lines(ledger.training(counters, n_candidates))
        ledger.committed(seed_added, counters.get("training", {}).get("positives", 0), stage.written_rows(seed_added))
        stage.commit(seed_added, extra={"approved_prefixes": list(approved), "counters": counters})
    counters["_conservation"] = lines
    return counters


class _RolesWithPart(T.SampleRolesFn):
    """(part, candidate) -> (id, (part, role, hash)) for the sampled ones."""

    def process(self, element):
        part, row = element
        for row_id, (role, h) in super().process(row):
            yield row_id, (part, role, h)


def train_model(cfg: MathRunConfig, it_dir: str, earlier: list[Iteration]) -> tuple[MathClassifier, dict]:
    """fastText on the seed sample (+ the pages discovery added so far) against the sampled
    negatives, each trimmed to its cap by the smallest hashes."""
    k_pos, k_neg, seed = cfg.classifier.max_positives, cfg.classifier.max_negatives, cfg.classifier.seed
    added_rows = []
    for it in earlier + [Iteration(0, it_dir, {})]:
        if storage.exists(storage.join(it.seed_added, datasets.MANIFEST)):
            added_rows.extend(datasets.open_dataset(it.seed_added).iter_rows(["id", "text"]))
    added = [r["text"] for r in smallest_by_hash(added_rows, k_pos, seed)]
    sample = datasets.open_dataset(storage.join(cfg.output, "seed_sample"))
    positives = [r["text"] for r in smallest_by_hash(sample.iter_rows(["id", "text"]), k_pos - len(added), seed)]
    positives += added  # the pages found by discovery win places over the seed
    negatives = [r["text"] for r in smallest_by_hash(
        (row for f in listing_files(storage.join(it_dir, "training", "negatives.jsonl"))
         for row in datasets.iter_jsonl(f)), k_neg, seed)]
    if not negatives:
        raise UserError(f"{cfg.output}: no negative examples: the crawl has no page without formulas to sample")
    model_path = storage.join(it_dir, "model.bin")
    local = model_path
    if storage.is_remote(model_path):
        local = tempfile.mkdtemp() + "/model.bin"
    try:
        clf = train_classifier(positives, negatives, local, cfg.classifier)
    except ValueError as e:
        raise UserError(f"{model_path}: {e}") from None
    if local != model_path:
        for suffix in ("", ".json"):
            with open(local + suffix, "rb") as src, storage.open_write(model_path + suffix) as dst:
                for block in iter(lambda: src.read(8 << 20), b""):
                    dst.write(block)
        shutil.rmtree(os.path.dirname(local), ignore_errors=True)
    info = {k: clf.info[k] for k in ("positives", "negatives", "epochs", "bucket")}
    info["seed_added_used"] = len(added)
    return clf, info


def evaluate(cfg: MathRunConfig, clf: MathClassifier) -> tuple[float, dict]:
    texts, labels = load_labelled(cfg.eval_path)
    scores = clf.score_many(texts)
    threshold = cfg.threshold if cfg.threshold is not None else best_threshold(scores, labels)
    metrics = binary_metrics(scores, labels, threshold)
    metrics["eval_set"] = cfg.eval_path
    return threshold, metrics


# --- scoring and collecting ---------------------------------------------------------------------------


class _AboveFn(beam.DoFn):
    def __init__(self, threshold: float):
        self.threshold = threshold

    def process(self, row):
        if row["score"] >= self.threshold:
            yield row


def score_pipeline(cfg: MathRunConfig, k: int, it_dir: str, threshold: float, beam_args: list[str],
                   command: list[str]) -> tuple[dict, list[str]]:
    """Score every candidate -> `scores/` (all), `above/` (pages at or above the threshold, whole),
    the score histogram and the domain statistics. Nothing waits at a barrier but aggregates: the
    pages below the threshold stream to `scores/` only, domain counts are kept per score bin and
    turned into collected counts once the cutoff is known."""
    candidates = storage.join(cfg.output, "candidates")
    model = storage.join(it_dir, "model.bin")
    depth = cfg.discovery.prefix_depth
    scores, above = storage.join(it_dir, "scores"), storage.join(it_dir, "above")
    inputs = [candidates, model]
    with Stage(f"iteration {k}: score", beam_args, command=command) as stage:
        stage.track_jsonl(storage.join(it_dir, "domain_stats.jsonl"))
        stage.track_jsonl(storage.join(it_dir, "score_histogram.json"))
        scored = (
            stage.pipeline
            | "ReadCandidates" >> ReadParts(candidates, progress=stage.progress("rows"))
            | "Batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "Score" >> beam.ParDo(T.ScoreFn(SharedModel(model, _share(model, beam_args)), k, threshold))
        )
        _ = scored | "ScoreRecord" >> beam.Map(T.score_record) | "WriteScores" >> stage.write(
            scores, MATH_SCORE, inputs=inputs, options={"iteration": k}, replace=True, base=cfg.output)
        _ = scored | "Above" >> beam.ParDo(_AboveFn(threshold)) | "WriteAbove" >> stage.write(
            above, WEB_DOC, inputs=inputs, options={"iteration": k, "threshold": threshold}, replace=True,
            base=cfg.output)
        hist = (scored | "ScoreTokens" >> beam.Map(lambda r: (r["score"], r["token_count"]))
                | "ScoreHistogram" >> beam.CombineGlobally(T.TokenHistogram()))
        cutoff = hist | "Cutoff" >> beam.Map(T.budget_cutoff, threshold, cfg.token_budget)
        _ = (
            scored
            | "DomainKeys" >> beam.FlatMap(T.domain_stat_items, threshold, depth)
            | "CountPages" >> beam.CombinePerKey(T.DomainBins())
            | "AtCutoff" >> beam.Map(T.collected_at, AsSingleton(cutoff), threshold)
            | "ByDomain" >> beam.Map(lambda kv: (kv[0][1].split("/", 1)[0], (kv[0][0], kv[0][1], kv[1][0], kv[1][1])))
            | "GroupDomain" >> beam.GroupByKey()
            | "MathDomains" >> beam.FlatMap(T.math_domain_stats, cfg.discovery.domain_share)
            | "StatRecord" >> beam.Map(lambda e: {"kind": e[0], "key": e[1], "pages": e[2], "collected": e[3]})
            | "WriteDomainStats" >> WriteJsonl(storage.join(it_dir, "domain_stats.jsonl"))
        )
        _ = (
            hist
            | "HistRecord" >> beam.Map(lambda h, c: {"cutoff": c, **h}, AsSingleton(cutoff))
            | "WriteHistogram" >> WriteJsonl(storage.join(it_dir, "score_histogram.json"))  # one line: a JSON file
        )
        counters = stage.run()
        n_candidates = datasets.read_manifest(candidates)["row_count"]
        lines = ledger.lines(ledger.score(counters, n_candidates))
        s = counters.get("score", {})
        ledger.committed(scores, s.get("in", 0), stage.written_rows(scores))
        ledger.committed(above, s.get("above_threshold", 0), stage.written_rows(above))
        stage.commit(scores, extra={"iteration": k})
        stage.commit(above, extra={"iteration": k, "threshold": threshold})
    return counters, lines


class _CollectFn(beam.DoFn):
    """Keeps rows scored at or above the cutoff."""

    def __init__(self, cutoff: float):
        self.cutoff = cutoff
        self.kept = Metrics.counter("collect", "collected")
        self.tokens = Metrics.counter("collect", "tokens")
        self.below = Metrics.counter("collect", "below_cutoff")

    def process(self, row: dict):
        if row["score"] >= self.cutoff:
            self.kept.inc()
            self.tokens.inc(int(row["token_count"] or 0))
            yield row
        else:
            self.below.inc()


class _OverlapFn(beam.DoFn):
    """(id, {cur: [part], prev: [iteration]}) -> the overlap counters, and (part, (id, iteration))
    for pages collected before: they keep the iteration that first collected them."""

    def __init__(self):
        self.both = Metrics.counter("overlap", "also_collected_before")
        self.new = Metrics.counter("overlap", "newly_collected")
        self.lost = Metrics.counter("overlap", "no_longer_collected")

    def process(self, element):
        row_id, joined = element
        before, current = joined["prev"], joined["cur"]
        if not current:
            if before:
                self.lost.inc()
            return
        for part in current:
            if before:
                self.both.inc()
                yield part, (row_id, before[0])
            else:
                self.new.inc()


def collect_pipeline(cfg: MathRunConfig, k: int, it_dir: str, threshold: float, cutoff: float,
                     prev: Iteration | None, beam_args: list[str], command: list[str]) -> tuple[dict, list[str]]:
    """`collected/`: the pages of `above/` at or above the cutoff, each with the iteration that first
    collected it (a join of ids with the previous iteration's, applied part by part)."""
    above = storage.join(it_dir, "above")
    collected_path = storage.join(it_dir, "collected")
    inputs = [storage.join(cfg.output, "candidates"), storage.join(it_dir, "model.bin")] + \
        ([prev.collected] if prev else [])
    options = {"iteration": k, "threshold": threshold, "token_budget": cfg.token_budget}
    with Stage(f"iteration {k}: collect", beam_args, command=command) as stage:
        p = stage.pipeline
        if prev is not None:
            current = (
                p
                | "ReadAbove" >> ReadParts(above, ["id", "score"], with_part=True)
                | "AtCutoff" >> beam.Filter(lambda pr: pr[1]["score"] >= cutoff)
                | "CurrentIds" >> beam.Map(lambda pr: (pr[1]["id"], pr[0]))
            )
            previous = (
                p
                | "ReadPrevious" >> ReadParts(prev.collected, ["id", "iteration"])
                | "PreviousIds" >> beam.Map(lambda r: (r["id"], r["iteration"]))
            )
            decisions = ({"cur": current, "prev": previous} | "JoinPrevious" >> beam.CoGroupByKey()
                         | "FirstIteration" >> beam.ParDo(_OverlapFn()))
        else:
            decisions = p | "NoPrevious" >> beam.Create([])
        _ = (
            decisions
            | "Apply" >> ApplyByPart(above, "update", merge=lambda row, first: {**row, "iteration": first},
                                     stage="collect_read", progress=stage.progress("rows"))
            | "Collect" >> beam.ParDo(_CollectFn(cutoff))
            | "WriteCollected" >> stage.write(collected_path, WEB_DOC, inputs=inputs, options=options,
                                              replace=True, base=cfg.output)
        )
        counters = stage.run()
        n_above = datasets.read_manifest(above)["row_count"]
        lines = ledger.lines(ledger.collect(counters, n_above))
        ledger.committed(collected_path, counters.get("collect", {}).get("collected", 0),
                         stage.written_rows(collected_path))
        stage.commit(collected_path, extra={"iteration": k, "threshold": threshold, "cutoff": cutoff})
    storage.remove_tree(above)  # our intermediate: collected/ holds what matters of it
    return counters, lines


def discover_prefixes(cfg: MathRunConfig, k: int, it_dir: str, annotations: dict | None) -> dict:
    stats = {}
    raw = storage.read_bytes(storage.join(it_dir, "domain_stats.jsonl")).decode()
    for line in raw.splitlines():
        if line.strip():
            s = json.loads(line)
            stats[(s["kind"], s["key"])] = [s["pages"], s["collected"]]
    found = approve(discover(stats, cfg.discovery), annotations, cfg.discovery.auto_approve)
    write_review(storage.join(it_dir, "discovery.yaml"), found, k)
    return {"domains": found.domains, "prefixes": found.prefixes}


def iteration_fingerprint(cfg: MathRunConfig, k: int, prev: Iteration | None) -> dict:
    """What iteration K's datasets and classifier depend on: the candidates, seed and labelled set,
    the previous iteration (its collected dataset's commit, so a redone iteration redoes the ones
    after it, and the prefixes it approved), the classifier, threshold and budget, and the code."""
    import dataclasses

    inputs = [storage.join(cfg.output, "candidates"), cfg.seed, cfg.eval_path] + ([prev.collected] if prev else [])
    options = {"iteration": k, "threshold": cfg.threshold, "token_budget": cfg.token_budget,
               "classifier": dataclasses.asdict(cfg.classifier), "prefix_depth": cfg.discovery.prefix_depth,
               "previous_approved": prev.approved if prev else []}
    return fingerprint.make(inputs, options, base=cfg.output)


def discovery_fingerprint(cfg: MathRunConfig) -> dict:
    """What iteration K's prefix review depends on beyond its pages: the annotations and the
    discovery settings. A change redoes only the discovery (and the iterations after it)."""
    d = cfg.discovery
    options = {"domain_share": d.domain_share, "prefix_share": d.prefix_share, "min_prefix_pages": d.min_prefix_pages,
               "auto_approve": d.auto_approve}
    return fingerprint.make([cfg.approved_path] if cfg.approved_path else [], options)


def run_iteration(cfg: MathRunConfig, k: int, earlier: list[Iteration], annotations: dict | None,
                  beam_args: list[str], command: list[str]) -> Iteration:
    it_dir = storage.join(cfg.output, f"iter_{k}")
    metrics_path = storage.join(it_dir, "metrics.json")
    prev = earlier[-1] if earlier else None
    current = iteration_fingerprint(cfg, k, prev)
    review = discovery_fingerprint(cfg)
    if storage.exists(metrics_path):
        done = Iteration(k, it_dir, read_json(metrics_path))
        changed = fingerprint.changes(done.metrics.get("fingerprint"), current)
        if not changed:
            try:
                datasets.open_dataset(done.collected, WEB_DOC)
            except UserError as e:
                changed = [str(e)]
        if not changed:
            redo = fingerprint.changes(done.metrics.get("discovery_fingerprint"), review)
            if not redo:
                log.info("iteration %d: complete in %s (same inputs, options and code), reusing it", k, it_dir)
                return done
            log.info("iteration %d: reusing its pages and classifier, redoing prefix discovery: %s", k,
                     "; ".join(redo[:5]))
            found = discover_prefixes(cfg, k, it_dir, annotations)
            done.metrics.update(domains=found["domains"], prefixes=found["prefixes"], discovery_fingerprint=review)
            write_json(metrics_path, done.metrics)
            return done
        log.info("iteration %d: recomputing: %s", k, "; ".join(changed[:5]) + (" ..." if len(changed) > 5 else ""))
        storage.remove_file(metrics_path)  # first: a crash while redoing must not look complete
    elif storage.exists(it_dir):
        log.info("iteration %d: %s is incomplete, redoing it", k, it_dir)
    storage.makedirs(it_dir)
    start = time.time()
    seed_sample(cfg, beam_args, command)  # once per run: reused while the seed is unchanged
    counters = training_data(cfg, it_dir, prev, beam_args, command)
    conservation = counters.pop("_conservation")
    clf, training = train_model(cfg, it_dir, earlier)
    threshold, classifier_metrics = evaluate(cfg, clf)
    del clf  # the launcher's copy (up to ~2 GB at DeepSeekMath's size) is not needed while workers score
    log.info("iteration %d: classifier on %s: precision %.3f recall %.3f F1 %.3f at threshold %.2f", k,
             cfg.eval_path, classifier_metrics["precision"], classifier_metrics["recall"], classifier_metrics["f1"],
             threshold)
    scored, lines = score_pipeline(cfg, k, it_dir, threshold, beam_args, command)
    conservation += lines
    hist = read_json(storage.join(it_dir, "score_histogram.json"))
    collected_counters, lines = collect_pipeline(cfg, k, it_dir, threshold, hist["cutoff"], prev, beam_args, command)
    conservation += lines
    counters = summary.merge(counters, scored, collected_counters)
    found = discover_prefixes(cfg, k, it_dir, annotations)
    collected = counters.get("collect", {}).get("collected", 0)
    overlap = counters.get("overlap", {})
    both = overlap.get("also_collected_before", 0)
    new = overlap.get("newly_collected", collected) if prev else collected
    bins = histogram_bins(hist)
    metrics = {
        "iteration": k,
        "n_candidates": counters.get("score", {}).get("in", 0),
        "n_collected": collected,
        "tokens_collected": counters.get("collect", {}).get("tokens", 0),
        "n_new": new,
        "n_no_longer_collected": overlap.get("no_longer_collected", 0),
        "overlap_with_previous": round(both / collected, 4) if prev and collected else None,
        "threshold": threshold,
        "cutoff": hist["cutoff"],
        "token_budget": cfg.token_budget,
        "classifier": classifier_metrics,
        "training": training,
        "score_histogram": bins,
        "domains": found["domains"],
        "prefixes": found["prefixes"],
        "seed_added": counters.get("training", {}).get("positives", 0),
        "counters": counters,
        "conservation": conservation,
        "elapsed_s": round(time.time() - start, 2),
        "fingerprint": current,
        "discovery_fingerprint": review,
    }
    write_json(metrics_path, metrics)  # last: marks the iteration complete
    return Iteration(k, it_dir, metrics)


def histogram_bins(hist: dict, bins: int = 10) -> list[dict]:
    """The pipeline's fine histogram folded into `bins` equal bins (pages and tokens)."""
    width = len(hist["pages"]) // bins
    out = []
    for b in range(bins):
        sl = slice(b * width, (b + 1) * width)
        out.append({"lo": round(b / bins, 3), "hi": round((b + 1) / bins, 3), "count": sum(hist["pages"][sl]),
                    "tokens": sum(hist["tokens"][sl])})
    return out
