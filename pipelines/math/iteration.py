"""Stage 2 of `math run`, once per iteration K: training data, the fastText classifier and its
evaluation, scoring and collecting the candidates, domain and URL-prefix discovery -> `iter_K/`,
its `metrics.json` written last (an iteration with it is complete and is reused)."""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.pvalue import AsSingleton

from classifiers.evaluation import best_threshold, binary_metrics
from classifiers.math_classifier import MathClassifier, train_classifier
from deepcorpus.core import datasets, fingerprint, storage
from deepcorpus.core.contracts import MATH_SCORE, WEB_DOC
from deepcorpus.core.errors import UserError
from pipelines import summary
from pipelines.io import ReadDocuments
from pipelines.math import transforms as T
from pipelines.math.config import MathRunConfig
from pipelines.math.discover import approve, discover, write_review
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


def reservoir(rows, k: int, seed: int) -> list:
    rng = random.Random(seed)
    out: list = []
    for i, row in enumerate(rows):
        if i < k:
            out.append(row)
        else:
            j = rng.randint(0, i)
            if j < k:
                out[j] = row
    return out


def web_docs(path: str) -> datasets.Source:
    return datasets.resolve_input(path, WEB_DOC)


def write_json(path: str, obj) -> None:
    storage.write_bytes_atomic(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode())


def read_json(path: str):
    return json.loads(storage.read_bytes(path))


def training_data(cfg: MathRunConfig, it_dir: str, prev: Iteration | None, beam_args: list[str],
                  command: list[str]) -> dict:
    """Sample negatives from the candidates and gather uncollected pages under approved prefixes."""
    candidates = web_docs(storage.join(cfg.output, "candidates"))
    approved = tuple(prev.approved) if prev else ()
    model = prev.model if prev else None
    cutoff = prev.metrics["cutoff"] if prev else None
    seed_added = storage.join(it_dir, "training", "seed_added")
    stage = Stage("training data", beam_args, command=command)
    negatives = storage.join(it_dir, "training", "negatives.jsonl")
    inputs = [candidates.dataset.path] + ([model] if model else [])
    routed = (
        stage.pipeline
        | "ReadCandidates" >> ReadDocuments([candidates])
        | "Route" >> beam.ParDo(T.TrainingCandidateFn(approved, model, cutoff)).with_outputs("positive", main="negative")
    )
    _ = (
        routed.negative
        | "SampleNegatives" >> beam.combiners.Sample.FixedSizeGlobally(cfg.classifier.max_negatives)
        | "Negatives" >> beam.FlatMap(lambda rows: sorted(rows, key=lambda r: r["id"]))
        | "NegativeRecord" >> beam.Map(lambda r: {"id": r["id"], "url": r["url"], "text": r["text"]})
        | "WriteNegatives" >> stage.write_jsonl(negatives)
    )
    with stage:
        _ = (
            routed.positive
            | "SamplePositives" >> beam.combiners.Sample.FixedSizeGlobally(cfg.classifier.max_positives)
            | "Positives" >> beam.FlatMap(lambda rows: rows)
            | "WriteSeedAdded" >> stage.write(seed_added, WEB_DOC, inputs=inputs, replace=True, base=cfg.output,
                                              options={"approved_prefixes": list(approved), "cutoff": cutoff,
                                                       "max_positives": cfg.classifier.max_positives})
        )
        counters = stage.run()
        stage.commit(seed_added, extra={"approved_prefixes": list(approved)})
    return counters


def train_model(cfg: MathRunConfig, it_dir: str, earlier: list[Iteration]) -> tuple[MathClassifier, dict]:
    seed = datasets.resolve_input(cfg.seed)
    positives = reservoir((r["text"] for r in datasets.iter_source_rows(seed, ["text"])),
                          cfg.classifier.max_positives, cfg.classifier.seed)
    added = 0
    for it in earlier + [Iteration(0, it_dir, {})]:
        if storage.exists(storage.join(it.seed_added, datasets.MANIFEST)):
            for row in datasets.open_dataset(it.seed_added).iter_rows(["text"]):
                positives.append(row["text"])
                added += 1
    positives = positives[-cfg.classifier.max_positives:]  # pages found by discovery first
    negatives = [r["text"] for r in datasets.iter_jsonl(storage.join(it_dir, "training", "negatives.jsonl"))] \
        if storage.exists(storage.join(it_dir, "training", "negatives.jsonl")) else []
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
        storage.write_bytes_atomic(model_path, open(local, "rb").read())
        storage.write_bytes_atomic(model_path + ".json", open(local + ".json", "rb").read())
    info = {k: clf.info[k] for k in ("positives", "negatives", "epochs", "bucket")}
    info["seed_added_used"] = added
    return clf, info


