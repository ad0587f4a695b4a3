"""`deepcorpus code run`: repositories in, repository-level documents out (DeepSeek-Coder section 2).

    deepcorpus code run --input repos/ --output out/code --benchmark humaneval.jsonl

Writes the code_repo dataset to OUTPUT/corpus/ (committed with its manifest last) and
OUTPUT/summary.json: {"command", "counters": {stage: {name: value}}, "elapsed_s", "inputs",
"rules", "repos", "order": {"dependency": n, "random": n}}.
"""

from __future__ import annotations

import json
import logging
import time

from deepcorpus.core import locks, outputs, storage
from deepcorpus.core.contracts import CODE_REPO
from deepcorpus.core.errors import UserError
from pipelines.code.assemble import DEFAULT_MAX_DOC_BYTES, AssembleConfig, keep_rank
from pipelines.code.filters import RULE_NAMES, FilterConfig
from pipelines.code.sources import DEFAULT_MAX_FILE_BYTES, RepoUnit, discover

log = logging.getLogger(__name__)


def build(pipeline, units: list[RepoUnit], target, *, benchmarks: list[str], seed: int = 0,
          ordering: str = "dependency", max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, file_dedup: bool = True,
          near_dedup: bool = True, filters: FilterConfig | None = None, quality_model: str | None = None,
          extra_languages: tuple[str, ...] = (), num_shards: int = 0, max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES):
    """Add the whole code pipeline to `pipeline`, writing the parts of `target` (a datasets.Target)."""
    import apache_beam as beam

    from classifiers.code_language import coder_v2_languages
    from dedup.beam import Decontaminate, node_of
    from pipelines.code import repo_dedup
    from pipelines.code.transforms import (
        AssembleRepoFn,
        FileFactsFn,
        FilterFn,
        IdentifyFn,
        KeepFirstFileFn,
        QualityModelFn,
        live_refs,
    )
    from pipelines.io import WriteDataset

    languages = coder_v2_languages() + tuple(x for x in extra_languages if x not in coder_v2_languages())
    files = (
        read_records(pipeline, units, max_file_bytes)
        | "Identify" >> beam.ParDo(IdentifyFn(max_file_bytes, languages))
        | "Filter" >> beam.ParDo(FilterFn(filters))
        | "FileFacts" >> beam.ParDo(FileFactsFn(near_dedup, file_dedup)).with_outputs("facts", "refs", main="files")
    )
    empty = pipeline | "NoRemovals" >> beam.Create([])
    removed_repos = empty
    if near_dedup:
        # Repository signatures (elementwise min of the files' signatures): a few KB per repository.
        facts = (
            files.facts
            | "RepoFacts" >> beam.CombinePerKey(repo_dedup.RepoFactsFn())
            | "CountRepos" >> beam.ParDo(repo_dedup.CountRepos())
        )
        nodes = (
            facts
            | "WithSignature" >> beam.Filter(lambda kv: kv[1]["signature"] is not None)
            | "Node" >> beam.Map(lambda kv: (node_of(repo_dedup.repo_row(kv[0], kv[1]), keep_rank), kv[1]["signature"]))
        )
        removed_repos = nodes | "RepoNearDedup" >> repo_dedup.NearDuplicates()
    dropped_files = empty
    if file_dedup:
        # Near-dedup goes first: a fork's copy must not be the one kept of a file its original shares.
        dropped_files = (
            {"refs": files.refs, "removed": removed_repos}
            | "RefsOfKeptRepos" >> beam.CoGroupByKey()
            | "LiveRefs" >> beam.FlatMap(live_refs)
            | "GroupByTextHash" >> beam.GroupByKey()
            | "KeepFirstCopy" >> beam.ParDo(KeepFirstFileFn())
        )
    docs = (
        {"files": files.files, "removed": removed_repos, "dropped": dropped_files}
        | "GroupByRepo" >> beam.CoGroupByKey()
        | "Assemble" >> beam.ParDo(AssembleRepoFn(AssembleConfig(seed=seed, ordering=ordering,
                                                                 max_doc_bytes=max_doc_bytes)))
    )
    if benchmarks:
        docs = (docs | "Decontaminate" >> Decontaminate(benchmarks, stage="decontaminate")).kept
    if quality_model:
        docs = docs | "QualityModel" >> beam.ParDo(QualityModelFn(quality_model))
    docs = docs | "CountWritten" >> beam.Map(_count_written)
    return docs | "Write" >> WriteDataset(target, num_shards=num_shards)


def _count_written(row: dict) -> dict:
    from apache_beam.metrics import Metrics

    Metrics.counter("write", "docs").inc()
    return row


