"""`deepcorpus math run`: DeepSeekMath's iterative mining loop, one Beam pipeline per stage.

    candidates/            read + extract + language ID + URL dedup + MinHash near-dedup (once)
    iter_K/training/       negatives sampled from the crawl; seed_added/ = uncollected pages under
                           prefixes approved in iteration K-1 (they join the seed)
    iter_K/model.bin       fastText classifier trained on seed (+ seed_added so far) vs negatives
    iter_K/scores/         id, url, domain, score, token_count, language of every candidate (Parquet)
    iter_K/collected/      web_doc dataset: candidates at or above the cutoff (threshold, token budget)
    iter_K/domain_stats.jsonl, iter_K/discovery.yaml  math domains and proposed/approved URL prefixes
    iter_K/metrics.json    written last: its presence marks the iteration complete (resume reuses it)
    corpus/                the last iteration's collected set, decontaminated against --benchmark
    summary.json           command, counters per stage, per-iteration metrics, elapsed time

The loop stops after --iterations or once the share of this iteration's collected pages that the
previous iteration had already collected reaches --stop-overlap (DeepSeekMath stopped at ~98%).
"""

from __future__ import annotations

import json
import logging
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import apache_beam as beam
import pyarrow as pa
from apache_beam.pvalue import AsSingleton

from classifiers.evaluation import best_threshold, binary_metrics
from classifiers.math_classifier import ClassifierConfig, MathClassifier, train_classifier
from deepcorpus import samples
from deepcorpus.core import datasets, storage
from deepcorpus.core.contracts import WEB_DOC
from deepcorpus.core.errors import UserError
from pipelines import summary
from pipelines.io import ReadDocuments, WriteDataset, WriteJsonl
from pipelines.math import transforms as T
from pipelines.math.discover import DiscoveryConfig, approve, discover, load_annotations, write_review
from pipelines.math.documents import MIN_CHARS
from pipelines.runner import quiet_beam_logging
from pipelines.stage import Stage

log = logging.getLogger(__name__)

# Chosen on the bundled labelled set (deepcorpus/samples/math_eval.jsonl): at iteration 1 F1 is flat
# (0.93) from 0.1 to 0.7, at iteration 2 it is 1.0 up to 0.3 and 0.97 at 0.5, falling above 0.7; 0.5
# lies in both plateaus and is MegaMath's threshold for its fastText math classifier. `--threshold
# auto` re-picks the best-F1 threshold on --eval every iteration.
DEFAULT_THRESHOLD = 0.5

SCORES_SCHEMA = pa.schema([("id", pa.string()), ("url", pa.string()), ("domain", pa.string()),
                           ("score", pa.float32()), ("token_count", pa.int64()), ("language", pa.string())])


@dataclass
class MathRunConfig:
    inputs: list[str]
    seed: str
    output: str
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
    return MathRunConfig(
        inputs=list(args.input), seed=args.seed, output=args.output, iterations=args.iterations,
        benchmarks=list(args.benchmark or []), threshold=threshold, token_budget=getattr(args, "token_budget", None),
        eval_path=getattr(args, "eval", None) or samples.path("math_eval.jsonl"),
        stop_overlap=getattr(args, "stop_overlap", 0.98), languages=langs,
        min_chars=getattr(args, "min_chars", MIN_CHARS), approved_path=getattr(args, "approved", None),
        discovery=disc, classifier=cls,
    )


def crawl_files(specs: list[str]) -> list[str]:
    files = []
    for spec in specs:
        found = storage.expand(spec)
        if not found:
            raise UserError(f"{spec}: no such file")
        files.extend(found)
    bad = [f for f in files if not f.endswith((".warc", ".warc.gz", ".warc.zst", ".warc.lz4", ".wet", ".wet.gz",
                                                 ".wet.zst", ".arc.gz"))]
    if bad:
        raise UserError(f"{bad[0]}: not a WARC/WET file (.warc[.gz|.zst|.lz4] or .wet[.gz|.zst])")
    return sorted(dict.fromkeys(files))


def load_labelled(path: str) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for i, row in enumerate(datasets.iter_jsonl(path) if not path.endswith(".parquet") else
                            datasets.read_parquet(path).to_pylist()):
        if "text" not in row or "label" not in row:
            raise UserError(f"{path}: row {i + 1} needs 'text' and 'label' (1 = math, 0 = not)")
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


def _source(path: str) -> datasets.Source:
    return datasets.resolve_input(path, WEB_DOC)


