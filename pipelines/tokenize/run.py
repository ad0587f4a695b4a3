"""`deepcorpus tokenize run`: corpora (or a mixture of them) -> packed token shards, as a Beam pipeline.

    Read[src] -> Text[src] -> Flatten -> Select (mixture) -> Batch -> Tokenize (FIM on code)
      -> Sample (copies, parts) -> GroupByKey (part) -> WritePart

A mixture's rates are fixed before the pipeline starts, from each source's size in its metadata
(Parquet footers, file sizes) and a bounded probe with the tokenizer, so Select and Sample stream:
no side input waits for every token array to be counted, and what the mixture leaves out is never
tokenized.

The pipeline writes its parts straight into OUTPUT under this run's id, each part's record carrying
its packing stats, and last their list; the driver then commits: the manifest (seq_len,
vocab_size, tokenizer_hash, eos/pad/bos ids, tokens_by_source summed from the parts, FIM and
mixture settings) in one atomic write, and `OUTPUT/summary.json` after it. A rerun with the same
inputs, tokenizer, options and code is a no-op; with anything changed it rebuilds, saying what.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass

from deepcorpus.core import datasets, fingerprint, storage
from deepcorpus.core.contracts import TOKEN_SHARD, token_shard_schema
from deepcorpus.core.errors import UserError
from pipelines.tokenize import documents
from pipelines.tokenize.fim import FimConfig

log = logging.getLogger(__name__)

BYTES_PER_PART = 256 * 2**20  # of input text: ~64M tokens, ~256 MB of ids to pack in one worker
BYTES_PER_TOKEN = 4  # of text, for sizing and for the mixture's token estimates before the run


@dataclass
class Inputs:
    """The sources to tokenize, their names in the manifest, and mixture weights (None: take all)."""

    sources: list[datasets.Source]
    names: list[str]
    weights: dict[str, float] | None
    seed: int | None = None


def resolve(args) -> Inputs:
    if args.mixture and args.input:
        raise UserError("give --input or --mixture, not both")
    if args.mixture:
        from deepcorpus.core.mixture import load_mixture

        mix = load_mixture(args.mixture)
        names = [s.name for s in mix.sources]
        if len(set(names)) != len(names):
            raise UserError(f"{args.mixture}: source names must be unique")
        sources = [datasets.resolve_input(s.path) for s in mix.sources]
        weights = {s.name: s.weight for s in mix.sources}
        inputs = Inputs(sources, names, weights, mix.seed)
    elif args.input:
        if args.total_tokens:
            raise UserError("--total-tokens needs --mixture")
        sources = datasets.resolve_inputs(args.input)
        inputs = Inputs(sources, documents.source_names(sources), None)
    else:
        raise UserError("give --input (datasets or files) or --mixture (a YAML of sources and weights)")
    for source in inputs.sources:
        documents.check_readable(source)
    return inputs


def _input_paths(inputs: Inputs) -> list[str]:
    """Each source's dataset (identified by its commit) or its plain files."""
    return [p for s in inputs.sources for p in ([s.dataset.path] if s.dataset is not None else s.files)]


PROBE_BYTES = 1_000_000  # of each source's first texts, encoded before the run to convert bytes to tokens


def bytes_per_token(tok, source: datasets.Source, formal_keep: str = "not-failed", limit: int = PROBE_BYTES) -> float:
    """Bytes of the `text` column per token trained (EOS counted) over a source's first rows, up
    to `limit` bytes: a bounded probe (the first row group or lines), not a scan. Rows that train
    nothing (empty, a proof Lean rejected) count their bytes and no tokens, as the metadata's sizes
    do (a JSONL line counts whole: its file size is what the estimate has). BYTES_PER_TOKEN when
    the probe finds no text."""
    from pipelines.tokenize.row_groups import is_parquet

    parquet = is_parquet(source)
    texts, held = [], 0
    for row in datasets.iter_source_rows(source, documents.columns_for(source)):
        raw = row.get("text") if isinstance(row.get("text"), str) else ""
        if not parquet:
            raw = json.dumps(row, ensure_ascii=False) + "\n"
        text = documents.document_text(row, source.schema_name, formal_keep)
        held += len(raw.encode("utf-8", "surrogatepass"))
        if text is not None:
            texts.append(text[:limit])
        if held >= limit:
            break
    if not texts or held == 0:
        return float(BYTES_PER_TOKEN)
    tokens = sum(len(e.ids) + 1 for e in tok.encode_batch_fast(texts, add_special_tokens=False))
    return held / tokens