# Listing columns read, our names and The Stack's (whichever a listing has).
LISTING_COLUMNS = ("repo", "repo_name", "max_stars_repo_name", "path", "max_stars_repo_path", "content", "stars",
                   "max_stars_count", "license", "licenses", "max_stars_repo_licenses", "revision_date",
                   "max_stars_repo_head_date")


def read_records(pipeline, units: list[RepoUnit], max_file_bytes: int):
    """File records of every input. Repositories (folders, git, archives) are read one per element;
    all Parquet listings by ONE ReadAllFromParquet over their patterns (split by row groups, only the
    columns a listing needs), all JSONL listings matched in the pipeline, each file read by one worker."""
    import apache_beam as beam
    from apache_beam.io import fileio

    from pipelines.code.transforms import ListingRowFn, ReadJsonlListingFn, ReadRepoFn

    repos = [u for u in units if u.kind != "listing"]
    parquet = [u for u in units if u.kind == "listing" and u.path.endswith(".parquet")]
    jsonl = [u for u in units if u.kind == "listing" and not u.path.endswith(".parquet")]
    parts = []
    if repos:
        parts.append(
            pipeline
            | "Repos" >> beam.Create(repos)
            | "SpreadRepos" >> beam.Reshuffle()
            | "ReadRepo" >> beam.ParDo(ReadRepoFn(max_file_bytes))
        )
    if parquet:
        columns = listing_columns(parquet[0].path)
        parts.append(
            pipeline
            | "ParquetListings" >> beam.Create(sorted({u.pattern for u in parquet}))
            | "ReadParquetListings" >> beam.io.ReadAllFromParquet(with_filename=True, columns=columns)
            | "ParquetRows" >> beam.ParDo(ListingRowFn())
        )
    if jsonl:
        parts.append(
            pipeline
            | "JsonlListings" >> beam.Create(sorted({u.pattern for u in jsonl}))
            | "MatchJsonlListings" >> fileio.MatchAll()
            | "SpreadJsonlListings" >> beam.Reshuffle()  # file names only: each worker reads whole files
            | "ReadJsonlListings" >> beam.ParDo(ReadJsonlListingFn())
            | "JsonlRows" >> beam.ParDo(ListingRowFn())
        )
    return parts[0] if len(parts) == 1 else tuple(parts) | "AllFiles" >> beam.Flatten()


def listing_columns(path: str) -> list[str]:
    """The listing columns a Parquet file has, from its footer alone."""
    from deepcorpus.core import datasets

    names = set(datasets.parquet_schema(path).names)
    return [c for c in LISTING_COLUMNS if c in names]


def _fill_rule_counters(counters: dict) -> dict:
    """Every rule appears in the summary, with 0 when it dropped nothing."""
    rules = counters.setdefault("filter", {})
    for name in RULE_NAMES:
        rules.setdefault(f"dropped_{name}", 0)
    return counters


def conservation(counters: dict) -> list:
    """Every file read is in a document or dropped with its reason; every repository with code is
    kept or a near duplicate; every document assembled is written or matched a benchmark."""
    from pipelines.summary import Balance

    langid, filt, assemble = counters.get("langid", {}), counters.get("filter", {}), counters.get("assemble", {})
    read = counters.get("read", {})
    files = Balance("files", read.get("files", 0), {"in documents": assemble.get("files_out", 0)}, {
        **{k: v for k, v in langid.items() if k.startswith("skipped_")},
        "context files (go.mod)": langid.get("context_files", 0),
        **{k: v for k, v in filt.items() if k.startswith("dropped_")},
        "near-duplicate repositories' files": assemble.get("dropped_near_duplicate_files", 0),
        "exact duplicate files": assemble.get("dropped_exact_duplicate_files", 0),
    })
    out = [files]
    if "repo_dedup" in counters:
        rd = counters["repo_dedup"]
        out.append(Balance("repositories", rd.get("in", 0), {"kept": rd.get("kept", 0)},
                           {"near duplicate": rd.get("dropped_near_duplicate", 0)}))
    dec = counters.get("decontaminate", {})
    out.append(Balance("documents", assemble.get("docs", 0), {"written": counters.get("write", {}).get("docs", 0)},
                       {"benchmark": dec.get("dropped_benchmark", 0)}))
    return out


def _listed_rows(path: str, target) -> int:
    from deepcorpus.core import datasets

    return sum(p["rows"] for p in datasets.read_part_list(path, target.run_id) or [])


