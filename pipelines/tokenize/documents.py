"""What each input contributes to training: a document's text, whether it is code, and how big a source is.

Per contract: `web_doc` -> its `text`; `code_repo` -> its `text` (code, so FIM applies);
`formal_proof` -> its `text` (informal problem + statement + proof), rebuilt from the parts when a
row lacks it, with proofs Lean rejected left out (see FORMAL_KEEP); plain JSONL/Parquet -> `text`,
code when a row carries a programming-language marker (`languages`, or a `language`/`lang` that
names one of the Coder-V2 languages, so web documents' "en" stays natural language); a `documents`
dataset (what `dedup` writes from plain files) -> as the plain files it was made from.
"""

from __future__ import annotations

import functools
import os

from deepcorpus.core import storage
from deepcorpus.core.contracts import CODE_REPO, DOCUMENTS, FORMAL_PROOF, TOKEN_SHARD, WEB_DOC
from deepcorpus.core.datasets import Source
from deepcorpus.core.errors import UserError

READABLE = (WEB_DOC, CODE_REPO, FORMAL_PROOF, DOCUMENTS)
# The columns read per contract; plain files are read with whichever of PLAIN_COLUMNS they have.
COLUMNS = {
    WEB_DOC: ["id", "text"],
    CODE_REPO: ["id", "text"],
    FORMAL_PROOF: ["id", "text", "informal", "formal_statement", "proof", "verified", "status"],
}
PLAIN_COLUMNS = ["id", "text", "language", "languages", "lang"]
# Which formal proofs train: "verified" only; "not-failed" adds those never checked (status
# "unverified", e.g. a run without Lean) and leaves out the ones Lean rejected; "all" keeps every row.
FORMAL_KEEP = ("verified", "not-failed", "all")
FAILED_STATUSES = frozenset({"error", "timeout", "crashed", "rejected"})
_GZIP_RATIO = 4  # a guess at how much text a .jsonl.gz holds per byte, for sizing only


@functools.lru_cache(maxsize=1)
def code_languages() -> frozenset[str]:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "deepcorpus", "data", "coder_v2_languages.txt")
    with open(path, encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def check_readable(source: Source) -> None:
    if source.schema_name == TOKEN_SHARD:
        raise UserError(f"{source.spec}: already token shards; give the corpora they were made from")
    if source.schema_name is not None and source.schema_name not in READABLE:
        raise UserError(f"{source.spec}: a {source.schema_name} dataset cannot be tokenized")


def columns_for(source: Source) -> list[str] | None:
    """The columns to read from a source (None: all of a JSONL row, which is read whole anyway)."""
    if source.schema_name == DOCUMENTS:  # plain rows committed as a dataset: its parts say which columns
        names = set(_parquet_file(source.dataset.files[0]).schema_arrow.names) if source.dataset.files else set()
        return [c for c in PLAIN_COLUMNS if c in names]
    if source.schema_name is not None:
        return COLUMNS[source.schema_name]
    if source.kind == "parquet":
        names = set(_parquet_file(source.files[0]).schema_arrow.names) if source.files else set()
        return [c for c in PLAIN_COLUMNS if c in names]
    return None


def _parquet_file(path: str):
    """A ParquetFile with random access, so only the footer is read for metadata."""
    import pyarrow.parquet as pq

    if storage.is_remote(path):
        fs, p = storage.filesystem(path)
        return pq.ParquetFile(fs.open_input_file(p))
    return pq.ParquetFile(path)


def formal_text(row: dict) -> str | None:
    """The formal training text: the `text` column, else informal problem then statement and proof."""
    if row.get("text"):
        return row["text"]
    statement = (row.get("formal_statement") or "") + (row.get("proof") or "")
    parts = [p for p in (row.get("informal"), statement) if p]
    return "\n\n".join(parts) or None


def proof_kept(row: dict, keep: str = "not-failed") -> bool:
    """Whether a formal_proof row trains under `keep` (one of FORMAL_KEEP)."""
    status, verified = row.get("status"), row.get("verified")
    if keep == "all":
        return True
    if keep == "verified":
        return verified is True or status == "verified"
    return status not in FAILED_STATUSES and not (status is None and verified is False)


def document_text(row: dict, schema: str | None, formal_keep: str = "not-failed") -> str | None:
    """The text a row contributes, or None when it contributes nothing."""
    if schema == FORMAL_PROOF:
        return formal_text(row) if proof_kept(row, formal_keep) else None
    text = row.get("text")
    return text if isinstance(text, str) and text else None


def is_code(row: dict, schema: str | None) -> bool:
    """Whether FIM applies: code repositories, or plain rows that name a programming language."""
    if schema == CODE_REPO:
        return True
    if schema not in (None, DOCUMENTS):
        return False
    if isinstance(row.get("languages"), list) and row["languages"]:
        return True
    marker = row.get("language") or row.get("lang")
    return isinstance(marker, str) and marker.strip().lower() in code_languages()


def source_names(sources: list[Source]) -> list[str]:
    """Short unique names for sources: a run directory's name for its corpus, else the file's stem."""
    names = []
    for source in sources:
        path = source.dataset.path if source.dataset is not None else source.spec
        base = storage.basename(path)
        if base == "corpus":  # OUT/math/corpus reads better as "math"
            base = storage.basename(storage.parent(path)) or base
        for ext in (".gz", ".jsonl", ".json", ".ndjson", ".parquet"):
            base = base.removesuffix(ext)
        base = base.replace("*", "") or "input"
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names


def estimate_text_bytes(source: Source) -> int:
    """About how many bytes of text a source holds, from Parquet metadata or file sizes (no full read)."""
    files = source.dataset.files if source.dataset is not None else source.files
    total = 0
    for f in files:
        if f.endswith(".parquet"):
            total += _parquet_text_bytes(f)
        elif f.endswith(".gz"):
            total += storage.size(f) * _GZIP_RATIO
        else:
            total += storage.size(f)
    return total


def _parquet_text_bytes(path: str) -> int:
    meta = _parquet_file(path).metadata
    total = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            if column.path_in_schema == "text":
                total += column.total_uncompressed_size
    return total
