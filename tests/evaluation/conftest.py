"""Small real inputs for the evaluation tests: a tokenizer, token shards of two kinds of text, a run.

The two kinds are arithmetic ("17 + 25 = 42.") and English prose, so an ablation between them has a
known answer: each arm's model has the lower bits per byte on held-out text of its own kind.
"""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import session_dir

SEQ = 64
SENTENCES = [
    "The city council met on Tuesday to discuss the new library.",
    "Rain is expected across the valley for most of the weekend.",
    "She walked her dog along the river before breakfast.",
    "The bakery on the corner sells fresh bread every morning.",
    "Our neighbours planted roses and tulips in the spring.",
    "The museum opened a new wing with paintings from the coast.",
    "He reads the newspaper on the train to work each day.",
    "The children built a sandcastle near the old pier.",
    "A quiet cafe downtown serves soup and warm sandwiches.",
    "The football team trained hard for the final match.",
    "Visitors lined up outside the theatre for the premiere.",
    "The farmer sold apples and pears at the Saturday market.",
]


def arithmetic_docs(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        lines = []
        for _ in range(rng.randint(3, 6)):
            a, b = rng.randint(1, 99), rng.randint(1, 99)
            op = rng.choice("+-*")
            value = {"+": a + b, "-": a - b, "*": a * b}[op]
            lines.append(f"{a} {op} {b} = {value}.")
        docs.append(" ".join(lines))
    return docs


def prose_docs(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(SENTENCES, k=rng.randint(2, 4))) for _ in range(n)]


def train_test_tokenizer(path: str):
    from pipelines.tokenize.tokenizer import save_tokenizer, train_tokenizer

    tok = train_tokenizer(arithmetic_docs(300, 1) + prose_docs(300, 2), vocab_size=400)
    digest = save_tokenizer(tok, path)
    return tok, digest


def write_tokens(path: str, texts: list[str], tokenizer_path: str, source: str, max_tokens: int | None = None) -> int:
    """Pack `texts` as `tokenize run` does (documents ending in EOS) into token shards; returns the
    number of tokens packed (the stream is cut at `max_tokens`)."""
    from deepcorpus.core.contracts import TOKEN_SHARD, token_shard_schema
    from deepcorpus.core.datasets import DatasetWriter
    from pipelines.tokenize.packing import pack
    from pipelines.tokenize.tokenizer import load_tokenizer, shard_manifest_keys, tokenizer_hash

    tok = load_tokenizer(tokenizer_path)
    keys = shard_manifest_keys(tok, tokenizer_hash(tokenizer_path))
    schema = token_shard_schema(SEQ, keys["vocab_size"])
    docs, total = [], 0
    for enc in tok.encode_batch(texts):
        if max_tokens is not None and total + len(enc.ids) + 1 > max_tokens:
            break
        docs.append((source, enc.ids))
        total += len(enc.ids) + 1
    table, _ = pack(docs, SEQ, keys["eos_id"], keys["pad_id"], schema)
    with DatasetWriter(path, TOKEN_SHARD, schema=schema) as w:
        w.write_table(table)
        w.extra.update(seq_len=SEQ, tokenizer=tokenizer_path, **keys)
    return total


def write_text_benchmark(path, texts: list[str]) -> str:
    with open(path, "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"t{i}", "text": t}) + "\n")
    return str(path)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A tokenizer, mixed token shards and a `tiny` model trained on them for a few steps (once per session)."""
    from deepcorpus.cli import main

    with session_dir(tmp_path_factory, "eval_tiny") as root:
        tokenizer, tokens, run = root / "tokenizer.json", root / "tokens", root / "run"
        if not (run / "summary.json").exists():
            root.mkdir(exist_ok=True)
            train_test_tokenizer(str(tokenizer))
            texts = [t for pair in zip(arithmetic_docs(120, 3), prose_docs(120, 4)) for t in pair]
            write_tokens(str(tokens), texts, str(tokenizer), "mixed")
            code = main(["train", "--preset", "tiny", "--data", str(tokens), "--steps", "12", "--batch-size", "8",
                         "--loader-workers", "1", "--log-every", "12", "--output", str(run)])
            assert code == 0
        return {"root": root, "tokenizer": str(tokenizer), "tokens": str(tokens), "run": str(run)}
