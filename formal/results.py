"""What a verification request is and what comes back: one clean result for every request.

A result's `status` is one of VERIFIED, ERROR, TIMEOUT, CRASHED. "Verified" follows DeepSeek-Prover
V1.5's verifier: no error message, no `sorry` left, and no "declaration uses 'sorry'" warning. The
positions and goals of the `sorry`s are kept because they drive subgoal decomposition (Prover-V2).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

VERIFIED = "verified"
ERROR = "error"
TIMEOUT = "timeout"
CRASHED = "crashed"
STATUSES = (VERIFIED, ERROR, TIMEOUT, CRASHED)

# `native_decide` trusts the compiler (axiom Lean.ofReduceBool); users may want to exclude such proofs.
TRUSTS_COMPILER = ("native_decide", "Lean.ofReduceBool")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based, as Lean reports it
    column: int  # 0-based, in Unicode code points

    @classmethod
    def from_json(cls, obj: dict | None) -> Position | None:
        if not obj:
            return None
        return cls(int(obj.get("line", 0)), int(obj.get("column", 0)))


@dataclass(frozen=True)
class LeanMessage:
    severity: str  # "error" | "warning" | "info" | "trace"
    data: str
    pos: Position | None = None
    end_pos: Position | None = None

    @classmethod
    def from_json(cls, obj: dict) -> LeanMessage:
        return cls(
            severity=str(obj.get("severity", "error")),
            data=str(obj.get("data", "")),
            pos=Position.from_json(obj.get("pos")),
            end_pos=Position.from_json(obj.get("endPos")),
        )

    def to_row(self) -> dict:
        """The formal_proof contract's message struct."""
        return {
            "severity": self.severity,
            "line": self.pos.line if self.pos else None,
            "column": self.pos.column if self.pos else None,
            "data": self.data,
        }

    @property
    def is_sorry_warning(self) -> bool:
        return self.severity == "warning" and "declaration uses 'sorry'" in self.data.replace("`", "'")


@dataclass(frozen=True)
class SorryGoal:
    """A `sorry` left in the code: where it is and the goal it stands for."""

    goal: str
    pos: Position | None = None
    end_pos: Position | None = None
    proof_state: int | None = None

    @classmethod
    def from_json(cls, obj: dict) -> SorryGoal:
        ps = obj.get("proofState")
        return cls(
            goal=str(obj.get("goal", "")),
            pos=Position.from_json(obj.get("pos")),
            end_pos=Position.from_json(obj.get("endPos")),
            proof_state=int(ps) if ps is not None else None,
        )


@dataclass(frozen=True)
class VerifyRequest:
    """Lean code to check. `header` (imports, options, `open`s) is run once per process and reused."""

    code: str
    header: str = ""
    timeout_s: float = 60.0
    id: str = ""

    def key(self, toolchain: str) -> str:
        """The cache key: (toolchain version, header, code)."""
        h = hashlib.sha256()
        for part in (toolchain, self.header.strip(), self.code.strip()):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()


@dataclass
class VerifyResult:
    status: str
    messages: list[LeanMessage] = field(default_factory=list)
    sorries: list[SorryGoal] = field(default_factory=list)
    elapsed_ms: float = 0.0
    id: str = ""
    detail: str = ""  # why a request timed out or crashed, for the user
    cached: bool = False

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    @property
    def errors(self) -> list[LeanMessage]:
        return [m for m in self.messages if m.severity == "error"]

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("cached")
        return d

    @classmethod
    def from_json(cls, obj: dict) -> VerifyResult:
        def pos(p):
            return Position(**p) if p else None

        return cls(
            status=obj["status"],
            messages=[LeanMessage(m["severity"], m["data"], pos(m.get("pos")), pos(m.get("end_pos")))
                      for m in obj.get("messages", [])],
            sorries=[SorryGoal(s["goal"], pos(s.get("pos")), pos(s.get("end_pos")), s.get("proof_state"))
                     for s in obj.get("sorries", [])],
            elapsed_ms=float(obj.get("elapsed_ms", 0.0)),
            id=obj.get("id", ""),
            detail=obj.get("detail", ""),
        )


def judge(messages: list[LeanMessage], sorries: list[SorryGoal]) -> str:
    """VERIFIED only for a complete proof: no errors, no sorries, no 'declaration uses sorry'."""
    if any(m.severity == "error" for m in messages):
        return ERROR
    if sorries or any(m.is_sorry_warning for m in messages):
        return ERROR
    return VERIFIED


def trusts_compiler(code: str) -> bool:
    return any(t in code for t in TRUSTS_COMPILER)