def _write_json(path: str, obj) -> None:
    storage.write_bytes_atomic(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode())


def _read_json(path: str):
    return json.loads(storage.read_bytes(path))


# --- stage: candidates ----------------------------------------------------------------------------------


def candidates_graph(p: beam.Pipeline, cfg: MathRunConfig, files: list[str], staging: str) -> None:
    """The candidates pipeline's steps, added to `p` (tests build it under Dataflow options)."""
    from dedup.beam import WEB_MINHASH, MinHashDedup, UrlDedup

    read = p | "CrawlFiles" >> beam.Create(files) | "Read" >> beam.ParDo(T.ReadCrawlFn()).with_outputs(
        "errors", main="pages")
    _ = read.errors | "WriteReadErrors" >> WriteJsonl(storage.join(cfg.output, "read_errors.jsonl"))
    docs = (
        read.pages
        | "Spread" >> beam.Reshuffle()  # one file's pages fan out to every worker
        | "Batch" >> beam.BatchElements(min_batch_size=8, max_batch_size=64)
        | "Extract" >> beam.ParDo(T.ExtractFn(cfg.min_chars))
        | "LanguageId" >> beam.ParDo(T.LanguageIdFn(cfg.languages))
    )
    by_url = docs | "UrlDedup" >> UrlDedup()
    near = by_url.kept | "NearDedup" >> MinHashDedup(WEB_MINHASH)
    _ = near.kept | "WriteCandidates" >> WriteDataset(staging, WEB_DOC)
    _ = (
        (by_url.removed, near.removed)
        | "Removed" >> beam.Flatten()
        | "RemovedRecord" >> beam.Map(lambda r: {"id": r["id"], "url": r["url"], "duplicate_of": r["duplicate_of"],
                                                 "reason": r["dedup_reason"]})
        | "WriteRemoved" >> WriteJsonl(storage.join(cfg.output, "candidates_removed.jsonl"))
    )


def build_candidates(cfg: MathRunConfig, files: list[str], beam_args: list[str], command: list[str]) -> dict:
    """Read + extract + language ID + URL dedup + near-dedup, once per run directory."""
    path = storage.join(cfg.output, "candidates")
    if storage.exists(storage.join(path, datasets.MANIFEST)):
        manifest = datasets.read_manifest(path)
        log.info("reusing %s (%d pages)", path, manifest["row_count"])
        return manifest.get("counters", {})
    with Stage("candidates (read, extract, langid, dedup)", beam_args, command=command) as stage:
        candidates_graph(stage.pipeline, cfg, files, stage.output(path, WEB_DOC))
        counters = stage.run()
        stage.commit(path, inputs=files, extra={"counters": counters})
    return counters


# --- stage: one iteration ---------------------------------------------------------------------------------


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


