"""The leanprover-community `repl` JSON protocol: encode commands, split and parse responses.

Commands go to the REPL's stdin as one JSON object followed by a blank line. `{"cmd": CODE}` elaborates
CODE in a fresh environment (the only place `import` is allowed); `{"cmd": CODE, "env": N}` runs it on
top of environment N, which is how a header loaded once is reused for every proof. Each response is a
(pretty-printed) JSON object followed by a blank line:

    {"sorries": [{"proofState": 0, "pos": {...}, "goal": "⊢ 1 = 1", "endPos": {...}}],
     "messages": [{"severity": "warning", "pos": {...}, "endPos": {...}, "data": "declaration uses `sorry`"}],
     "env": 0}

A request the REPL cannot serve (an unknown environment, unparsable JSON) comes back as
`{"message": "Unknown environment."}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from formal.results import LeanMessage, SorryGoal


class ProtocolError(Exception):
    """The REPL answered something that is not a response of the protocol."""


def encode_command(code: str, env: int | None = None, **extra) -> bytes:
    """One command as the bytes to write to the REPL's stdin (newlines inside CODE stay escaped)."""
    obj: dict = {"cmd": code}
    if env is not None:
        obj["env"] = env
    obj.update(extra)
    return (json.dumps(obj, ensure_ascii=False) + "\n\n").encode()


def encode_tactic(tactic: str, proof_state: int) -> bytes:
    return (json.dumps({"tactic": tactic, "proofState": proof_state}, ensure_ascii=False) + "\n\n").encode()


@dataclass
class ReplResponse:
    """A parsed response: the new environment (or proof state) and what Lean said."""

    env: int | None = None
    messages: list[LeanMessage] = field(default_factory=list)
    sorries: list[SorryGoal] = field(default_factory=list)
    proof_state: int | None = None
    goals: list[str] = field(default_factory=list)
    error: str | None = None  # the REPL refused the request ({"message": ...})
    raw: dict = field(default_factory=dict)


def parse_response(obj: dict) -> ReplResponse:
    if not isinstance(obj, dict):
        raise ProtocolError(f"expected a JSON object, got {type(obj).__name__}")
    if "message" in obj and "env" not in obj and "proofState" not in obj:
        return ReplResponse(error=str(obj["message"]), raw=obj)
    return ReplResponse(
        env=obj.get("env"),
        messages=[LeanMessage.from_json(m) for m in obj.get("messages") or []],
        sorries=[SorryGoal.from_json(s) for s in obj.get("sorries") or []],
        proof_state=obj.get("proofState"),
        goals=list(obj.get("goals") or []),
        raw=obj,
    )


class ResponseSplitter:
    """Feed bytes as they arrive from stdout; take out each complete response.

    A response ends at a blank line. JSON strings escape their newlines, so a blank line never occurs
    inside one response, and a response split across reads is kept until its end arrives.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[dict]:
        self._buffer += data
        out = []
        while True:
            # Blank line = "\n\n" possibly with spaces or "\r" between; normalise CRLF first.
            text = self._buffer.replace(b"\r\n", b"\n")
            cut = text.find(b"\n\n")
            if cut < 0:
                self._buffer = text
                return out
            chunk, self._buffer = text[:cut], text[cut + 2 :]
            if not chunk.strip():
                continue
            out.extend(_decode_objects(chunk))

    @property
    def pending(self) -> bytes:
        return self._buffer


def _decode_objects(chunk: bytes) -> list[dict]:
    """Every JSON object in CHUNK; some recorded transcripts put two responses on adjacent lines."""
    decoder = json.JSONDecoder()
    try:
        text = chunk.decode()
    except UnicodeDecodeError as e:
        raise ProtocolError(f"response from the REPL is not UTF-8 ({e})") from None
    # Tools that start the REPL (e.g. `lake exe repl` building it first) may print progress lines
    # to stdout; a response always starts with "{" at the beginning of a line.
    start = 0 if text.startswith("{") else text.find("\n{") + 1
    if start == 0 and not text.startswith("{"):
        return []
    objs, i = [], start
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return objs
        try:
            obj, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise ProtocolError(f"malformed response from the REPL ({e.msg}): {text[:200]!r}") from None
        objs.append(obj)


def parse_transcript(text: str) -> list[dict]:
    """All responses in a transcript (e.g. a recorded `*.expected.out`)."""
    splitter = ResponseSplitter()
    objs = splitter.feed(text.encode())
    rest = splitter.pending.strip()
    if rest:  # the last response may lack its trailing blank line
        objs += splitter.feed(b"\n\n")
    return objs


def parse_commands(text: str) -> list[dict]:
    """The commands of a REPL input file (`*.in`): JSON objects separated by blank lines."""
    return parse_transcript(text)
