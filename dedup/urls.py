"""Canonical URLs: the same page reached through different spellings of its address gets one key.

The rules, each a way the web spells one page twice: scheme (http and https), host case and a
leading `www.`, default ports, a trailing slash, tracking parameters (utm_*, fbclid, gclid...),
the order of the remaining query parameters, and the fragment. The result is a key, not a URL to
fetch: it has no scheme (`example.com/a/b?x=1`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid",
        "_ga", "_gl", "igshid", "ref_src", "spm", "vero_id", "oly_anon_id", "oly_enc_id",
        "_hsenc", "_hsmi", "mkt_tok", "trk", "sessionid", "sid", "phpsessid", "jsessionid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "mtm_")
DEFAULT_PORTS = {"http": "80", "https": "443"}


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """A key that is equal for spellings of the same page's address (see the module docstring)."""
    url = url.strip()
    if "://" not in url and not url.startswith("//"):
        url = "//" + url  # a bare "example.com/a" is a host and a path, not a relative path
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the text as it was
        port = None
    netloc = host
    if port is not None and str(port) != DEFAULT_PORTS.get(scheme or "http"):
        if not (scheme == "" and str(port) in DEFAULT_PORTS.values()):
            netloc = f"{host}:{port}"
    # ";jsessionid=..." path parameters are session state, not part of the page's name.
    path = parts.path.split(";jsessionid=")[0]
    # Percent-encoding is normalized by decoding and re-encoding with one rule.
    path = quote(unquote(path), safe="/:@!$&'()*+,;=-._~")
    path = path.rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query.sort()
    key = netloc + path
    if query:
        key += "?" + urlencode(query, quote_via=quote, safe="/:@!$'()*,;-._~")
    return key
