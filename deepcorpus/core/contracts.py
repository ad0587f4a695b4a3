"""The data contracts: one pyarrow schema per kind of dataset, each with a version.

This module is the single source of truth for column names and types. Pipelines build rows as
plain dicts with these keys; readers check a dataset's manifest against the version here and
refuse anything else. Nothing in here imports from the rest of the project.

Bump a schema's version whenever a column is renamed, removed or retyped; adding a nullable
column at the end is compatible and needs no bump only if every reader tolerates its absence.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

WEB_DOC = "web_doc"
CODE_REPO = "code_repo"
FORMAL_PROOF = "formal_proof"
TOKEN_SHARD = "token_shard"
DOCUMENTS = "documents"
EVAL_ITEM = "eval_item"
MATH_SCORE = "math_score"

# How DuckDB views and `deepcorpus inspect` name each kind's table.
VIEW_NAMES = {WEB_DOC: "docs", CODE_REPO: "repos", FORMAL_PROOF: "proofs", TOKEN_SHARD: "tokens", DOCUMENTS: "docs",
              EVAL_ITEM: "evals", MATH_SCORE: "scores"}


@dataclass(frozen=True)
class Contract:
    name: str
    version: int
    schema: pa.Schema
    doc: str


_EXTRACTION = pa.struct(
    [
        ("extractor", pa.string()),  # e.g. "resiliparse+math"
        ("math_formats", pa.list_(pa.string())),  # which markups were found: mathjax, katex, mathml...
        ("n_formulas", pa.int32()),
        ("encoding", pa.string()),  # the charset the page was decoded with
    ]
)

WEB_DOC_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("domain", pa.string()),
        ("text", pa.string()),
        ("language", pa.string()),
        ("language_score", pa.float32()),
        ("score", pa.float32()),  # classifier probability of the positive class; null if unscored
        ("iteration", pa.int32()),  # mining iteration that collected it; null outside the math loop
        ("token_count", pa.int64()),
        ("content_hash", pa.string()),
        ("crawl_date", pa.string()),  # ISO 8601 as in WARC-Date
        ("extraction", _EXTRACTION),
    ]
)

_CODE_FILE = pa.struct([("path", pa.string()), ("language", pa.string()), ("bytes", pa.int64())])

CODE_REPO_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("repo", pa.string()),
        ("text", pa.string()),  # the files concatenated in `order`, each headed by a path comment
        ("files", pa.list_(_CODE_FILE)),
        ("languages", pa.list_(pa.string())),
        ("order", pa.string()),  # "dependency" or "random"
        ("license", pa.string()),
        ("stars", pa.int64()),
        ("token_count", pa.int64()),
        ("content_hash", pa.string()),
        ("quality", pa.map_(pa.string(), pa.float64())),  # heuristic quality signals by name
    ]
)

_LEAN_MESSAGE = pa.struct(
    [
        ("severity", pa.string()),
        ("line", pa.int32()),
        ("column", pa.int32()),
        ("data", pa.string()),
    ]
)

FORMAL_PROOF_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("name", pa.string()),
        ("informal", pa.string()),
        ("formal_statement", pa.string()),
        ("proof", pa.string()),
        ("header", pa.string()),
        ("toolchain", pa.string()),
        ("verified", pa.bool_()),
        ("status", pa.string()),  # verified | error | timeout | crashed | unverified | rejected
        ("messages", pa.list_(_LEAN_MESSAGE)),
        ("attempts", pa.int32()),
        ("elapsed_ms", pa.float64()),
        ("round", pa.int32()),
        ("generator", pa.string()),
        ("text", pa.string()),  # statement + proof (with the informal problem) as training text
    ]
)

TOKEN_SHARD_DOC = (
    "tokens: fixed-size list of seq_len + 1 ids; doc_starts: offsets within the row where a "
    "document begins; source: the dataset the row's first token came from"
)


def token_shard_schema(seq_len: int, vocab_size: int) -> pa.Schema:
    """Token rows hold `seq_len + 1` ids so the trainer can shift inputs and targets itself."""
    id_type = pa.int32() if vocab_size <= 2**31 - 1 else pa.uint32()
    return pa.schema(
        [
            ("tokens", pa.list_(id_type, seq_len + 1)),
            ("doc_starts", pa.list_(pa.int32())),
            ("source", pa.string()),
        ]
    )


# Any documents with at least `id` and `text`: what `deepcorpus dedup` writes for plain JSONL/Parquet
# input, and for the removed documents (their input columns plus `duplicate_of`, `dedup_reason`).
# Further columns are whatever each part's own Parquet schema says.
DOCUMENTS_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string())])
DOCUMENTS_DOC = "documents with id and text; further columns as the parts' Parquet schema says"

# One row per benchmark item and task: its bits per byte, or one generated sample and its verdict.
EVAL_ITEM_SCHEMA = pa.schema(
    [
        ("benchmark", pa.string()),
        ("kind", pa.string()),  # gsm8k | math | humaneval | mbpp | minif2f | qa | text
        ("item_id", pa.string()),
        ("task", pa.string()),  # bpb | generate
        ("sample", pa.int32()),  # which of the item's samples (generate); null for bpb
        ("prompt", pa.string()),  # the question, problem or statement, without the few-shot examples
        ("output", pa.string()),  # the completion, cut at the stop strings
        ("extracted", pa.string()),  # the final answer taken from it (math kinds)
        ("reference", pa.string()),  # the reference answer (generate) or the scored text (bpb)
        ("correct", pa.bool_()),
        ("status", pa.string()),  # correct | wrong | passed | failed | timeout | error | verified | unverified
        ("bits", pa.float64()),  # bpb: -sum log2 p over the text's tokens
        ("bytes", pa.int64()),  # bpb: UTF-8 bytes of the text
        ("tokens", pa.int64()),
        ("detail", pa.string()),  # how it was judged: the comparison used, stderr's tail, Lean's messages
    ]
)
# Every candidate's classifier score in one math iteration (`math run`'s iter_K/scores/).
MATH_SCORE_SCHEMA = pa.schema([("id", pa.string()), ("url", pa.string()), ("domain", pa.string()),
                               ("score", pa.float32()), ("token_count", pa.int64()), ("language", pa.string())])

CONTRACTS: dict[str, Contract] = {
    WEB_DOC: Contract(WEB_DOC, 1, WEB_DOC_SCHEMA, "web documents (math and general)"),
    CODE_REPO: Contract(CODE_REPO, 1, CODE_REPO_SCHEMA, "repository-level code documents"),
    FORMAL_PROOF: Contract(FORMAL_PROOF, 1, FORMAL_PROOF_SCHEMA, "Lean 4 statements and proofs"),
    # The schema depends on seq_len and vocabulary; the manifest records both.
    TOKEN_SHARD: Contract(TOKEN_SHARD, 1, token_shard_schema(2048, 32000), TOKEN_SHARD_DOC),
    DOCUMENTS: Contract(DOCUMENTS, 1, DOCUMENTS_SCHEMA, DOCUMENTS_DOC),
    EVAL_ITEM: Contract(EVAL_ITEM, 1, EVAL_ITEM_SCHEMA, "per-item outputs of `deepcorpus eval`"),
    MATH_SCORE: Contract(MATH_SCORE, 1, MATH_SCORE_SCHEMA, "a math iteration's score of every candidate"),
}


def contract(name: str) -> Contract:
    try:
        return CONTRACTS[name]
    except KeyError:
        raise ValueError(f"unknown schema {name!r}; known: {', '.join(sorted(CONTRACTS))}") from None


def conform(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Build a table with exactly `schema`'s columns; missing keys become nulls."""
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)
