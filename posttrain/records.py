"""The records post-training reads: JSONL or Parquet files of prompt/completion pairs, chats, or prompts.

    {"prompt": "...", "completion": "..."}                       SFT (`formal run`'s sft.jsonl is one)
    {"messages": [{"role": "user", "content": "..."}, ...]}     SFT on a chat: the assistant turns are learnt
    {"prompt": "...", "answer": "42"}                           GRPO: what the reward checks rides along

Files are read one record at a time (never whole); a bad record is a one-line error naming the file
and the record.
"""

from __future__ import annotations

from collections.abc import Iterator

from deepcorpus.core import datasets, storage
from deepcorpus.core.errors import UserError

ROLES = ("system", "user", "assistant")


def input_files(specs: list[str], what: str) -> list[str]:
    """The files behind paths and globs, each a JSONL or Parquet file."""
    if not specs:
        raise UserError(f"no {what} given")
    files = []
    for spec in specs:
        if storage.is_dir(spec):
            raise UserError(f"{spec}: a directory; give the JSONL or Parquet file(s) of {what}")
        found = storage.expand(spec)
        if not found:
            raise UserError(f"{spec}: no such file")
        for f in found:
            if not (f.endswith(".parquet") or datasets._is_jsonl(f)):
                raise UserError(f"{f}: not a JSONL or Parquet file")
        files += found
    return files


def iter_records(path: str) -> Iterator[tuple[str, dict]]:
    """(where, record) for each record of one file; `where` names it in messages ('FILE: record 3')."""
    kind = "parquet" if path.endswith(".parquet") else "jsonl"
    try:
        for i, row in enumerate(datasets.iter_file_rows(path, kind), 1):
            yield f"{path}: record {i}", row
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as e:
        raise UserError(f"{path}: cannot be read ({str(e).splitlines()[0]})") from None


def check_messages(messages, where: str) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise UserError(f"{where}: `messages` must be a non-empty list of {{role, content}} objects")
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise UserError(f"{where}: each message needs a role ({', '.join(ROLES)}) and a string content")
    return messages


def text_field(record: dict, name: str, where: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        got = "missing" if value is None else type(value).__name__
        raise UserError(f"{where}: `{name}` must be a string ({got})")
    return value
