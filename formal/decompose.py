"""Subgoal decomposition (DeepSeek-Prover-V2): a sketch's `sorry`s become lemmas, proved alone.

A sketch is a proof whose steps are `have h : T := by sorry`. Lean checks it and reports, for each
`sorry`, its position and its goal (`x y : ℕ\\nh₀ : x < y\\n⊢ x + 1 ≤ y`). Each goal becomes a
lemma, `theorem NAME_sub1 (x y : ℕ) (h₀ : x < y) : x + 1 ≤ y`, in two forms: with every hypothesis
of the goal, and without the earlier `have`s (V2 tries both). Once every lemma has a proof, the proofs
replace the `sorry`s in place and the whole proof is verified again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from formal.results import SorryGoal
from formal.statements import Theorem


@dataclass(frozen=True)
class Subgoal:
    index: int  # which sorry (0-based, in the order Lean reported them)
    sorry: SorryGoal
    variants: tuple[Theorem, ...]  # lemma statements to try, most context first


def _clean_name(name: str) -> str:
    # `n✝` is an inaccessible name: it cannot be written in source; give it a plain one.
    return name.replace("✝", "_i").replace("¹", "1").replace("²", "2").replace("³", "3")


def parse_goal(goal: str) -> tuple[list[tuple[list[str], str]], str]:
    """([(names, type)], target) of the first goal in a pretty-printed goal text."""
    first = goal.split("\n\n")[0]
    hyps: list[tuple[list[str], str]] = []
    target_lines: list[str] = []
    in_target = False
    for line in first.split("\n"):
        if in_target:
            target_lines.append(line.strip())
            continue
        if line.startswith("case "):
            continue
        if line.startswith("⊢"):
            in_target = True
            target_lines.append(line[1:].strip())
            continue
        if " : " in line and not line.startswith(" "):
            names, typ = line.split(" : ", 1)
            hyps.append((names.split(), typ.strip()))
        elif hyps:  # a long type wrapped onto the next line
            names, typ = hyps[-1]
            hyps[-1] = (names, f"{typ} {line.strip()}")
    if not in_target:
        raise ValueError(f"no '⊢' in goal: {goal[:80]!r}")
    return hyps, " ".join(target_lines)


def lemma_from_goal(name: str, goal: str, drop: set[str] = frozenset()) -> Theorem:
    hyps, target = parse_goal(goal)
    renames = {}
    binders = []
    for names, typ in hyps:
        kept = [n for n in names if n not in drop]
        if not kept:
            continue
        clean = []
        for n in kept:
            c = _clean_name(n)
            if c != n:
                renames[n] = c
            clean.append(c)
        binders.append((clean, typ))
    for old, new in renames.items():
        target = target.replace(old, new)
        binders = [(ns, t.replace(old, new)) for ns, t in binders]
    return Theorem("theorem", name, tuple(f"({' '.join(ns)} : {t})" for ns, t in binders), target)


def have_names(sketch: str) -> list[str]:
    return re.findall(r"^\s*have\s+([^\s:]+)\s*:", sketch, flags=re.M)


def subgoals(base_name: str, sketch: str, sorries: list[SorryGoal]) -> list[Subgoal]:
    """One Subgoal per sorry, each with the 'all context' and 'without earlier haves' lemma."""
    earlier = set(have_names(sketch))
    out = []
    for i, s in enumerate(sorries):
        full = lemma_from_goal(f"{base_name}_sub{i + 1}", s.goal)
        lean = lemma_from_goal(f"{base_name}_sub{i + 1}", s.goal, drop=earlier)
        variants = (full,) if lean == full else (full, lean)
        out.append(Subgoal(i, s, variants))
    return out


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column


def compose(sketch: str, sorries: list[SorryGoal], proofs: list[str]) -> str:
    """The sketch with each `sorry` replaced by its lemma's tactic proof (text after `by`).

    Positions are Lean's (line 1-based, column in code points) within the sketch as it was sent.
    Multi-line proofs are indented below the `have` line so Lean's layout rule still holds.
    """
    spans = []
    for s, proof in zip(sorries, proofs):
        if s.pos is None:
            raise ValueError("a sorry without a position cannot be replaced")
        start = _offset(sketch, s.pos.line, s.pos.column)
        end = _offset(sketch, s.end_pos.line, s.end_pos.column) if s.end_pos else start + len("sorry")
        if sketch[start:end] != "sorry":
            raise ValueError(f"no 'sorry' at line {s.pos.line}, column {s.pos.column}")
        spans.append((start, end, proof))
    out = sketch
    for start, end, proof in sorted(spans, reverse=True):
        tactic = _strip_by(proof)
        if "\n" in tactic:
            line_start = out.rfind("\n", 0, start) + 1
            indent = len(out[line_start:start]) - len(out[line_start:start].lstrip()) + 2
            tactic = "\n" + "\n".join(" " * indent + t for t in tactic.split("\n"))
            out = out[:start].rstrip(" ") + tactic + out[end:]
        else:
            out = out[:start] + tactic + out[end:]
    return out


def _strip_by(proof: str) -> str:
    p = proof.strip()
    if p.startswith("by"):
        p = p[2:]
        lines = [x for x in p.split("\n")]
        if lines and not lines[0].strip():
            lines = lines[1:]
        width = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
        return "\n".join(x[width:] for x in lines).strip("\n") if len(lines) > 1 else lines[0].strip()
    return f"exact {p}"
