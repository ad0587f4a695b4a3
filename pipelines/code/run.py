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

from deepcorpus.core import datasets, locks, outputs, storage
from deepcorpus.core.contracts import CODE_REPO
from deepcorpus.core.errors import UserError
from pipelines.code.assemble import AssembleConfig, keep_rank
from pipelines.code.filters import RULE_NAMES, FilterConfig
from pipelines.code.sources import DEFAULT_MAX_FILE_BYTES, RepoUnit, discover

log = logging.getLogger(__name__)


def build(pipeline, units: list[RepoUnit], target, *, benchmarks: list[str], seed: int = 0,
          ordering: str = "dependency", max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, file_dedup: bool = True,
          near_dedup: bool = True, filters: FilterConfig | None = None, quality_model: str | None = None,
          extra_languages: tuple[str, ...] = (), num_shards: int = 0):
    """Add the whole code pipeline to `pipeline`, writing the parts of `target` (a datasets.Target)."""
    import apache_beam as beam

    from classifiers.code_language import coder_v2_languages
    from dedup.beam import CODE_MINHASH, Decontaminate, ExactDedup, MinHashDedup
    from dedup.normalize import NormalizeConfig
    from pipelines.code.transforms import (
        AssembleFn,
        FilterFn,
        IdentifyFn,
        ListingRowFn,
        QualityModelFn,
        ReadRepoFn,
        file_rank,
        repo_candidate,
    )
    from pipelines.io import WriteDataset

    languages = coder_v2_languages() + tuple(x for x in extra_languages if x not in coder_v2_languages())
    repos = [u for u in units if u.kind != "listing"]
    listings = [u for u in units if u.kind == "listing"]
    parts = []
    if repos:
        parts.append(
            pipeline
            | "Repos" >> beam.Create(repos)
            | "SpreadRepos" >> beam.Reshuffle()
            | "ReadRepo" >> beam.ParDo(ReadRepoFn(max_file_bytes))
        )
    for i, unit in enumerate(listings):
        if unit.path.endswith(".parquet"):
            rows = pipeline | f"ReadListing[{i}]" >> beam.io.ReadFromParquet(unit.path)
        else:  # our JSONL reader, a file per worker: a bad line is an error naming the file and line
            rows = (pipeline | f"ListingFile[{i}]" >> beam.Create([unit.path])
                    | f"ReadListing[{i}]" >> beam.FlatMap(datasets.iter_jsonl))
        parts.append(rows | f"ListingRows[{i}]" >> beam.ParDo(ListingRowFn(unit.path)))
    records = parts[0] if len(parts) == 1 else tuple(parts) | "AllFiles" >> beam.Flatten()

    files = (
        records
        | "Identify" >> beam.ParDo(IdentifyFn(max_file_bytes, languages))
        | "Filter" >> beam.ParDo(FilterFn(filters))
    )
    # Near-dedup compares whole repositories, so it runs before exact file dedup removes the
    # files a fork shares with its original (which would make the two look different).
    repos = (
        files
        | "KeyByRepo" >> beam.Map(lambda r: (r["repo"], r))
        | "GroupByRepo" >> beam.GroupByKey()
        | "RepoText" >> beam.Map(repo_candidate)
    )
    if near_dedup:
        repos = (repos | "RepoDedup" >> MinHashDedup(CODE_MINHASH, rank_key=keep_rank, stage="repo_dedup")).kept
    files = repos | "RepoFiles" >> beam.FlatMap(lambda row: row["records"])
    if file_dedup:
        # Exact file dedup across repositories, whitespace-insensitive but case-sensitive (code).
        # Context files (go.mod) stay with their repository.
        exact = NormalizeConfig(unicode_form=None, lowercase=False, whitespace=True)
        code = files | "CodeFiles" >> beam.Filter(lambda r: not r.get("context"))
        context = files | "ContextFiles" >> beam.Filter(lambda r: bool(r.get("context")))
        kept = (code | "FileDedup" >> ExactDedup(exact, rank_key=file_rank, stage="file_dedup")).kept
        files = (kept, context) | "WithContext" >> beam.Flatten()
    docs = (
        files
        | "KeyByRepoAgain" >> beam.Map(lambda r: (r["repo"], r))
        | "RegroupByRepo" >> beam.GroupByKey()
        | "Assemble" >> beam.ParDo(AssembleFn(AssembleConfig(seed=seed, ordering=ordering)))
    )
    if benchmarks:
        docs = (docs | "Decontaminate" >> Decontaminate(benchmarks, stage="decontaminate")).kept
    if quality_model:
        docs = docs | "QualityModel" >> beam.ParDo(QualityModelFn(quality_model))
    return docs | "Write" >> WriteDataset(target, num_shards=num_shards)


