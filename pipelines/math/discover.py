"""Domain discovery (DeepSeekMath section 2.1): math-related domains and the URL prefixes to review.

A domain (pages sharing a base URL) is math-related when more than `domain_share` (10%) of its
crawled pages were collected. Within those domains, a URL path prefix (`mathoverflow.net/questions`)
is proposed when at least `prefix_share` of its pages were collected. Proposals go to a review file;
a person approves prefixes in an annotation file (YAML or JSON), or `auto_approve` accepts every
prefix whose collected share reaches it. Uncollected pages under approved prefixes join the seed.

Plain Python: the pipeline aggregates the per-domain and per-prefix counts with Beam and hands
them here; `deepcorpus math discover` computes them from a scored dataset directly.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError
from pipelines.math.documents import domain_of, url_prefix


@dataclass
class DiscoveryConfig:
    domain_share: float = 0.10
    prefix_share: float = 0.5
    min_prefix_pages: int = 3
    prefix_depth: int = 1
    auto_approve: float | None = None


@dataclass
class Discovery:
    domains: list[dict] = field(default_factory=list)  # math-related domains
    prefixes: list[dict] = field(default_factory=list)  # proposed prefixes, with "approved" and "by"

    @property
    def approved(self) -> list[str]:
        return [p["prefix"] for p in self.prefixes if p.get("approved")]


def stat_keys(url: str, depth: int = 1) -> list[tuple[str, str]]:
    """The counters a page adds to: its domain and its URL prefix."""
    prefix = url_prefix(url, depth)
    keys = [("domain", domain_of(url))]
    if prefix != keys[0][1]:
        keys.append(("prefix", prefix))
    return keys


def count_pages(pages: Iterable[tuple[str, bool]], depth: int = 1) -> dict[tuple[str, str], list[int]]:
    """{(kind, key): [pages, collected]} from (url, collected) pairs."""
    stats: dict[tuple[str, str], list[int]] = {}
    for url, collected in pages:
        for key in stat_keys(url, depth):
            s = stats.setdefault(key, [0, 0])
            s[0] += 1
            s[1] += int(bool(collected))
    return stats


def discover(stats: dict[tuple[str, str], list[int]], cfg: DiscoveryConfig) -> Discovery:
    domains = []
    for (kind, key), (pages, collected) in stats.items():
        if kind == "domain" and pages and collected / pages > cfg.domain_share:
            domains.append({"domain": key, "pages": pages, "collected": collected, "share": round(collected / pages, 4)})
    math_domains = {d["domain"] for d in domains}
    prefixes = []
    for (kind, key), (pages, collected) in stats.items():
        if kind != "prefix" or key.split("/", 1)[0] not in math_domains or pages < cfg.min_prefix_pages:
            continue
        share = collected / pages
        if share >= cfg.prefix_share:
            prefixes.append({"prefix": key, "pages": pages, "collected": collected, "uncollected": pages - collected,
                             "share": round(share, 4), "approved": None, "by": None})
    domains.sort(key=lambda d: (-d["collected"], d["domain"]))
    prefixes.sort(key=lambda p: (-p["share"], -p["pages"], p["prefix"]))
    return Discovery(domains, prefixes)


def load_annotations(path: str) -> dict[str, bool]:
    """Approved (True) and rejected (False) prefixes from a YAML/JSON file.

    Accepted shapes: a list of prefixes (all approved); `{"approved": [...], "rejected": [...]}`;
    `{prefix: true/false}`; or a review file written by this module with `approved:` filled in."""
    raw = storage.read_text(path)
    try:
        if path.endswith(".json"):
            data = json.loads(raw)
        else:
            import yaml

            data = yaml.safe_load(raw)
    except Exception as e:
        raise UserError(f"{path}: not valid YAML/JSON ({str(e).splitlines()[0]})") from None
    out: dict[str, bool] = {}
    if isinstance(data, list):
        for item in data:
            if isinstance(item, str):
                out[item.strip("/")] = True
            elif isinstance(item, dict) and "prefix" in item:
                out[str(item["prefix"]).strip("/")] = bool(item.get("approved"))
    elif isinstance(data, dict) and ("approved" in data or "rejected" in data) and not isinstance(
            data.get("approved"), bool):
        for p in data.get("approved") or []:
            out[str(p).strip("/")] = True
        for p in data.get("rejected") or []:
            out[str(p).strip("/")] = False
    elif isinstance(data, dict) and "prefixes" in data:
        return load_annotations_from(data["prefixes"], path)
    elif isinstance(data, dict):
        out = {str(k).strip("/"): bool(v) for k, v in data.items()}
    else:
        raise UserError(f"{path}: expected a list of URL prefixes or a mapping prefix: true/false")
    return out


def load_annotations_from(items, path: str) -> dict[str, bool]:
    if not isinstance(items, list):
        raise UserError(f"{path}: 'prefixes' must be a list")
    return {str(i["prefix"]).strip("/"): bool(i.get("approved")) for i in items if isinstance(i, dict) and "prefix" in i}


def approve(discovery: Discovery, annotations: dict[str, bool] | None, auto_approve: float | None) -> Discovery:
    """Mark proposals approved by the annotation file (which wins) or by the auto-approve share."""
    annotations = annotations or {}
    proposed = {p["prefix"] for p in discovery.prefixes}
    for p in discovery.prefixes:
        if p["prefix"] in annotations:
            p["approved"], p["by"] = annotations[p["prefix"]], "annotation"
        elif auto_approve is not None and p["share"] >= auto_approve:
            p["approved"], p["by"] = True, "auto"
        else:
            p["approved"] = False if auto_approve is not None else None
    # A person may approve a prefix the run did not propose (seen in an earlier crawl, say).
    for prefix, ok in annotations.items():
        if ok and prefix not in proposed:
            discovery.prefixes.append({"prefix": prefix, "pages": None, "collected": None, "uncollected": None,
                                       "share": None, "approved": True, "by": "annotation"})
    return discovery


def write_review(path: str, discovery: Discovery, iteration: int) -> None:
    """The review file: math domains and proposed prefixes, `approved:` ready to be edited."""
    import yaml

    doc = {
        "iteration": iteration,
        "how_to_review": "set approved: true on prefixes whose pages are math, then pass this file "
                         "with --approved to the next run (or to resume)",
        "domains": discovery.domains,
        "prefixes": discovery.prefixes,
    }
    storage.write_bytes_atomic(path, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode())


def under_prefixes(url: str, prefixes: Iterable[str]) -> bool:
    """Whether `url` lies under any of `domain/path` prefixes."""
    parts = urllib.parse.urlsplit(url or "")
    where = "/".join([domain_of(url), *[s for s in parts.path.split("/") if s]])
    return any(where == p or where.startswith(p + "/") for p in prefixes)