def training_data(cfg: MathRunConfig, it_dir: str, prev: Iteration | None, beam_args: list[str],
                  command: list[str]) -> dict:
    """Sample negatives from the candidates and gather uncollected pages under approved prefixes."""
    candidates = _source(storage.join(cfg.output, "candidates"))
    approved = tuple(prev.approved) if prev else ()
    model = prev.model if prev else None
    cutoff = prev.metrics["cutoff"] if prev else None
    seed_added = storage.join(it_dir, "training", "seed_added")
    stage = Stage("training data", beam_args, command=command)
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
        | "WriteNegatives" >> WriteJsonl(storage.join(it_dir, "training", "negatives.jsonl"))
    )
    _ = (
        routed.positive
        | "SamplePositives" >> beam.combiners.Sample.FixedSizeGlobally(cfg.classifier.max_positives)
        | "Positives" >> beam.FlatMap(lambda rows: rows)
        | "WriteSeedAdded" >> stage.write(seed_added, WEB_DOC)
    )
    with stage:
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
    candidates = _source(storage.join(cfg.output, "candidates"))
    model = storage.join(it_dir, "model.bin")
    collected_path = storage.join(it_dir, "collected")
    depth = cfg.discovery.prefix_depth
    stage = Stage(f"iteration {k}: score and collect", beam_args, command=command)
    p = stage.pipeline
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
            | "ReadPrevious" >> ReadDocuments([_source(prev.collected)], columns=["id", "iteration"])
            | "PreviousById" >> beam.Map(lambda r: (r["id"], r["iteration"]))
        )
        collected = (
            {"current": collected | "ById" >> beam.Map(lambda r: (r["id"], r)), "previous": previous}
            | "JoinPrevious" >> beam.CoGroupByKey()
            | "FirstIteration" >> beam.ParDo(T.FirstIterationFn())
        )
    _ = collected | "WriteCollected" >> stage.write(collected_path, WEB_DOC)
    _ = (
        scored
        | "ScoreColumns" >> beam.Map(lambda r: {n: r.get(n) for n in SCORES_SCHEMA.names})
        | "WriteScores" >> beam.io.WriteToParquet(storage.join(it_dir, "scores", "part"), SCORES_SCHEMA,
                                                  codec="zstd", file_name_suffix=".parquet")
    )
    _ = (
        scored
        | "DomainKeys" >> beam.FlatMap(T.domain_stat_items, AsSingleton(cutoff), depth)
        | "CountPages" >> beam.CombinePerKey(T.sum_pairs)
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
    with stage:
        counters = stage.run()
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


def run_iteration(cfg: MathRunConfig, k: int, earlier: list[Iteration], annotations: dict | None,
                  beam_args: list[str], command: list[str]) -> Iteration:
    it_dir = storage.join(cfg.output, f"iter_{k}")
    metrics_path = storage.join(it_dir, "metrics.json")
    if storage.exists(metrics_path):
        log.info("iteration %d: complete in %s, reusing it", k, it_dir)
        return Iteration(k, it_dir, _read_json(metrics_path))
    if storage.exists(it_dir):
        log.info("iteration %d: %s is incomplete, redoing it", k, it_dir)
        storage.remove_tree(it_dir)
    storage.makedirs(it_dir)
    start = time.time()
    prev = earlier[-1] if earlier else None
    counters = training_data(cfg, it_dir, prev, beam_args, command)
    clf, training = train_model(cfg, it_dir, earlier)
    threshold, classifier_metrics = evaluate(cfg, clf)
    log.info("iteration %d: classifier on %s: precision %.3f recall %.3f F1 %.3f at threshold %.2f", k,
             cfg.eval_path, classifier_metrics["precision"], classifier_metrics["recall"], classifier_metrics["f1"],
             threshold)
    counters = summary.merge(counters, score_and_collect(cfg, k, it_dir, threshold, prev, beam_args, command))
    found = discover_prefixes(cfg, k, it_dir, annotations)
    hist = _read_json(storage.join(it_dir, "score_histogram.json"))
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
    }
    _write_json(metrics_path, metrics)  # last: marks the iteration complete
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


# --- stage: decontaminated corpus -----------------------------------------------------------------------


def build_corpus(cfg: MathRunConfig, last: Iteration, beam_args: list[str], command: list[str]) -> dict:
    path = storage.join(cfg.output, "corpus")
    stage = Stage("corpus (decontaminate)", beam_args, command=command)
    docs = stage.pipeline | "ReadCollected" >> ReadDocuments([_source(last.collected)])
    if cfg.benchmarks:
        from dedup.beam import Decontaminate

        out = docs | "Decontaminate" >> Decontaminate(cfg.benchmarks, n=10)
        docs = out.kept
        _ = (
            out.removed
            | "RemovedRecord" >> beam.Map(lambda r: {"id": r["id"], "url": r["url"], "benchmark_item": r["duplicate_of"],
                                                     "reason": r["dedup_reason"]})
            | "WriteRemoved" >> WriteJsonl(storage.join(cfg.output, "decontamination_removed.jsonl"))
        )
    _ = docs | "WriteCorpus" >> stage.write(path, WEB_DOC)
    with stage:
        counters = stage.run()
        stage.commit(path, inputs=cfg.benchmarks,
                     extra={"iteration": last.k, "benchmarks": cfg.benchmarks, "counters": counters})
    return counters


# --- the loop -------------------------------------------------------------------------------------------


def stop_reason(metrics: dict, stop_overlap: float) -> str | None:
    """Why the loop stops after this iteration, or None to go on (DeepSeekMath: ~98% seen before)."""
    overlap = metrics.get("overlap_with_previous")
    if overlap is not None and overlap >= stop_overlap:
        return f"overlap with the previous iteration {overlap:.1%} >= {stop_overlap:.1%}"
    if metrics.get("n_collected") == 0:
        return "nothing was collected"
    return None