def _fill_rule_counters(counters: dict) -> dict:
    """Every rule appears in the summary, with 0 when it dropped nothing."""
    rules = counters.setdefault("filter", {})
    for name in RULE_NAMES:
        rules.setdefault(f"dropped_{name}", 0)
    return counters


def run(args, beam_args: list[str]) -> int:
    from pipelines import runner, summary
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
    if not runner.is_local(runner.pipeline_options(beam_args)):
        needed = [u.path for u in units] + benchmarks + ([args.quality_model] if args.quality_model else [])
        local = [p for p in needed if not storage.is_remote(p)]
        if local:
            raise UserError(f"{local[0]}: remote workers cannot read local inputs; upload repository archives, "
                            "listings, benchmarks and models to gs:// or s3:// and pass those (git repositories are "
                            "read locally only)")
    outputs.check_run_output(args.output, "code run")
    options = {"seed": args.seed, "ordering": args.order, "max_file_bytes": args.max_file_bytes,
               "file_dedup": not args.no_file_dedup, "near_dedup": not args.no_near_dedup,
               "extra_languages": extras, "benchmarks": benchmarks, "quality_model": args.quality_model}
    inputs = [u.path for u in units if u.kind in ("archive", "listing")] + benchmarks + \
        ([args.quality_model] if args.quality_model else [])
    with locks.Lock(args.output, command=args.command_line), \
            Stage("code corpus", beam_args, command=args.command_line) as stage:
        outputs.mark_run_output(args.output, "code run", args.command_line)
        target = stage.output(final, CODE_REPO, inputs=inputs, options=options, replace=True)
        build(stage.pipeline, units, target, benchmarks=benchmarks, seed=args.seed,
              ordering=args.order, max_file_bytes=args.max_file_bytes, file_dedup=not args.no_file_dedup,
              near_dedup=not args.no_near_dedup, quality_model=args.quality_model, extra_languages=tuple(extras))
        counters = _fill_rule_counters(stage.run())
        manifest = stage.commit(final, extra={"counters": counters, "seed": args.seed, "ordering": args.order,
                                              "benchmarks": benchmarks})
        assemble = counters.get("assemble", {})
        report = {
            "command": args.command_line,
            "counters": counters,
            "elapsed_s": round(time.time() - start, 2),
            "inputs": [{"kind": u.kind, "path": u.path, "name": u.name} for u in units],
            "rules": list(RULE_NAMES),
            "repos": manifest["row_count"],
            "order": {"dependency": assemble.get("order_dependency", 0), "random": assemble.get("order_random", 0)},
        }
        storage.write_bytes_atomic(storage.join(args.output, "summary.json"), json.dumps(report, indent=2).encode())
    print(summary.format_table({k: v for k, v in counters.items() if k != "languages"}, "code run"))
    languages = counters.get("languages", {})
    if languages:
        top = sorted(languages.items(), key=lambda kv: -kv[1])
        print("files by language: " + ", ".join(f"{k} {v}" for k, v in top[:15])
              + (f", ... ({len(top)} languages)" if len(top) > 15 else ""))
    print(f"{manifest['row_count']:,} repository documents -> {final}")
    return 0
