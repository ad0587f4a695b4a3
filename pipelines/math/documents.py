"""From a crawled page to a web_doc row: extraction, identity, domain and URL prefix. Plain Python."""

from __future__ import annotations

import urllib.parse

from deepcorpus.core.contracts import WEB_DOC_SCHEMA
from deepcorpus.core.text import approx_token_count, content_hash
from pipelines.math.extract_math import EXTRACTOR, count_formulas, extract

MIN_CHARS = 100  # shorter extracts are menus, error pages and empty shells


def domain_of(url: str) -> str:
    """The base URL's host, lowercased, without `www.` (DeepSeekMath groups pages by it)."""
    host = (urllib.parse.urlsplit(url or "").hostname or "").lower()
    return host.removeprefix("www.")


def url_prefix(url: str, depth: int = 1) -> str:
    """`domain/first-path-segment` (e.g. `mathoverflow.net/questions`); the domain alone for `/`."""
    parts = urllib.parse.urlsplit(url or "")
    segments = [s for s in parts.path.split("/") if s][:depth]
    if segments and "." in segments[-1] and len(segments) == len([s for s in parts.path.split("/") if s]):
        segments = segments[:-1]  # a page name (`about.html`) is not a section of the site
    return "/".join([domain_of(url), *segments])


def as_web_doc(row: dict) -> dict:
    """A plain JSONL/Parquet row with the web_doc identity columns the contract expects filled in."""
    text = row.get("text") or ""
    out = dict(row)
    out.setdefault("url", None)
    out["domain"] = row.get("domain") or (domain_of(row["url"]) if row.get("url") else None)
    out["token_count"] = row.get("token_count") or approx_token_count(text)
    out["content_hash"] = row.get("content_hash") or content_hash(text)
    return out


def page_to_doc(page: dict, min_chars: int = MIN_CHARS, capped=None) -> tuple[dict | None, str]:
    """(web_doc row without language/score, reason); the row is None when the page is dropped.
    `capped`: a `page_caps.PageExtractor` (size, depth and time caps); None extracts uncapped."""
    if page.get("html") is not None:
        if capped is not None:
            outcome = capped.extract(page["html"])
            if outcome.extraction is None:
                return None, outcome.reason
            ex = outcome.extraction
        else:
            try:
                ex = extract(page["html"])
            except Exception as e:  # a page Resiliparse cannot parse is dropped, never fatal
                return None, f"error_{type(e).__name__}"
        text, formats, n, extractor = ex.text, ex.math_formats, ex.n_formulas, EXTRACTOR
    else:  # WET: text already extracted by Common Crawl (formulas are mostly gone)
        text = (page.get("text") or "").strip()
        formats, n, extractor = [], count_formulas(text), "wet"
    if not text:
        return None, "empty"
    if len(text) < min_chars:
        return None, "short"
    row = {name: None for name in WEB_DOC_SCHEMA.names}
    row.update(
        id=page["id"], url=page["url"], domain=domain_of(page["url"]), text=text,
        token_count=approx_token_count(text), content_hash=content_hash(text), crawl_date=page.get("crawl_date"),
        extraction={"extractor": extractor, "math_formats": formats, "n_formulas": n,
                    "encoding": page.get("encoding")},
    )
    return row, "ok"
