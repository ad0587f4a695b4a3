"""Split Lean code into its header (imports, options, `open`s) and its body.

The header is what a REPL process loads once and reuses; the body is elaborated per proof. Code that
a generator writes whole (`import Mathlib\\nopen Nat\\ntheorem ...`) is split here so it can share a
process with every other proof that has the same header. Comments and blank lines are not part of the
cache key, and repeated imports count once (Kimina server issue #73: such noise defeats reuse).
"""

from __future__ import annotations

import re

# The header Prover-V1.5 used with Mathlib; our core default needs no package at all.
MATHLIB_HEADER = (
    "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat"
)
# ℕ and ℤ are Mathlib's notation; the core header defines them so statements read the same either way.
CORE_HEADER = 'set_option maxHeartbeats 400000\nnotation "ℕ" => Nat\nnotation "ℤ" => Int'

_HEADER_LINE = re.compile(r"^\s*(import\s|set_option\s|open\s(?!.*\bin\s*$))")
_COMMENT = re.compile(r"^\s*--")


def _strip_block_comments(text: str) -> str:
    return re.sub(r"/-(?!-).*?-/", "", text, flags=re.S)


def split_header(code: str) -> tuple[str, str]:
    """(header, body): the leading import / set_option / open lines, and everything after them."""
    lines = code.split("\n")
    header: list[str] = []
    seen_imports: set[str] = set()
    i = 0
    in_block_comment = False
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if in_block_comment:
            in_block_comment = "-/" not in stripped
            i += 1
            continue
        if stripped.startswith("/-") and not stripped.startswith("/--"):
            in_block_comment = "-/" not in stripped[2:]
            i += 1
            continue
        if not stripped or _COMMENT.match(line):
            i += 1
            continue
        if _HEADER_LINE.match(line):
            if stripped.startswith("import "):
                if stripped in seen_imports:
                    i += 1
                    continue
                seen_imports.add(stripped)
            header.append(stripped)
            i += 1
            continue
        break
    return normalize_header("\n".join(header)), "\n".join(lines[i:]).strip("\n")


def normalize_header(header: str) -> str:
    """A canonical form of a header: no comments or blank lines, imports first, each once."""
    text = _strip_block_comments(header)
    imports, rest = [], []
    for line in text.split("\n"):
        s = line.strip()
        if not s or s.startswith("--"):
            continue
        if s.startswith("import "):
            if s not in imports:
                imports.append(s)
        else:
            rest.append(s)
    return "\n".join(imports + rest)


def header_imports(header: str) -> list[str]:
    return [line.split(None, 1)[1].strip() for line in normalize_header(header).split("\n") if line.startswith("import ")]


def uses_mathlib(header: str) -> bool:
    return any(m == "Mathlib" or m.startswith("Mathlib.") for m in header_imports(header))
