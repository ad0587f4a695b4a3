"""The verification cache: a result per (toolchain version, header, code), in one SQLite file.

Reruns and later expert-iteration rounds ask Lean about the same code again and again (the same
statement's elaboration check, the same portfolio tactic); with the cache they pay once. Only
definite answers are kept (verified / error): a timeout or a crash may go another way next time.
SQLite in WAL mode lets the local Beam workers (separate processes) share one file.

    cache = VerificationCache("out/formal/verify_cache.sqlite")
    verifier = CachedVerifier(ReplVerifier(...), cache)
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time

from formal.results import ERROR, VERIFIED, VerifyRequest, VerifyResult

CACHEABLE = (VERIFIED, ERROR)


class VerificationCache:
    def __init__(self, path: str):
        self.path = path
        if os.path.dirname(os.path.abspath(path)):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, status TEXT, result TEXT, created REAL)"
        )
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: list[str]) -> dict[str, VerifyResult]:
        found: dict[str, VerifyResult] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for i in range(0, len(unique), 500):
                chunk = unique[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for key, result in self._db.execute(f"SELECT key, result FROM results WHERE key IN ({marks})", chunk):
                    r = VerifyResult.from_json(json.loads(result))
                    r.cached = True
                    found[key] = r
        self.hits += sum(1 for k in keys if k in found)
        self.misses += sum(1 for k in keys if k not in found)
        return found

    def put_many(self, items: list[tuple[str, VerifyResult]]) -> None:
        rows = [(k, r.status, json.dumps(r.to_json(), ensure_ascii=False), time.time())
                for k, r in items if r.status in CACHEABLE]
        if not rows:
            return
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)", rows)
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM results").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedVerifier:
    """Any verifier, with the cache in front of it. Same interface as the verifier it wraps."""

    def __init__(self, inner, cache: VerificationCache):
        self.inner = inner
        self.cache = cache

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def toolchain(self) -> str:
        return self.inner.toolchain

    def verify(self, requests: list[VerifyRequest]) -> list[VerifyResult]:
        keys = [r.key(self.toolchain) for r in requests]
        found = self.cache.get_many(keys)
        # Ask Lean once per distinct key, even if a batch repeats a request.
        todo: dict[str, VerifyRequest] = {}
        for key, req in zip(keys, requests):
            if key not in found and key not in todo:
                todo[key] = req
        if todo:
            fresh = self.inner.verify(list(todo.values()))
            new = dict(zip(todo.keys(), fresh))
            self.cache.put_many(list(new.items()))
            found.update(new)
        out = []
        for key, req in zip(keys, requests):
            r = found[key]
            out.append(VerifyResult(r.status, r.messages, r.sorries, r.elapsed_ms, req.id, r.detail, r.cached))
        return out

    def close(self) -> None:
        self.inner.close()
        self.cache.close()


def statement_key(cand: dict) -> str:
    """The join key of a statement's cache entries: its header and statement. The entries' own keys
    add the toolchain and the code (statement and proof), so another Lean misses, as it should."""
    h = hashlib.sha256()
    for part in (cand["header"].strip(), cand["statement"].strip()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class JoinedCache:
    """The cache entries a join brought to one batch of statements, and the ones the batch adds.

    The same `get_many`/`put_many` as `VerificationCache`, so `CachedVerifier` sits in front of a
    backend either way; nothing is shared between batches (the dataset is the shared copy). Its size
    is the batch's statements times the requests per statement (attempts, checks, lemmas)."""

    def __init__(self, entries):
        self.known: dict[str, dict] = {e["key"]: e["result"] for e in entries}
        self.new: list[tuple[str, dict]] = []
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: list[str]) -> dict[str, VerifyResult]:
        found = {}
        for k in dict.fromkeys(keys):
            if k in self.known:
                r = VerifyResult.from_json(self.known[k])
                r.cached = True
                found[k] = r
        self.hits += sum(1 for k in keys if k in found)
        self.misses += sum(1 for k in keys if k not in found)
        return found

    def put_many(self, items: list[tuple[str, VerifyResult]]) -> None:
        for k, r in items:
            if r.status in CACHEABLE and k not in self.known:
                self.known[k] = r.to_json()
                self.new.append((k, r))

    def close(self) -> None:
        pass
