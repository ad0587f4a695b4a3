"""`deepcorpus formal run`: autoformalize, filter, prove, decompose, and iterate (expert iteration).

The driver owns the generator (a template, a local HF model or our checkpoint: something that may
want a GPU) and asks it for statements, proofs and sketches; each round's Lean work runs as a Beam
pipeline whose workers hold a Lean pool (pipelines/formal/transforms.py). Between rounds the
generator learns from the verified pairs, and the statements left unproved are tried again.

Outputs in the run directory:
- `rounds/round_K/`  each round's rows (formal_proof dataset)
- `corpus/`          the final formal_proof dataset: one row per statement, its best result
- `proofs.jsonl`     the same rows as JSONL
- `sft.jsonl`        verified pairs as {"prompt", "completion"} for supervised fine-tuning
- `verify_cache.sqlite`  the verification cache (reruns do not re-verify); with the output on gs:// or
                         a remote runner, `verify_cache/*.jsonl` instead: a dataset the rounds join against
- `summary.json`     {"command", "counters", "elapsed_s", "verification", "rounds", ...}
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter

from deepcorpus.core import datasets, locks, outputs, storage
from deepcorpus.core.contracts import FORMAL_PROOF
from deepcorpus.core.errors import UserError

log = logging.getLogger("deepcorpus.formal")


def _header(spec: str) -> str:
    from formal.header import CORE_HEADER, MATHLIB_HEADER, normalize_header

    if spec == "core":
        return CORE_HEADER
    if spec == "mathlib":
        return MATHLIB_HEADER
    if os.path.isfile(spec):
        return normalize_header(storage.read_text(spec))
    raise UserError(f"--header {spec}: not 'core', 'mathlib' or a file of Lean header lines")


def _read_problems(spec: str | None) -> list[dict]:
    if not spec:
        return []
    source = datasets.resolve_input(spec)
    return [{"id": r.get("id"), "text": r.get("text")} for r in datasets.iter_source_rows(source)
            if str(r.get("text") or "").strip()]


def _check(args) -> None:
    for name in ("count", "rounds", "attempts", "workers", "batch_size"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(args, name)})")
    if args.timeout <= 0:
        raise UserError("--timeout must be positive")
    if args.generator in ("hf", "checkpoint") and not args.model:
        what = "a Hugging Face model directory" if args.generator == "hf" else "a training run or checkpoint directory"
        raise UserError(f"--generator {args.generator} needs --model ({what})")


def lean_config_from(args):
    from formal.backends import LeanConfig

    return LeanConfig(
        backend=args.lean_backend, lean_server=args.lean_server, repl_command=args.repl_command,
        lean_project=args.lean_project, workers=args.workers, memory_mb=args.memory_mb or None,
        max_uses=args.max_uses, toolchain=args.toolchain,
    )


def _remote_runner(beam_args: list[str]) -> str | None:
    for i, a in enumerate(beam_args):
        name = a.split("=", 1)[1] if a.startswith("--runner=") else beam_args[i + 1] if a == "--runner" and \
            i + 1 < len(beam_args) else None
        if name and name not in ("DirectRunner", "FnApiRunner"):
            return name
    return None


def find_runner(args, beam_args=()):
    """(lean_config with the toolchain filled in, "") or (None, why verification is skipped)."""
    from formal.backends import NoLeanRunner, detect

    config = lean_config_from(args)
    remote = _remote_runner(list(beam_args))
    if remote and config.backend == "repl":
        # The workers' container has Lean, the driver need not: they start their own REPLs and
        # ask their Lean for its version (unless --toolchain names it).
        log.info("%s: the workers start the REPL (%s); not checking for it here",
                 remote, config.repl_command or "repl on PATH")
        return config, ""
    try:
        verifier = detect(config)
    except NoLeanRunner as e:
        if args.require_verification:
            raise UserError(f"--require-verification: {e}") from None
        return None, str(e)
    config.toolchain = verifier.toolchain  # the workers need not ask Lean again
    config.runner = verifier.name
    config.backend = "server" if verifier.name == "kimina-server" else config.backend
    verifier.close()
    return config, ""


def share_lean(lean_config, beam_args) -> bool:
    """One REPL pool per machine whenever its SDK processes are several (a Dataflow VM runs one per
    vCPU; the local multi-process runner one per core). A Lean server is already shared."""
    return lean_config.backend != "server" and "in_memory" not in " ".join(beam_args)


def round_key(cands: list[dict], prove_config, lean_config) -> str:
    """What a round's result depends on: its statements and proposals (which hold everything the
    generator and the problems contributed), the prover's settings, Lean and the code."""
    import dataclasses
    import hashlib

    from deepcorpus.core.fingerprint import code_fingerprint

    blob = json.dumps({
        "candidates": sorted((c["id"], c["statement"], c["proofs"], c["sketch"] or "") for c in cands),
        "prove": dataclasses.asdict(prove_config),
        "lean": [lean_config.backend, lean_config.toolchain] if lean_config else None,
        "code": code_fingerprint(),
    }, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _finished_round(path: str, key: str) -> dict | None:
    """The counters of a round already committed at PATH with the same key (a rerun resumes)."""
    if not storage.exists(storage.join(path, datasets.MANIFEST)):
        return None
    try:
        manifest = datasets.open_dataset(path, FORMAL_PROOF).manifest  # its parts all there too
    except UserError as e:
        log.info("%s: redoing the round: %s", path, e)
        return None
    if manifest.get("round_key") != key:
        log.info("%s: redoing the round: its statements, proposals, prover settings, Lean or code changed", path)
        return None
    return manifest.get("counters")


def _round_pipeline(beam_args, cands: list[dict], lean_config, prove_config, cache, batch_size, out_path,
                    command, key: str):
    import apache_beam as beam

    from pipelines.formal.transforms import ProveCandidates
    from pipelines.io import WriteDataset
    from pipelines.runner import RunnerConfig
    from pipelines.stage import Stage
    from pipelines.summary import check_committed

    # Without Lean there is nothing to spread over processes: one in-memory worker starts fastest.
    with Stage(f"formal round ({len(cands)} statements)", beam_args, command=command,
               config=RunnerConfig(in_memory=lean_config is None)) as stage:
        target = stage.output(out_path, FORMAL_PROOF, options={"round_key": key}, replace=True)
        # The statements travel as a file beside the round, read by the workers: not embedded in
        # the job graph (Dataflow's limit is 10 MB; a round can hold 100k statements).
        cands_path = out_path + ".candidates.jsonl"
        storage.write_bytes_atomic(cands_path, "".join(json.dumps(c, ensure_ascii=False) + "\n"
                                                        for c in cands).encode())
        _ = (
            stage.pipeline
            | "ReadCandidates" >> beam.io.ReadFromText(cands_path)
            | "Parse" >> beam.Map(json.loads)
            | "Prove" >> ProveCandidates(lean_config, prove_config, cache[0], batch_size, cache_dir=cache[1])
            | "CountRows" >> beam.Map(_count_row)
            | "Write" >> WriteDataset(target)
        )
        counters = stage.run()
        # One row per statement, whatever became of it: before the commit, a round that lost
        # statements commits nothing (exit 1).
        balance = round_balance(len(cands), counters)
        balance.check()
        listed = datasets.read_part_list(out_path, target.run_id) or []
        check_committed(balance, {"rows": sum(p["rows"] for p in listed)})
        stage.commit(out_path, extra={"round_key": key, "counters": counters,  # an empty round is a dataset too
                                      "conservation": [balance.line()]})
    return counters


def _count_row(row: dict) -> dict:
    from apache_beam.metrics import Metrics

    Metrics.counter("prove", "rows").inc()
    return row


def round_balance(statements: int, counters: dict):
    """A round's statements against the rows it wrote (one each: verified, rejected, failed...)."""
    from pipelines.summary import Balance

    return Balance("statements", statements, {"rows": counters.get("prove", {}).get("rows", 0)})


def _best(rows_by_round: list[list[dict]]) -> list[dict]:
    """One row per statement: its verified row if any round proved it, else its latest row."""
    best: dict[str, dict] = {}
    for rows in rows_by_round:
        for r in rows:
            old = best.get(r["id"])
            if old is None or not old["verified"]:
                best[r["id"]] = r
    return list(best.values())


def _sft_record(r: dict) -> dict:
    from formal.statements import with_informal

    prompt = f"Complete the following Lean 4 code:\n\n```lean4\n{r['header']}\n\n" + with_informal(
        r["informal"], r["formal_statement"]) + " := "
    return {"id": r["id"], "prompt": prompt, "completion": r["proof"] + "\n```", "round": r["round"],
            "toolchain": r["toolchain"]}


def _write_jsonl(path: str, rows: list[dict]) -> None:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    storage.write_bytes_atomic(path, data)


def run(args, beam_args) -> int:
    from formal.generators import load_generator

    start = time.time()
    _check(args)
    outputs.check_run_output(args.output, "formal run")
    out = args.output
    command = args.command_line
    header = _header(args.header)
    problems = _read_problems(args.problems)
    lean_config, skipped = find_runner(args, beam_args)  # before Beam is imported: a refusal stays one line
    if lean_config is not None:
        lean_config.shared = share_lean(lean_config, beam_args)
    from pipelines import worker_paths
    from pipelines.runner import pipeline_options, quiet_beam_logging

    # The workers read each round's statements and write its rows (and the cache) in the run directory.
    worker_paths.require(pipeline_options(beam_args),
                         [("--output", out)] + ([("--cache", args.cache)] if args.cache else []))
    quiet_beam_logging()
    if lean_config is None:
        log.warning("verification skipped: %s. Writing the statements with verified=false, status=unverified.",
                    skipped)
    rounds = args.rounds if lean_config is not None else 1
    if lean_config is None and args.rounds > 1:
        log.warning("--rounds %d: expert iteration needs verified proofs; running one round", args.rounds)
    generator = load_generator(args.generator, model=args.model, tokenizer=args.tokenizer, seed=args.seed,
                               min_quality=args.min_quality, temperature=args.temperature)
    cache_path = cache_dir = None
    if lean_config is not None and not args.no_cache:
        if args.cache:
            cache_path = args.cache
        elif storage.is_remote(out) or _remote_runner(list(beam_args)):
            # Workers on other machines: the cache is a dataset in the run directory, joined against.
            cache_dir = storage.join(out, "verify_cache")
        else:
            cache_path = storage.join(out, "verify_cache.sqlite")
    with locks.Lock(out, command=command):  # one writer per run directory
        outputs.mark_run_output(out, "formal run", command)
        return _rounds(args, beam_args, generator, header, problems, lean_config, skipped, rounds,
                       (cache_path, cache_dir), start)


def _rounds(args, beam_args, generator, header: str, problems: list[dict], lean_config, skipped: str, rounds: int,
            cache: tuple[str | None, str | None], start: float) -> int:
    from formal.generators import Candidate
    from formal.prover import ProveConfig
    from pipelines.summary import Balance, format_table, merge

    out = args.output
    command = args.command_line

    counters_all: list[dict] = []
    rows_by_round: list[list[dict]] = []
    round_info = []
    retry: list[Candidate] = []
    families: dict[str, str] = {}
    quality: dict[str, float | None] = {}
    for rnd in range(1, rounds + 1):
        t0 = time.time()
        fresh, formalize_counts = generator.formalize(problems if rnd == 1 else [], args.count, rnd, header)
        cands = retry + fresh
        for c in cands:
            c.round = rnd
            families[c.id] = c.family
            quality[c.id] = c.quality
        generator.propose(cands, args.attempts)
        log.info("round %d/%d: %d statements (%d new, %d retried)", rnd, rounds, len(cands), len(fresh), len(retry))
        prove_config = ProveConfig(
            attempts=args.attempts, timeout_s=args.timeout, negation=not args.no_negation,
            hypothesis_check=not args.no_hypothesis_check, decompose=not args.no_decompose,
            native_decide=args.native_decide, toolchain=lean_config.toolchain if lean_config else "none",
            ranking=generator.tactic_ranking() or None,
        )
        round_path = storage.join(out, "rounds", f"round_{rnd}")
        cand_dicts = [c.to_dict() for c in cands]
        key = round_key(cand_dicts, prove_config, lean_config)
        counters = _finished_round(round_path, key)
        if counters is not None:
            log.info("round %d: reusing %s (same statements and settings)", rnd, round_path)
        else:
            counters = _round_pipeline(beam_args, cand_dicts, lean_config, prove_config, cache,
                                       args.batch_size, round_path, command, key)
        conserved = round_balance(len(cands), counters)
        conserved.check()  # a reused round is checked too
        counters = merge({"formalize": dict(formalize_counts)}, counters)
        counters_all.append(counters)
        rows = list(datasets.open_dataset(round_path, FORMAL_PROOF).iter_rows())
        for r in rows:
            r["family"] = families.get(r["id"], "")
        rows_by_round.append(rows)
        statuses = Counter(r["status"] for r in rows)
        learned = generator.update(rows) if lean_config is not None else {}
        by_id = {c.id: c for c in cands}
        retry = [by_id[r["id"]] for r in rows if r["status"] in ("error", "timeout", "crashed") and r["id"] in by_id]
        round_info.append({"round": rnd, "statements": len(cands), "new": len(fresh), "statuses": dict(statuses),
                           "verified": statuses.get("verified", 0), "elapsed_s": round(time.time() - t0, 2),
                           "learned": learned, "generator_state": generator.state(),
                           "conservation": conserved.line()})
        log.info("round %d: %s", rnd, ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
        if not retry and rnd < rounds and args.generator != "template":
            log.info("nothing left to retry; the next round formalizes new problems only")

    final = _best(rows_by_round)
    corpus = storage.join(out, "corpus")
    statuses = Counter(r["status"] for r in final)
    # Every statement of every round has its one row in the corpus (before the corpus is written).
    corpus_line = Balance("corpus statements", len(families), dict(sorted(statuses.items()))).check().line()
    elapsed_ms = sorted(float(r["elapsed_ms"] or 0) for r in final)
    with datasets.DatasetWriter(corpus, FORMAL_PROOF, inputs=[args.problems] if args.problems else [],
                                command=command) as w:
        w.write_rows(final)
        w.extra.update({"generator": args.generator, "header": header, "statuses": dict(statuses),
                        "toolchain": lean_config.toolchain if lean_config else None,
                        "verification_skipped": skipped or None})
    from deepcorpus.core.contracts import contract

    names = contract(FORMAL_PROOF).schema.names
    # The JSONL copy adds what the contract has no column for: the statement family and the
    # generator's quality grade.
    _write_jsonl(storage.join(out, "proofs.jsonl"),
                 [{**{k: r.get(k) for k in names}, "family": families.get(r["id"]), "quality": quality.get(r["id"])}
                  for r in final])
    verified = [r for r in final if r["verified"]]
    _write_jsonl(storage.join(out, "sft.jsonl"), [_sft_record(r) for r in verified])

    counters = merge(*counters_all)
    counters["corpus"] = {"statements": len(final), **{f"status_{k}": v for k, v in sorted(statuses.items())}}
    summary = {
        "command": command,
        "counters": counters,
        "elapsed_s": round(time.time() - start, 2),
        "verification": {
            "backend": lean_config.backend if lean_config else None,
            "runner": (lean_config.runner or None) if lean_config else None,
            "toolchain": lean_config.toolchain if lean_config else None,
            "skipped": bool(skipped),
            "skipped_reason": skipped or None,
        },
        "statuses": dict(statuses),
        "conservation": [f"round {i['round']}: {i['conservation']}" for i in round_info] + [corpus_line],
        "lean_elapsed_ms": {
            "total": round(sum(elapsed_ms), 1),
            "mean": round(sum(elapsed_ms) / len(elapsed_ms), 1) if elapsed_ms else 0.0,
            "p50": elapsed_ms[len(elapsed_ms) // 2] if elapsed_ms else 0.0,
            "p95": elapsed_ms[min(len(elapsed_ms) - 1, int(len(elapsed_ms) * 0.95))] if elapsed_ms else 0.0,
        },
        "rounds": round_info,
        "generator": args.generator,
        "header": header,
        "outputs": {"corpus": corpus, "proofs_jsonl": storage.join(out, "proofs.jsonl"),
                    "sft_jsonl": storage.join(out, "sft.jsonl"), "cache": cache[0] or cache[1]},
    }
    storage.write_bytes_atomic(storage.join(out, "summary.json"), json.dumps(summary, indent=2).encode())
    print(format_table(counters, title="formal run"))
    for info in round_info:
        print(f"round {info['round']}: {info['conservation']}")
    print(corpus_line)
    if skipped:
        print(f"verification skipped: {skipped}")
    print(f"{len(final)} statements ({statuses.get('verified', 0)} verified) -> {corpus}")
    return 0
