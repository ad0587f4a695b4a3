"""The math pipeline's conservation checks: at every stage, rows in = rows out + rows dropped with a
reason, from the pipeline's own counters, and each committed dataset holds exactly the rows counted
into it. A check that fails raises `ConservationError` before the stage's datasets are committed (or
right after, for the committed row counts): exit 1 with the numbers, never a silently smaller corpus.

    read:      files listed = files read + corrupt + truncated + failed (+ listed twice)
               records = html + wet + skipped (not html, status, too large) + corrupt + truncated
    extract:   in = out + dropped_* (short, empty, too_large, too_deep, timeout, crashed, error_*)
    langid:    in = out + dropped_language
    dedup:     extracted rows = url in; url in = kept + kept_no_url + dropped_url; exact in = kept +
               dropped_exact; near in = kept + dropped_near_duplicate; candidates = near kept
    training:  candidates = sampled negatives + sampled positives + dropped (formulas, not sampled)
    score:     candidates = above threshold + below; collect: above = collected + below cutoff
    corpus:    collected = kept + dropped_benchmark

Each stage's lines are printed under its counter table and kept in `summary.json` (`conservation`).
"""

from __future__ import annotations

from pipelines import summary
from pipelines.summary import Balance


def _c(counters: dict, stage: str, name: str) -> int:
    return int(counters.get(stage, {}).get(name, 0))


def _dropped(counters: dict, stage: str, prefix: str = "dropped_") -> dict[str, int]:
    return {k: v for k, v in counters.get(stage, {}).items() if k.startswith(prefix)}


def check(balances: list[Balance]) -> list[Balance]:
    for b in balances:
        b.check()
    return balances


def extraction(counters: dict) -> list[Balance]:
    """The read -> extract -> langid pipeline; the last balance's output is what `extracted/` holds."""
    read = counters.get("read", {})
    files = Balance("read files", _c(counters, "read", "files_listed"),
                    {"read": _c(counters, "read", "files_read")},
                    {k: read.get(k, 0) for k in ("corrupt_files", "truncated_files", "failed_files")}
                    | ({"duplicate_files": read["duplicate_files"]} if read.get("duplicate_files") else {}))
    records = Balance("read records", _c(counters, "read", "records"),
                      {"html": _c(counters, "read", "html"), "wet": _c(counters, "read", "wet")},
                      {k: read.get(k, 0) for k in ("skipped_not_html", "skipped_status", "skipped_too_large",
                                                    "corrupt_records", "truncated_records") if read.get(k)})
    into_extract = Balance("read -> extract", _c(counters, "read", "html") + _c(counters, "read", "wet"),
                           {"extract in": _c(counters, "extract", "in")})
    extract = Balance("extract", _c(counters, "extract", "in"), {"out": _c(counters, "extract", "out")},
                      _dropped(counters, "extract"))
    into_langid = Balance("extract -> langid", _c(counters, "extract", "out"), {"langid in": _c(counters, "langid", "in")})
    langid = Balance("langid", _c(counters, "langid", "in"), {"out": _c(counters, "langid", "out")},
                     _dropped(counters, "langid"))
    return check([files, records, into_extract, extract, into_langid, langid])


def dedup(counters: dict, extracted_rows: int) -> list[Balance]:
    """The dedup pipeline over `extracted/`; the last balance's output is what `candidates/` holds."""
    url_kept = _c(counters, "url", "kept") + _c(counters, "url", "kept_no_url")
    balances = [
        Balance("extracted -> dedup", extracted_rows, {"dedup in": _c(counters, "dedup", "in")}),
        Balance("url", _c(counters, "url", "in"), {"kept": url_kept}, _dropped(counters, "url")),
        Balance("url -> exact", url_kept, {"exact in": _c(counters, "exact", "in")}),
        Balance("exact", _c(counters, "exact", "in"), {"kept": _c(counters, "exact", "kept")},
                _dropped(counters, "exact")),
        Balance("exact -> near", _c(counters, "exact", "kept"), {"near in": _c(counters, "near", "in")}),
        Balance("near", _c(counters, "near", "in"), {"kept": _c(counters, "near", "kept")},
                _dropped(counters, "near")),
        Balance("candidates", _c(counters, "candidates", "rows_read"), {"kept": _c(counters, "candidates", "rows_out")},
                {"removed": _c(counters, "url", "dropped_url") + _c(counters, "exact", "dropped_exact")
                 + _c(counters, "near", "dropped_near_duplicate")}),
        Balance("dedup -> candidates", _c(counters, "near", "kept"), {"written": _c(counters, "candidates", "rows_out")}),
    ]
    return check(balances)


def training(counters: dict, candidates: int) -> list[Balance]:
    t = counters.get("training", {})
    sampled = t.get("sampled_negatives", 0) + t.get("sampled_positives", 0)
    return check([
        Balance("training", candidates, {"negatives": t.get("sampled_negatives", 0),
                                         "positives": t.get("sampled_positives", 0)}, _dropped(counters, "training")),
        Balance("training sample", sampled, {"negatives": t.get("negatives", 0), "positives": t.get("positives", 0)},
                {"collected_before": t.get("collected_before", 0)}),
    ])


def score(counters: dict, candidates: int) -> list[Balance]:
    s = counters.get("score", {})
    return check([
        Balance("candidates -> score", candidates, {"score in": s.get("in", 0)}),
        Balance("score", s.get("in", 0), {"above_threshold": s.get("above_threshold", 0)},
                {"below_threshold": s.get("below_threshold", 0)}),
    ])


def collect(counters: dict, above: int) -> list[Balance]:
    c = counters.get("collect", {})
    balances = [Balance("collect", above, {"collected": c.get("collected", 0)},
                        {"below_cutoff": c.get("below_cutoff", 0)})]
    o = counters.get("overlap")
    if o:
        balances.append(Balance("overlap", c.get("collected", 0), {"new": o.get("newly_collected", 0),
                                                                   "before": o.get("also_collected_before", 0)}))
    return check(balances)


def corpus(counters: dict, collected: int) -> list[Balance]:
    d = counters.get("decontaminate")
    if not d:
        return []
    return check([
        Balance("collected -> decontaminate", collected, {"decontaminate in": d.get("in", 0)}),
        Balance("decontaminate", d.get("in", 0), {"kept": d.get("kept", 0)}, _dropped(counters, "decontaminate")),
    ])


def committed(what: str, counted: int, rows: int) -> None:
    """A dataset about to be committed holds exactly the rows the pipeline counted into it."""
    summary.check_committed(Balance(what, counted, {"rows": counted}), {"rows": rows})


def lines(balances: list[Balance]) -> list[str]:
    return [b.line() for b in balances]


def format_lines(title: str, balances: list[Balance]) -> str:
    return "\n".join([f"-- {title}: conservation --", *lines(balances)]) if balances else ""