def estimated_tokens(inputs: Inputs, tok=None, formal_keep: str = "not-failed") -> dict[str, int]:
    """Each source's tokens before the run: its text bytes from metadata (Parquet footers, file
    sizes) over the bytes per token of a bounded probe with `tok` (BYTES_PER_TOKEN without one)."""
    out = {}
    for source, name in zip(inputs.sources, inputs.names):
        ratio = bytes_per_token(tok, source, formal_keep) if tok is not None else BYTES_PER_TOKEN
        out[name] = int(documents.estimate_text_bytes(source) / ratio)
    return out


def planned_rates(inputs: Inputs, estimates: dict[str, int], total_tokens: int | None = None) -> dict[str, float] | None:
    """The mixture's sampling rate per source (None without a mixture): a dict of one float per
    source, so it travels inside the job graph and Sample needs no side input."""
    from pipelines.tokenize.sampling import mixture_rates

    if inputs.weights is None:
        return None
    return mixture_rates(estimates, inputs.weights, total_tokens)


def build(pipeline, inputs: Inputs, tokenizer_path: str, tokenizer_hash: str, target, *, seq_len: int, eos_id: int,
          pad_id: int, fim_config: FimConfig, seed: int, num_parts: int, add_bos: bool = False,
          formal_keep: str = "not-failed", total_tokens: int | None = None,
          rates: dict[str, float] | None = None):
    """Add the tokenize steps to `pipeline`, writing the parts of `target` (a datasets.Target);
    returns the PCollection of part records. `rates` (planned_rates; from metadata alone when not
    given) sample a mixture."""
    import apache_beam as beam

    from pipelines.io import ReadDocuments, WritePartList
    from pipelines.tokenize import transforms

    docs = []
    for source, name in zip(inputs.sources, inputs.names):
        docs.append(
            pipeline
            | f"Read {name}" >> ReadDocuments([source], documents.columns_for(source))
            | f"Text {name}" >> beam.ParDo(transforms.TextFn(name, source.schema_name, formal_keep))
        )
    if rates is None and inputs.weights is not None:
        rates = planned_rates(inputs, estimated_tokens(inputs, formal_keep=formal_keep), total_tokens)
    merged = docs | "Merge" >> beam.Flatten()
    if rates is not None:
        merged = merged | "Select" >> beam.ParDo(transforms.SelectFn(seed, rates))
    tokenized = (
        merged
        | "Batch" >> beam.BatchElements(min_batch_size=64, max_batch_size=512)
        | "Tokenize" >> beam.ParDo(transforms.TokenizeFn(tokenizer_path, tokenizer_hash, fim_config, add_bos))
    )
    keyed = tokenized | "Sample" >> beam.ParDo(transforms.SampleFn(num_parts, seed, rates))
    target.wired = True
    parts = (
        keyed
        | "GroupByPart" >> beam.GroupByKey()
        | "WritePart" >> beam.ParDo(transforms.WritePartFn(target, seq_len, eos_id, pad_id))
    )
    _ = parts | "Commit" >> WritePartList(target)
    return parts


def config_fingerprint(inputs: Inputs, tokenizer_hash: str, **options) -> dict:
    """What determines the shards: the inputs (size and mtime; a dataset's commit), the tokenizer,
    the options and the pipeline code (core/fingerprint.py)."""
    return {
        "inputs": datasets.fingerprint_files(_input_paths(inputs)),
        "options": fingerprint.plain({"names": inputs.names, "weights": inputs.weights,
                                      "tokenizer_hash": tokenizer_hash, **options}),
        "code": fingerprint.code_fingerprint(),
    }


def _stale(output: str, current: dict) -> list[str] | None:
    """None when `output` is a token-shard dataset made from exactly this configuration; else what
    differs ([] when there is no such dataset to compare with)."""
    try:
        manifest = datasets.read_manifest(output)
    except UserError:
        return []
    if manifest.get("schema") != TOKEN_SHARD:
        return []
    recorded = manifest.get("config_fingerprint")
    changed = fingerprint.changes(recorded if isinstance(recorded, dict) else None, current)
    if changed:
        return changed
    try:
        datasets.open_dataset(output, TOKEN_SHARD)  # every listed part still there
    except UserError as e:
        return [str(e)]
    return None


