"""`deepcorpus tokenize show`: look at token shards as text, or check their packing part by part.

Decoding uses the tokenizer the manifest names (or `--tokenizer`), refused if its hash is not the
shards'. Rows are printed as the trainer sees them, with a marker where each document begins.
"""

from __future__ import annotations

from deepcorpus.core.errors import UserError
from pipelines.tokenize import shards
from pipelines.tokenize.tokenizer import check_tokenizer_matches, load_tokenizer

DOC_MARK = "\n⟦document⟧\n"


def format_row(tok, tokens: list[int], doc_starts: list[int]) -> str:
    """A row as text, DOC_MARK before every document that begins in it; special tokens shown."""
    cuts = [0, *[s for s in doc_starts if s > 0], len(tokens)]
    pieces = [tok.decode(tokens[a:b], skip_special_tokens=False) for a, b in zip(cuts, cuts[1:])]
    text = DOC_MARK.join(pieces)
    return DOC_MARK.lstrip("\n") + text if 0 in doc_starts else text


def check(ds) -> tuple[int, int]:
    """(documents, parts) after checking that every part unpacks and its doc_starts match."""
    n_docs = 0
    for part in ds.files:
        try:
            n_docs += len(shards.unpack(shards.part_tokens(ds, part), ds.manifest["eos_id"], ds.manifest["pad_id"]))
            shards.check_part(ds, part)
        except ValueError as e:
            raise UserError(f"{part}: {e}") from None
    return n_docs, len(ds.files)


def run(args) -> int:
    from deepcorpus.core import datasets

    ds = shards.open_shards(args.shards)
    if args.check:
        n_docs, n_parts = check(ds)
        print(f"{args.shards}: ok, {n_docs:,} documents in {n_parts} part(s), each ending with EOS")
        return 0
    path = args.tokenizer or ds.manifest.get("tokenizer")
    if not path:
        raise UserError(f"{args.shards}: the manifest names no tokenizer; give --tokenizer")
    check_tokenizer_matches(ds.manifest, path, args.shards)
    tok = load_tokenizer(path)
    if not 0 <= args.part < len(ds.files):
        raise UserError(f"{args.shards}: --part {args.part}, but there are {len(ds.files)} part(s)")
    part = ds.files[args.part]
    table = datasets.read_parquet(part).slice(0, max(args.rows, 0))
    for i, row in enumerate(table.to_pylist()):
        print(f"== {part} row {i} (source {row['source']}, documents begin at {row['doc_starts']}) ==")
        print(format_row(tok, row["tokens"], row["doc_starts"]))
    return 0