def run(args, beam_args: list[str]) -> int:
    from pipelines import runner, summary, worker_paths
    from pipelines.stage import Stage

    start = time.time()
    units: list[RepoUnit] = []
    for spec in args.input:
        units += discover(spec)
    benchmarks: list[str] = []
    if args.benchmark:  # read whole now: a malformed one must not wait until the corpus is built
        from dedup.ngrams import benchmark_files, check_benchmarks

        benchmarks = benchmark_files(args.benchmark)
        check_benchmarks(benchmarks)
    if args.quality_model:
        from classifiers.fasttext_binary import check_model_file

        check_model_file(args.quality_model, "quality model")
    extras = []
    for name in args.extra_language:
        from classifiers.code_language import known_language

        spelled = known_language(name)
        if spelled is None:
            raise UserError(f"--extra-language {name}: neither Linguist (enry) nor Pygments knows this language")
        extras.append(spelled)
    n_repos = sum(u.kind != "listing" for u in units)
    log.info("code: %d repositories and %d listings from %d inputs", n_repos, len(units) - n_repos, len(args.input))
    final = storage.join(args.output, "corpus")
    runner.quiet_beam_logging()
    # Remote workers read the inputs and write the output themselves: every such path must be one
    # they can open (gs://, s3://, a --worker_visible_path); the launcher's own benchmark files and
    # quality model are small and are staged to --temp_location for them.
    options = runner.pipeline_options(beam_args)
    worker_paths.require(options, [("--input", u.path) for u in units] + [("--output", args.output)])
    staged = [worker_paths.stage(options, p, "--benchmark") for p in benchmarks]
    quality_model = worker_paths.stage(options, args.quality_model, "--quality-model") if args.quality_model else None
    outputs.check_run_output(args.output, "code run")
    options = {"seed": args.seed, "ordering": args.order, "max_file_bytes": args.max_file_bytes,
               "file_dedup": not args.no_file_dedup, "near_dedup": not args.no_near_dedup,
               "extra_languages": extras, "benchmarks": benchmarks, "quality_model": args.quality_model,
               "max_doc_bytes": args.max_doc_bytes}
    inputs = [p for u in units if u.kind in ("archive", "listing")
              for p in (storage.expand(u.pattern) if u.pattern != u.path else [u.path])] + benchmarks + \
        ([args.quality_model] if args.quality_model else [])
    with locks.Lock(args.output, command=args.command_line), \
            Stage("code corpus", beam_args, command=args.command_line) as stage:
        outputs.mark_run_output(args.output, "code run", args.command_line)
        target = stage.output(final, CODE_REPO, inputs=inputs, options=options, replace=True)
        build(stage.pipeline, units, target, benchmarks=staged, seed=args.seed,
              ordering=args.order, max_file_bytes=args.max_file_bytes, file_dedup=not args.no_file_dedup,
              near_dedup=not args.no_near_dedup, quality_model=quality_model, extra_languages=tuple(extras),
              max_doc_bytes=args.max_doc_bytes)
        counters = _fill_rule_counters(stage.run())
        balances = conservation(counters)
        for b in balances:  # before the commit: a pipeline that lost rows commits nothing
            b.check()
        summary.check_committed(balances[-1], {"written": _listed_rows(final, target)})
        manifest = stage.commit(final, extra={"counters": counters, "seed": args.seed, "ordering": args.order,
                                              "benchmarks": benchmarks,
                                              "conservation": [b.line() for b in balances]})
        assemble = counters.get("assemble", {})
        report = {
            "command": args.command_line,
            "counters": counters,
            "elapsed_s": round(time.time() - start, 2),
            "inputs": [{"kind": u.kind, "path": u.path, "name": u.name} for u in units],
            "rules": list(RULE_NAMES),
            "repos": manifest["row_count"],
            "order": {"dependency": assemble.get("order_dependency", 0), "random": assemble.get("order_random", 0)},
            "edges": {"total": assemble.get("edges", 0), "respected": assemble.get("edges_respected", 0),
                      "outside_cycles": assemble.get("acyclic_edges", 0),
                      "outside_cycles_respected": assemble.get("acyclic_edges_respected", 0)},
            "conservation": [b.line() for b in balances],
        }
        storage.write_bytes_atomic(storage.join(args.output, "summary.json"), json.dumps(report, indent=2).encode())
    print(summary.format_table({k: v for k, v in counters.items() if k != "languages"}, "code run"))
    for b in balances:
        print(b.line())
    languages = counters.get("languages", {})
    if languages:
        top = sorted(languages.items(), key=lambda kv: -kv[1])
        print("files by language: " + ", ".join(f"{k} {v}" for k, v in top[:15])
              + (f", ... ({len(top)} languages)" if len(top) > 15 else ""))
    print(f"{manifest['row_count']:,} repository documents -> {final}")
    return 0