def _sum(records: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        for name, n in r[key].items():
            out[name] = out.get(name, 0) + n
    return dict(sorted(out.items()))


def run(args, beam_args: list[str]) -> int:
    from deepcorpus.core import outputs
    from pipelines import runner, summary, worker_paths
    from pipelines.stage import Stage
    from pipelines.tokenize.tokenizer import hash_bytes as sha256
    from pipelines.tokenize.tokenizer import read_tokenizer_bytes, shard_manifest_keys, tokenizer_from_bytes

    start = time.time()
    command = args.command_line
    if args.seq_len < 1:
        raise UserError("--seq-len must be positive")
    if args.num_parts is not None and args.num_parts < 1:
        raise UserError("--num-parts must be positive")
    if args.total_tokens is not None and args.total_tokens < 1:
        raise UserError("--total-tokens must be positive")
    inputs = resolve(args)
    seed = args.seed if args.seed is not None else (inputs.seed or 0)
    fim_config = FimConfig(args.fim_rate, args.fim_mode, seed)
    tokenizer_path = args.tokenizer if storage.is_remote(args.tokenizer) else os.path.abspath(args.tokenizer)
    # Remote workers read the sources and write the shards themselves (gs://, s3:// or a
    # --worker_visible_path); the launcher's tokenizer.json (a few MB) is staged to --temp_location
    # for them. The manifest names the tokenizer the user gave.
    options = runner.pipeline_options(beam_args)
    worker_paths.require(options, [("--input", p) for p in _input_paths(inputs)] + [("--output", args.output)])
    worker_tokenizer = worker_paths.stage(options, tokenizer_path, "--tokenizer")
    tokenizer_json = read_tokenizer_bytes(args.tokenizer)
    tok = tokenizer_from_bytes(tokenizer_json, args.tokenizer)
    tok_keys = shard_manifest_keys(tok, sha256(tokenizer_json))
    schema = token_shard_schema(args.seq_len, tok_keys["vocab_size"])
    text_bytes = sum(documents.estimate_text_bytes(s) for s in inputs.sources)
    # A --total-tokens that repeats sources needs more parts than the inputs.
    planned_bytes = max(text_bytes, BYTES_PER_TOKEN * (args.total_tokens or 0))
    estimates = estimated_tokens(inputs, tok, args.formal_keep) if inputs.weights is not None else None
    rates = planned_rates(inputs, estimates, args.total_tokens)
    if rates is not None:
        log.info("mixture rates from metadata and a probe: %s", ", ".join(
            f"{n} {rates[n]:.3f} (~{estimates[n]:,} tokens)" for n in inputs.names))
    num_parts = args.num_parts or max(1, math.ceil(planned_bytes / BYTES_PER_PART))
    current = config_fingerprint(inputs, tok_keys["tokenizer_hash"], seq_len=args.seq_len, fim=vars(fim_config),
                                 num_parts=num_parts, add_bos=bool(args.add_bos), total_tokens=args.total_tokens,
                                 formal_keep=args.formal_keep)
    stale = _stale(args.output, current)
    if stale is None and not args.force:
        log.info("%s is up to date (same inputs, tokenizer, options and code); --force rebuilds it", args.output)
        print(f"{args.output}: up to date, nothing to do")
        return 0
    if stale:
        log.info("rebuilding %s: %s", args.output, "; ".join(stale[:5]) + (" ..." if len(stale) > 5 else ""))
    # An out-of-date token-shard dataset is rebuilt; a dataset of another kind needs --force.
    existing = outputs.check_dataset_output(args.output, replace=True)
    if existing is not None and existing.get("schema") != TOKEN_SHARD and not args.force:
        raise UserError(f"{args.output}: a {existing['schema']} dataset is already there; --force replaces it")
    log.info("tokenizing %s (~%s bytes of text) into %d part(s) of rows of %d tokens",
             ", ".join(inputs.names), f"{text_bytes:,}", num_parts, args.seq_len + 1)

    runner.quiet_beam_logging()
    totals = {"num_tokens": "tokens", "padding_tokens": "padding", "tokens_by_source": "tokens_by_source",
              "documents_by_source": "documents_by_source"}
    with Stage("tokenize", beam_args, command=command) as stage:
        target = stage.output(args.output, TOKEN_SHARD, schema, inputs=_input_paths(inputs), totals=totals,
                              extra=_manifest_extra(args, inputs, tok_keys, fim_config, seed, tokenizer_path, current),
                              replace=True)
        build(stage.pipeline, inputs, worker_tokenizer, tok_keys["tokenizer_hash"], target, seq_len=args.seq_len,
              eos_id=tok_keys["eos_id"], pad_id=tok_keys["pad_id"], fim_config=fim_config, seed=seed,
              num_parts=num_parts, add_bos=args.add_bos, formal_keep=args.formal_keep,
              total_tokens=args.total_tokens, rates=rates)
        counters = stage.run()
        balances = conservation(counters)
        for b in balances:  # before the commit: a pipeline that lost documents commits nothing
            b.check()
        listed = datasets.read_part_list(target.path, target.run_id) or []
        summary.check_committed(balances[-1], {"packed": sum(r.get("stats", {}).get("documents", 0) for r in listed)})
        manifest = stage.commit(args.output, extra={**_mixture(args, inputs, counters, target, rates, estimates),
                                                    "conservation": [b.line() for b in balances]})
    elapsed = time.time() - start
    report = {"command": command, "counters": counters, "elapsed_s": round(elapsed, 3),
              **{k: manifest[k] for k in ("row_count", "num_parts", "num_tokens", "padding_tokens",
                                           "tokens_by_source", "seq_len", "vocab_size", "tokenizer_hash")},
              "conservation": [b.line() for b in balances]}
    storage.write_bytes_atomic(storage.join(args.output, "summary.json"), json.dumps(report, indent=2).encode())
    print(summary.format_table(counters, "tokenize"))
    for b in balances:
        print(b.line())
    tokens_by_source = manifest["tokens_by_source"]
    shares = _shares(tokens_by_source)
    targets = _shares(inputs.weights) if inputs.weights else {}
    print("tokens by source: " + ", ".join(
        f"{n} {c:,} ({shares[n]:.1%}" + (f", target {targets[n]:.1%})" if n in targets else ")")
        for n, c in tokens_by_source.items()))
    print(f"wrote {manifest['row_count']:,} rows of {args.seq_len + 1} tokens in {manifest['num_parts']} part(s) "
          f"to {args.output} in {elapsed:.1f}s")
    return 0


def conservation(counters: dict) -> list:
    """Every row read is a tokenized document, dropped with its reason, or left out by the mixture
    (before tokenizing); the mixture takes or leaves out every document it sees; every tokenized
    document is sampled (placed in parts); every copy sampled is packed."""
    from pipelines.summary import Balance

    text, tok, mix = counters.get("text", {}), counters.get("tokenize", {}), counters.get("mixture", {})
    rows_in = sum(v for k, v in text.items() if k.startswith("in_"))
    drops = {k: v for k, v in text.items() if k.startswith("dropped_")}
    mixture = "kept_docs" in mix or "dropped_docs" in mix
    if mixture:
        drops["not sampled"] = mix.get("dropped_docs", 0)
    out = [Balance("documents", rows_in, {"tokenized": tok.get("docs", 0)}, drops)]
    if mixture:
        out.append(Balance("mixture", mix.get("in", 0), {"sampled": mix.get("kept_docs", 0)},
                           {"not sampled": mix.get("dropped_docs", 0)}))
    out.append(Balance("sampling", tok.get("docs", 0), {"sampled": mix.get("placed", 0)}))
    out.append(Balance("copies", mix.get("copies", 0), {"packed": counters.get("pack", {}).get("docs", 0)}))
    return out


def _manifest_extra(args, inputs: Inputs, tok_keys: dict, fim_config: FimConfig, seed: int, tokenizer_path: str,
                    fingerprint: dict) -> dict:
    """The token-shard manifest's own keys known before the run: how to read the rows and how they
    were made (the token counts are summed from the parts' records at the commit)."""
    return {
        "seq_len": args.seq_len,
        **tok_keys,
        "fim_rate": fim_config.rate,
        "fim_mode": fim_config.mode,
        "seed": seed,
        "add_bos": bool(args.add_bos),
        "formal_keep": args.formal_keep,
        # Where the trainer (and inference after it) finds the tokenizer again.
        "tokenizer": tokenizer_path,
        "sources": dict(zip(inputs.names, (s.spec for s in inputs.sources))),
        "config_fingerprint": fingerprint,
        # Summed from the parts' records at the commit (the zeros of an empty dataset).
        "num_tokens": 0, "padding_tokens": 0, "tokens_by_source": {}, "documents_by_source": {},
    }


def _mixture(args, inputs: Inputs, counters: dict, target, rates: dict[str, float] | None,
             estimates: dict[str, int] | None) -> dict:
    """The mixture's record: the rates that ran and the token estimates they came from, the tokens
    of the documents taken (once each: the tokenize counters), and the realised shares from the
    parts' records."""
    if inputs.weights is None:
        return {}
    parts = datasets.read_part_list(target.path, target.run_id) or []
    tokens_by_source = _sum([r["stats"] for r in parts if "stats" in r], "tokens_by_source")
    counted = counters.get("tokenize", {})
    sampled = {n: counted.get(f"tokens_{n}", 0) for n in inputs.names}
    return {"mixture": {
        "weights": inputs.weights,
        "estimated_tokens": estimates,
        "sampled_tokens": sampled,
        "rates": rates,
        "total_tokens": args.total_tokens,
        "realised_share": _shares(tokens_by_source),
    }}


def _shares(tokens: dict[str, float]) -> dict[str, float]:
    total = sum(tokens.values()) or 1
    return {n: round(c / total, 6) for n, c in tokens.items()}
