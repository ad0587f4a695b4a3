"""`deepcorpus tokenize run`: corpora (or a mixture of them) -> packed token shards, as a Beam pipeline.

    Read[src] -> Text[src] -> Flatten -> Batch -> Tokenize (FIM on code) -> Sample (mixture)
      -> GroupByKey (part) -> WritePart

Parts are written by the pipeline into a hidden staging directory; the driver then gathers their
stats, writes the manifest (seq_len, vocab_size, tokenizer_hash, eos/pad/bos ids, tokens_by_source,
FIM and mixture settings) with the commit, and `OUTPUT/summary.json` after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass

from deepcorpus.core import datasets, storage
from deepcorpus.core.contracts import TOKEN_SHARD, token_shard_schema
from deepcorpus.core.errors import UserError
from pipelines.tokenize import documents
from pipelines.tokenize.fim import FimConfig

log = logging.getLogger(__name__)

BYTES_PER_PART = 256 * 2**20  # of input text: ~64M tokens, ~256 MB of ids to pack in one worker


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


def _input_files(inputs: Inputs) -> list[str]:
    return [f for s in inputs.sources for f in (s.dataset.files if s.dataset is not None else s.files)]


def build(pipeline, inputs: Inputs, tokenizer_path: str, tokenizer_hash: str, staging: str, *, seq_len: int, eos_id: int,
          pad_id: int, schema, fim_config: FimConfig, seed: int, num_parts: int, add_bos: bool = False,
          formal_keep: str = "not-failed", total_tokens: int | None = None):
    """Add the tokenize steps to `pipeline`; returns the PCollection of per-part stats."""
    import apache_beam as beam

    from pipelines.io import ReadDocuments
    from pipelines.tokenize import transforms
    from pipelines.tokenize.sampling import mixture_rates

    docs = []
    for source, name in zip(inputs.sources, inputs.names):
        docs.append(
            pipeline
            | f"Read {name}" >> ReadDocuments([source], documents.columns_for(source))
            | f"Text {name}" >> beam.ParDo(transforms.TextFn(name, source.schema_name, formal_keep))
        )
    tokenized = (
        docs | "Merge" >> beam.Flatten()
        | "Batch" >> beam.BatchElements(min_batch_size=64, max_batch_size=512)
        | "Tokenize" >> beam.ParDo(transforms.TokenizeFn(tokenizer_path, tokenizer_hash, fim_config, add_bos))
    )
    sample = transforms.SampleFn(num_parts, seed)
    if inputs.weights is None:
        keyed = tokenized | "Sample" >> beam.ParDo(sample)
    else:
        rates = (
            tokenized
            | "CountTokens" >> beam.Map(transforms.doc_tokens)
            | "SumTokens" >> beam.CombinePerKey(sum)
            | "AsDict" >> beam.combiners.ToDict()
            | "Rates" >> beam.Map(mixture_rates, inputs.weights, total_tokens)
        )
        keyed = tokenized | "Sample" >> beam.ParDo(sample, rates=beam.pvalue.AsSingleton(rates))
    return (
        keyed
        | "GroupByPart" >> beam.GroupByKey()
        | "WritePart" >> beam.ParDo(transforms.WritePartFn(staging, seq_len, eos_id, pad_id, schema))
    )


def config_fingerprint(inputs: Inputs, tokenizer_hash: str, **options) -> str:
    """What determines the shards: input files (size, mtime), tokenizer, options and the tokenize code."""
    identity = {
        "inputs": datasets.fingerprint_files(_input_files(inputs)),
        "names": inputs.names,
        "weights": inputs.weights,
        "tokenizer_hash": tokenizer_hash,
        "code": _code_identity(),
        **options,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def _code_identity() -> str:
    """A hash of the code that decides what the shards hold (this package and the contracts)."""
    here = os.path.dirname(os.path.abspath(__file__))
    from deepcorpus.core import contracts

    files = sorted(os.path.join(here, f) for f in os.listdir(here) if f.endswith(".py")) + [contracts.__file__]
    h = hashlib.sha256()
    for path in files:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def _up_to_date(output: str, fingerprint: str) -> bool:
    """Whether `output` is a committed dataset made from exactly this configuration."""
    try:
        return datasets.read_manifest(output).get("config_fingerprint") == fingerprint
    except UserError:
        return False


def gather_stats(staging: str) -> list[dict]:
    """Read and remove the per-part stats files the pipeline left in `staging`."""
    from pipelines.tokenize.transforms import STATS_PREFIX

    records = []
    for path in storage.listdir(staging):
        if storage.basename(path).startswith(STATS_PREFIX):
            records.append(json.loads(storage.read_bytes(path)))
            storage.remove_tree(path)
    return sorted(records, key=lambda r: r["part"])


def _sum(records: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        for name, n in r[key].items():
            out[name] = out.get(name, 0) + n
    return dict(sorted(out.items()))


def run(args, beam_args: list[str]) -> int:
    from pipelines import runner, summary
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
    if not runner.is_local(runner.pipeline_options(beam_args)) and not storage.is_remote(tokenizer_path):
        raise UserError(f"{args.tokenizer}: remote workers cannot read a local tokenizer; copy it to gs:// or s3://")
    tokenizer_json = read_tokenizer_bytes(args.tokenizer)
    tok = tokenizer_from_bytes(tokenizer_json, args.tokenizer)
    tok_keys = shard_manifest_keys(tok, sha256(tokenizer_json))
    schema = token_shard_schema(args.seq_len, tok_keys["vocab_size"])
    text_bytes = sum(documents.estimate_text_bytes(s) for s in inputs.sources)
    # ~4 bytes of text per token: a --total-tokens that repeats sources needs more parts than the inputs.
    planned_bytes = max(text_bytes, 4 * (args.total_tokens or 0))
    num_parts = args.num_parts or max(1, math.ceil(planned_bytes / BYTES_PER_PART))
    fingerprint = config_fingerprint(inputs, tok_keys["tokenizer_hash"], seq_len=args.seq_len, fim=vars(fim_config),
                                     num_parts=num_parts, add_bos=bool(args.add_bos), total_tokens=args.total_tokens,
                                     formal_keep=args.formal_keep)
    if not args.force and _up_to_date(args.output, fingerprint):
        log.info("%s is up to date (same inputs, tokenizer, options and code); --force rebuilds it", args.output)
        print(f"{args.output}: up to date, nothing to do")
        return 0
    log.info("tokenizing %s (~%s bytes of text) into %d part(s) of rows of %d tokens",
             ", ".join(inputs.names), f"{text_bytes:,}", num_parts, args.seq_len + 1)

    runner.quiet_beam_logging()
    with Stage("tokenize", beam_args, command=command) as stage:
        staging = stage.output(args.output, TOKEN_SHARD, schema)
        storage.makedirs(staging)  # the parts and their stats files are written straight into it
        build(stage.pipeline, inputs, tokenizer_path, tok_keys["tokenizer_hash"], staging, seq_len=args.seq_len,
              eos_id=tok_keys["eos_id"], pad_id=tok_keys["pad_id"], schema=schema, fim_config=fim_config, seed=seed,
              num_parts=num_parts, add_bos=args.add_bos, formal_keep=args.formal_keep,
              total_tokens=args.total_tokens)
        counters = stage.run()
        records = gather_stats(staging)  # none: no documents, and the commit writes an empty part
        extra = _manifest_extra(args, inputs, records, counters, tok_keys, fim_config, seed, tokenizer_path,
                                fingerprint)
        manifest = stage.commit(args.output, inputs=_input_files(inputs), extra=extra)
    elapsed = time.time() - start
    report = {"command": command, "counters": counters, "elapsed_s": round(elapsed, 3),
              **{k: manifest[k] for k in ("row_count", "num_parts", "num_tokens", "padding_tokens",
                                           "tokens_by_source", "seq_len", "vocab_size", "tokenizer_hash")}}
    storage.write_bytes_atomic(storage.join(args.output, "summary.json"), json.dumps(report, indent=2).encode())
    print(summary.format_table(counters, "tokenize"))
    tokens_by_source = manifest["tokens_by_source"]
    shares = _shares(tokens_by_source)
    targets = _shares(inputs.weights) if inputs.weights else {}
    print("tokens by source: " + ", ".join(
        f"{n} {c:,} ({shares[n]:.1%}" + (f", target {targets[n]:.1%})" if n in targets else ")")
        for n, c in tokens_by_source.items()))
    print(f"wrote {manifest['row_count']:,} rows of {args.seq_len + 1} tokens in {manifest['num_parts']} part(s) "
          f"to {args.output} in {elapsed:.1f}s")
    return 0


def _manifest_extra(args, inputs: Inputs, records: list[dict], counters: dict, tok_keys: dict,
                    fim_config: FimConfig, seed: int, tokenizer_path: str, fingerprint: str) -> dict:
    """The token-shard manifest's own keys: how to read the rows, what is in them, how they were made."""
    from pipelines.tokenize.sampling import mixture_rates

    tokens_by_source = _sum(records, "tokens_by_source")
    extra = {
        "seq_len": args.seq_len,
        **tok_keys,
        "tokens_by_source": tokens_by_source,
        "documents_by_source": _sum(records, "documents_by_source"),
        "num_tokens": sum(r["tokens"] for r in records),
        "padding_tokens": sum(r["padding"] for r in records),
        "fim_rate": fim_config.rate,
        "fim_mode": fim_config.mode,
        "seed": seed,
        "add_bos": bool(args.add_bos),
        "formal_keep": args.formal_keep,
        # Where the trainer (and inference after it) finds the tokenizer again.
        "tokenizer": tokenizer_path,
        "sources": dict(zip(inputs.names, (s.spec for s in inputs.sources))),
        "config_fingerprint": fingerprint,
    }
    if inputs.weights is not None:
        # Recomputed from the same counts the pipeline's side input summed, so it matches what ran.
        counted = counters.get("tokenize", {})
        available = {n: counted.get(f"tokens_{n}", 0) for n in inputs.names}
        extra["mixture"] = {
            "weights": inputs.weights,
            "available_tokens": available,
            "rates": mixture_rates(available, inputs.weights, args.total_tokens),
            "total_tokens": args.total_tokens,
            "realised_share": _shares(tokens_by_source),
        }
    return extra


def _shares(tokens: dict[str, float]) -> dict[str, float]:
    total = sum(tokens.values()) or 1
    return {n: round(c / total, 6) for n, c in tokens.items()}
