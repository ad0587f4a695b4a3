"""`deepcorpus code languages`: the coverage report over Coder-V2's 338 languages.

For each language: a filename that identifies as it (from the data identification uses), the
comment syntax its path comments get, and the family whose dependencies are parsed (or none, in
which case its repositories fall back to a seeded random order unless other files link them).
"""

from __future__ import annotations

import json

from classifiers.code_language import LanguageTables, coder_v2_languages, coverage
from pipelines.code.assemble import comment_syntax
from pipelines.code.dependencies import family_of


def coverage_rows() -> list[dict]:
    tables = LanguageTables.load()
    reached, missed = coverage(tables)
    comments = comment_syntax()
    rows = []
    for name in coder_v2_languages():
        family = family_of(name)
        prefix, suffix = comments[name]
        rows.append({
            "language": name,
            "reached_by": reached.get(name),
            "gap": tables.gaps.get(name) if name in missed else None,
            "path_comment": f"{prefix} PATH{suffix}",
            "dependency_family": family.name if family else None,
        })
    return rows


def print_coverage(as_json: bool = False) -> int:
    rows = coverage_rows()
    if as_json:
        try:
            for row in rows:
                print(json.dumps(row, ensure_ascii=False))
        except BrokenPipeError:  # `| head` closed the pipe: nothing more to say
            pass
        return 0
    widths = [max(len(str(r[k] or "-")) for r in rows) for k in ("language", "reached_by", "path_comment")]
    for r in rows:
        print(f"{r['language']:<{widths[0]}}  {str(r['reached_by'] or 'GAP: ' + str(r['gap'])):<{widths[1]}}  "
              f"{r['path_comment']:<{widths[2]}}  {r['dependency_family'] or '-'}")
    reached = sum(1 for r in rows if r["reached_by"])
    parsed = sum(1 for r in rows if r["dependency_family"])
    print(f"\n{reached}/{len(rows)} languages reachable; dependencies parsed for {parsed} "
          f"({len({r['dependency_family'] for r in rows if r['dependency_family']})} families)")
    return 0