def print_iteration(it: Iteration) -> None:
    m = it.metrics
    print(summary.format_table(m["counters"], title=f"iteration {it.k}"))
    c = m["classifier"]
    overlap = "n/a" if m["overlap_with_previous"] is None else f"{m['overlap_with_previous']:.1%}"
    approved = [p["prefix"] for p in m["prefixes"] if p.get("approved")]
    print(f"classifier: precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f}  "
          f"(threshold {m['threshold']:.2f}, eval n={c['n']})")
    print(f"collected {m['n_collected']:,} of {m['n_candidates']:,} candidates ({m['tokens_collected']:,} tokens); "
          f"new {m['n_new']:,}; overlap with previous {overlap}")
    print(f"math domains: {len(m['domains'])}; prefixes proposed: {len(m['prefixes'])}; approved: "
          f"{', '.join(approved) or 'none'}; seed pages added for this iteration: {m['seed_added']}")
    sys.stdout.flush()


SMALL_INPUT_BYTES = 32 * 2**20


def local_runner_args(files: list[str], beam_args: list[str]) -> list[str]:
    """Run small local crawls in-process: the loop starts 2N+2 pipelines, and below ~32 MiB of
    WARC, starting worker processes for each costs more than the work. Explicit flags win."""
    from pipelines.runner import is_local, pipeline_options

    joined = " ".join(beam_args)
    if "--direct_running_mode" in joined or not is_local(pipeline_options(beam_args)):
        return beam_args
    if any(storage.is_remote(f) or storage.is_http(f) for f in files):
        return beam_args
    if sum(storage.size(f) for f in files) > SMALL_INPUT_BYTES:
        return beam_args
    log.info("small local input: running the pipelines in-process (--direct_running_mode in_memory)")
    extra = ["--direct_running_mode", "in_memory"]
    if "--direct_num_workers" not in joined:
        extra += ["--direct_num_workers", "1"]
    return [*beam_args, *extra]


def run(args, beam_args: list[str]) -> int:
    cfg = config_from_args(args)
    return mine(cfg, beam_args, args.command_line)


def mine(cfg: MathRunConfig, beam_args: list[str], command: list[str]) -> int:
    start = time.time()
    if cfg.iterations < 1:
        raise UserError("--iterations must be at least 1")
    files = crawl_files(cfg.inputs)
    beam_args = local_runner_args(files, beam_args)
    datasets.resolve_input(cfg.seed)  # fails early, naming the file, if the seed is unusable
    for b in cfg.benchmarks:
        if not storage.expand(b):
            raise UserError(f"{b}: no such file")
    load_labelled(cfg.eval_path)
    annotations = load_annotations(cfg.approved_path) if cfg.approved_path else None
    quiet_beam_logging()
    storage.makedirs(cfg.output)
    log.info("math: %d crawl files -> %s", len(files), cfg.output)
    counters = build_candidates(cfg, files, beam_args, command)
    print(summary.format_table(counters, title="candidates"))
    done: list[Iteration] = []
    stopped = f"reached --iterations {cfg.iterations}"
    for k in range(1, cfg.iterations + 1):
        it = run_iteration(cfg, k, done, annotations, beam_args, command)
        done.append(it)
        print_iteration(it)
        counters = summary.merge(counters, it.metrics["counters"])
        reason = stop_reason(it.metrics, cfg.stop_overlap)
        if reason:
            stopped = reason
            break
    log.info("stopping: %s", stopped)
    corpus_counters = build_corpus(cfg, done[-1], beam_args, command)
    counters = summary.merge(counters, corpus_counters)
    corpus = datasets.open_dataset(storage.join(cfg.output, "corpus"))
    tokens = sum(r["token_count"] or 0 for r in corpus.iter_rows(["token_count"]))
    print(summary.format_table(corpus_counters, title="corpus"))
    result = {
        "command": command,
        "counters": counters,
        "elapsed_s": round(time.time() - start, 2),
        "iterations": [{k: it.metrics[k] for k in ("iteration", "n_candidates", "n_collected", "n_new",
                                                     "overlap_with_previous", "threshold", "cutoff")}
                       | {"precision": it.metrics["classifier"]["precision"],
                          "recall": it.metrics["classifier"]["recall"], "f1": it.metrics["classifier"]["f1"]}
                       for it in done],
        "stopped": stopped,
        "corpus": {"path": storage.join(cfg.output, "corpus"), "rows": corpus.row_count, "tokens": tokens},
        "config": _plain(asdict(cfg)),
    }
    _write_json(storage.join(cfg.output, "summary.json"), result)
    print(f"corpus: {corpus.row_count:,} documents, {tokens:,} tokens in {storage.join(cfg.output, 'corpus')} "
          f"({result['elapsed_s']:.1f}s; stopped: {stopped})")
    return 0


def _plain(obj):
    return json.loads(json.dumps(obj, default=str))