def evaluate(cfg: MathRunConfig, clf: MathClassifier) -> tuple[float, dict]:
    texts, labels = load_labelled(cfg.eval_path)
    scores = clf.score_many(texts)
    threshold = cfg.threshold if cfg.threshold is not None else best_threshold(scores, labels)
    metrics = binary_metrics(scores, labels, threshold)
    metrics["eval_set"] = cfg.eval_path
    return threshold, metrics


def score_and_collect(cfg: MathRunConfig, k: int, it_dir: str, threshold: float, prev: Iteration | None,
                      beam_args: list[str], command: list[str]) -> dict:
    candidates = web_docs(storage.join(cfg.output, "candidates"))
    model = storage.join(it_dir, "model.bin")
    collected_path = storage.join(it_dir, "collected")
    depth = cfg.discovery.prefix_depth
    stage = Stage(f"iteration {k}: score and collect", beam_args, command=command)
    p = stage.pipeline
    inputs = [candidates.dataset.path, model] + ([prev.collected] if prev else [])
    options = {"iteration": k, "threshold": threshold, "token_budget": cfg.token_budget}
    scored = (
        p
        | "ReadCandidates" >> ReadDocuments([candidates])
        | "Score" >> beam.ParDo(T.ScoreFn(model, k, threshold))
    )
    hist = scored | "ScoreHistogram" >> beam.CombineGlobally(T.TokenHistogram())
    cutoff = hist | "Cutoff" >> beam.Map(T.budget_cutoff, threshold, cfg.token_budget)
    collected = scored | "Collect" >> beam.ParDo(T.CollectFn(), AsSingleton(cutoff))
    if prev is not None:
        previous = (
            p
            | "ReadPrevious" >> ReadDocuments([web_docs(prev.collected)], columns=["id", "iteration"])
            | "PreviousById" >> beam.Map(lambda r: (r["id"], r["iteration"]))
        )
        collected = (
            {"current": collected | "ById" >> beam.Map(lambda r: (r["id"], r)), "previous": previous}
            | "JoinPrevious" >> beam.CoGroupByKey()
            | "FirstIteration" >> beam.ParDo(T.FirstIterationFn())
        )
    with stage:  # from the first output on: whatever fails releases the locks and removes the parts
        _ = collected | "WriteCollected" >> stage.write(collected_path, WEB_DOC, inputs=inputs, options=options,
                                                        replace=True, base=cfg.output)
        _ = scored | "WriteScores" >> stage.write(storage.join(it_dir, "scores"), MATH_SCORE, inputs=inputs[:2],
                                                  options={"iteration": k}, replace=True, base=cfg.output)
        _ = (
            scored
            | "DomainKeys" >> beam.FlatMap(T.domain_stat_items, AsSingleton(cutoff), depth)
            | "CountPages" >> beam.CombinePerKey(T.sum_pairs)
            | "ByDomain" >> beam.Map(lambda kv: (kv[0][1].split("/", 1)[0], (kv[0][0], kv[0][1], kv[1][0], kv[1][1])))
            | "GroupDomain" >> beam.GroupByKey()
            | "MathDomains" >> beam.FlatMap(T.math_domain_stats, cfg.discovery.domain_share)
            | "StatRecord" >> beam.Map(lambda e: {"kind": e[0], "key": e[1], "pages": e[2], "collected": e[3]})
            | "WriteDomainStats" >> stage.write_jsonl(storage.join(it_dir, "domain_stats.jsonl"))
        )
        _ = (
            hist
            | "HistRecord" >> beam.Map(lambda h, c: {"cutoff": c, **h}, AsSingleton(cutoff))
            | "WriteHistogram" >> stage.write_jsonl(storage.join(it_dir, "score_histogram.json"))  # one line: a JSON file
        )
        counters = stage.run()
        stage.commit(storage.join(it_dir, "scores"), extra={"iteration": k})
        stage.commit(collected_path, extra={"iteration": k, "threshold": threshold})
    return counters


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
    counters = training_data(cfg, it_dir, prev, beam_args, command)
    clf, training = train_model(cfg, it_dir, earlier)
    threshold, classifier_metrics = evaluate(cfg, clf)
    log.info("iteration %d: classifier on %s: precision %.3f recall %.3f F1 %.3f at threshold %.2f", k,
             cfg.eval_path, classifier_metrics["precision"], classifier_metrics["recall"], classifier_metrics["f1"],
             threshold)
    counters = summary.merge(counters, score_and_collect(cfg, k, it_dir, threshold, prev, beam_args, command))
    found = discover_prefixes(cfg, k, it_dir, annotations)
    hist = read_json(storage.join(it_dir, "score_histogram.json"))
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
        "seed_added": counters.get("training", {}).get("seed_added_candidates", 0),
        "counters": counters,
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
