"""Main-text extraction that keeps the math, on Resiliparse (after OpenWebMath's `text_extraction/`).

Each math markup is rewritten in the DOM into a plain text node holding its LaTeX between `$...$`
(inline) or `$$...$$` (display) before Resiliparse's main-content extraction runs, so formulas
survive the boilerplate removal as ordinary text:

- MathJax v2 `script[type=math/tex]` (and `; mode=display`), `script[type=math/mml]`; the rendered
  `.MathJax` spans go.
- Wikipedia `.mwe-math-element` (hidden MathML with `alttext` plus a fallback image): once.
- MathJax v3 `mjx-container`: `data-latex`, else the assistive `<math>` inside.
- KaTeX `.katex` / `.katex-display`: the `<annotation encoding="application/x-tex">`.
- `<math>`: its TeX annotation, else `alttext`, else MathML converted to LaTeX (`mathml.py`).
- formula images (`img.tex`, `img.latex`, codecogs, `latex.php`, `tex.cgi`): `alt`, else the URL's TeX.
- WordPress `.wp-katex-eq`; StackExchange `.math-container` already holds `$...$` text.
- a page's MathJax config may declare other inline delimiters; they are rewritten to `$...$`.

Plain Python (no Beam), so the same function serves the pipeline, the tests and the benchmark.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from pipelines.math.mathml import to_latex

EXTRACTOR = "resiliparse+math"

# Boilerplate Resiliparse's main-content heuristics may keep: consent banners and share widgets.
SKIP = [".cookie-banner", "#cookie-consent", "[class*=cookie]", "[id*=cookie]", ".share-buttons", ".MathJax_Preview",
        ".MathJax_Display", "span.MathJax", ".MathJax_SVG", ".MathJax_CHTML", ".katex-html"]
# One selector list, so Resiliparse matches the page against it in one pass rather than one per selector.
_SKIP = [", ".join(SKIP)]
FORMULA_IMAGE_SRC = re.compile(r"codecogs\.com|latex\.php|tex\.cgi|mathtex\.cgi|chart\?cht=tx|/latex\?|wp\.com/latex")
FORMULA_IMAGE_CLASS = {"tex", "latex", "math", "equation", "mwe-math-fallback-image-inline",
                       "mwe-math-fallback-image-display", "latexrender"}
_INLINE_CONFIG = re.compile(r"inlineMath\s*:\s*\[(.*?)\]\s*\]", re.S)
_PAIR = re.compile(r"\[\s*(['\"])(.*?)\1\s*,\s*(['\"])(.*?)\3\s*\]")
STANDARD_INLINE = {("$", "$"), ("\\(", "\\)")}
_BLANK_LINES = re.compile(r"\n{3,}")

# Formulas in extracted text: $$..$$, $..$, \(..\), \[..\], and equation environments. FORMULA is the
# rule; `formula_spans` finds its matches without its rescans, from the same pieces.
_INLINE_DOLLAR = re.compile(r"(?<![\\$])\$(?=\S)[^$\n]{1,400}?(?<=\S)\$(?!\d)")
_BEGIN = re.compile(r"\\begin\{(?:equation|align|gather|multline|eqnarray)\*?\}")
FORMULA = re.compile(
    rf"\$\$.+?\$\$|{_INLINE_DOLLAR.pattern}|\\\(.+?\\\)|\\\[.+?\\\]|{_BEGIN.pattern}", re.S)


# Pages without any of these words (lowercased) are left as they are: OpenWebMath prefilters on
# similar keywords, and a formula image with a bare class="equation" on such a page keeps no formula.
MATH_KEYWORDS = ("math", "katex", "mjx-", "latex", "codecogs", "tex.cgi", '"tex"', '"tex ', ' tex"', "'tex'")


def maybe_math(html: str) -> bool:
    low = html.lower()
    return any(k in low for k in MATH_KEYWORDS)


@dataclass
class Extraction:
    text: str
    math_formats: list[str] = field(default_factory=list)
    n_formulas: int = 0
    title: str = ""


def count_formulas(text: str) -> int:
    """How many formulas a text holds, by their delimiters (the same rule for every extractor)."""
    if "$" not in text and "\\" not in text:  # every delimiter starts with one of them; most pages have none
        return 0
    return sum(1 for _ in formula_spans(text))


_OPENER = re.compile(r"[$\\]")
_PAIRS = {"$$": "$$", "\\(": "\\)", "\\[": "\\]"}


def formula_spans(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of each match `FORMULA.finditer(text)` gives, in linear time. The regex
    looks for a pair's closer afresh at every opener, to the end of the text when there is none: a
    page of 10,000 unclosed `\\[` took seconds. Here each kind of closer is looked up once per
    stretch of text (the next one is kept until the scan passes it); the alternatives are tried in
    the regex's order, so the spans are the same (tests/math/test_extract_math.py checks them)."""
    next_closer: dict[str, int] = {}

    def closer(kind: str, start: int) -> int:
        at = next_closer.get(kind, -2)
        if at == -2 or 0 <= at < start:  # never looked up, or passed: look again from here
            at = text.find(kind, start)
            next_closer[kind] = at
        return at  # -1: none at or after `start` (nor after any later start)

    pos = 0
    while (m := _OPENER.search(text, pos)) is not None:
        i = m.start()
        opener = text[i:i + 2]
        if opener in _PAIRS:  # `$$.+?$$`, `\\(.+?\\)`, `\\[.+?\\]`: at least one character inside
            end = closer(_PAIRS[opener], i + 3)
            if end >= 0:
                yield i, end + 2
                pos = end + 2
                continue
        found = (_INLINE_DOLLAR if opener[0] == "$" else _BEGIN).match(text, i)
        if found is not None:
            yield found.span()
            pos = found.end()
        else:
            pos = i + 1


def _wrap(tex: str, display: bool) -> str:
    tex = " ".join(tex.split())
    if not tex:
        return ""
    return f" $${tex}$$ " if display else f"${tex}$"


def _replace(tree: HTMLTree, node, text: str) -> None:
    parent = node.parent
    if parent is not None:
        parent.replace_child(tree.create_text_node(text), node)


def _tex_of_math(node) -> tuple[str, bool]:
    """(LaTeX, found-without-conversion) for a `<math>` element."""
    for ann in node.query_selector_all("annotation").values():
        enc = (ann.getattr("encoding") or "").lower()
        if "tex" in enc:
            return ann.text.strip(), True
    alt = node.getattr("alttext")
    if alt and alt.strip():
        return alt.strip(), True
    return to_latex(node), False


def _inline_delimiters(html: str) -> list[tuple[str, str]]:
    """Non-standard inline delimiters declared in the page's MathJax configuration (read from the
    raw page: the configuration is a script, and walking every script of the DOM costs more)."""
    found = []
    for block in _INLINE_CONFIG.findall(html):
        for _, open_, _, close in _PAIR.findall(block + "]"):
            pair = (open_.replace("\\\\", "\\"), close.replace("\\\\", "\\"))
            if pair not in STANDARD_INLINE and pair[0] and pair not in found:
                found.append(pair)
    return found


def _image_tex(img) -> str | None:
    classes = set((img.getattr("class") or "").split())
    src = img.getattr("src") or ""
    by_src = FORMULA_IMAGE_SRC.search(src)
    if not (classes & FORMULA_IMAGE_CLASS or by_src):
        return None
    alt = (img.getattr("alt") or "").strip()
    if alt:
        return alt
    if by_src and "?" in src:
        query = src.split("?", 1)[1]
        params = urllib.parse.parse_qs(query)
        for key in ("latex", "chl", "tex", "formula"):
            if key in params:
                return params[key][0]
        return urllib.parse.unquote(query.split("&", 1)[0])
    return None


# Every formula image has one of these in its class or its src (a superset of `_image_tex`'s test, so
# Resiliparse hands back a few candidates instead of every image of the page).
_FORMULA_IMAGES = ", ".join(
    [f'img[class*="{c}"]' for c in ("tex", "math", "equation")]
    + [f'img[src*="{s}"]' for s in ("codecogs.com", "latex.php", "tex.cgi", "chart?cht=tx", "/latex?", "wp.com/latex")])
# What each pass of `rewrite_math` looks for, in the order the passes run.
_PASSES = {
    "mwe": ".mwe-math-element", "katex": ".katex-display, .katex", "mjx": "mjx-container",
    "script_tex": 'script[type^="math/tex"]', "script_mml": 'script[type^="math/mml"]', "math": "math",
    "img": _FORMULA_IMAGES, "wp_katex": ".wp-katex-eq", "math_container": ".math-container",
}
# One walk for all of them: a superset of the passes' selectors in fewer terms (lexbor tests every
# term on every node: 14 terms walk ~12% faster than the 18 above), e.g. every formula image's src holds
# "tex", "codecogs" or "cht=tx"; the extra candidates only make a pass query with its own selector.
_ANY_MATH = ('.mwe-math-element, .katex-display, .katex, mjx-container, script[type^="math/"], math, '
             'img[class*="tex"], img[class*="math"], img[class*="equation"], img[src*="tex"], '
             'img[src*="codecogs"], img[src*="cht=tx"], .wp-katex-eq, .math-container')
_BY_TAG = {"mjx-container": ("mjx",), "script": ("script_tex", "script_mml"), "math": ("math",), "img": ("img",)}
_BY_CLASS = (("mwe-math-element", "mwe"), ("katex", "katex"), ("wp-katex-eq", "wp_katex"),
             ("math-container", "math_container"))


def _all(root, selector: str) -> list:
    # NodeList.values(): iterating the list itself builds every node's wrapper once per item
    # (quadratic in the matches; it was 70% of the extraction on real pages).
    return root.query_selector_all(selector).values()


def math_candidates(tree: HTMLTree) -> list:
    """Every element any pass of `rewrite_math` could touch, in one walk of the tree (empty on most
    pages, where the rewrite is then skipped without reading the page's text)."""
    return _all(tree.document, _ANY_MATH)


def _passes_needed(candidates: list) -> set[str]:
    """The passes whose selector may match one of `candidates` (a superset: each pass queries again)."""
    needed = set()
    for node in candidates:
        needed.update(_BY_TAG.get(node.tag, ()))
        cls = (node.getattr("class") or "").lower()  # quirks mode matches classes case-insensitively
        needed.update(name for word, name in _BY_CLASS if word in cls)
    return needed


def _has_math_markup(html: str, candidates: list) -> bool:
    """`maybe_math(html)`, without lowercasing the page (~1 ms on a big one) when a candidate is a
    `<math>` or `<mjx-container>` element: its tag is in the page, and with it "math" or "mjx-"."""
    return any(node.tag in _KEYWORD_TAGS for node in candidates) or maybe_math(html)


_KEYWORD_TAGS = frozenset(("math", "mjx-container"))


def rewrite_math(tree: HTMLTree, candidates: list | None = None) -> list[str]:
    """Replace every math element of `tree` by its LaTeX text; returns the markups found.

    `candidates` (from `math_candidates`) lets the passes whose markup the page lacks be skipped."""
    needed = _passes_needed(candidates) if candidates is not None else set(_PASSES)

    formats: list[str] = []
    doc = tree.document

    def note(name: str) -> None:
        if name not in formats:
            formats.append(name)

    # Outer constructs first: Wikipedia, KaTeX and MathJax v3 wrap a <math> of their own. Each pass
    # queries the tree as the passes before it left it, so a replaced element's parts are not seen again.
    if "mwe" in needed:
        for node in _all(doc, ".mwe-math-element"):  # hidden MathML + a fallback image: one formula
            math = node.query_selector("math")
            if math is not None:
                tex = _tex_of_math(math)[0]
            else:
                img = node.query_selector("img")
                tex = _image_tex(img) if img is not None else None
            if tex:
                markup = node.html  # serialized once: ~500 of them on a Wikipedia page
                display = "mwe-math-mathml-display" in markup or "fallback-image-display" in markup
                _replace(tree, node, _wrap(tex, display))
                note("mathml")
    if "katex" in needed:
        for node in _all(doc, ".katex-display, .katex"):
            if node.parent is None:
                continue
            ann = node.query_selector("annotation")
            if ann is None:
                continue
            display = ("katex-display" in (node.getattr("class") or "")
                       or node.parent.getattr("class") == "katex-display")
            _replace(tree, node, _wrap(ann.text, display))
            note("katex")
    if "mjx" in needed:
        for node in _all(doc, "mjx-container"):
            tex = node.getattr("data-latex")
            inner = node.query_selector("[data-latex]") if not tex else None
            if inner is not None:
                tex = inner.getattr("data-latex")
            display = node.getattr("display") == "true"
            if not tex:
                math = node.query_selector("math")
                if math is None:
                    continue
                tex, _ = _tex_of_math(math)
                display = display or math.getattr("display") == "block"
            _replace(tree, node, _wrap(tex, display))
            note("mathjax3")
    if "script_tex" in needed:
        for node in _all(doc, 'script[type^="math/tex"]'):
            _replace(tree, node, _wrap(node.text, "mode=display" in (node.getattr("type") or "")))
            note("mathjax_script")
    if "script_mml" in needed:
        for node in _all(doc, 'script[type^="math/mml"]'):  # MathJax v2 with MathML source
            inner = HTMLTree.parse(f"<html><body>{node.text}</body></html>").document.query_selector("math")
            if inner is not None:
                tex, _ = _tex_of_math(inner)
                _replace(tree, node, _wrap(tex, "mode=display" in (node.getattr("type") or "") or
                                           inner.getattr("display") == "block"))
                note("mathjax_script")
    if "math" in needed:
        for node in _all(doc, "math"):
            tex, direct = _tex_of_math(node)
            _replace(tree, node, _wrap(tex, node.getattr("display") == "block" or node.getattr("mode") == "display"))
            note("mathml" if direct else "mathml_converted")
    if "img" in needed:
        for node in _all(doc, _FORMULA_IMAGES):
            tex = _image_tex(node)
            if tex:
                _replace(tree, node, _wrap(tex, False))
                note("image")
    if "wp_katex" in needed:
        for node in _all(doc, ".wp-katex-eq"):
            _replace(tree, node, _wrap(node.text, node.getattr("data-display") == "true"))
            note("wp_katex")
    if "math_container" in needed and doc.query_selector(".math-container") is not None:
        note("math_container")
    return formats


def extract(html: str, main_content: bool = True, tree: HTMLTree | None = None) -> Extraction:
    """Main text of an HTML page with its formulas as LaTeX. `tree`: the page already parsed (by
    `page_caps`, which checks its depth first); it is rewritten in place."""
    tree = tree if tree is not None else HTMLTree.parse(html)
    if tree.body is None:
        return Extraction("")
    delimiters = _inline_delimiters(html) if "inlineMath" in html else []
    candidates = math_candidates(tree)
    formats = rewrite_math(tree, candidates) if candidates and _has_math_markup(html, candidates) else []
    text = extract_plain_text(
        tree, preserve_formatting=True, main_content=main_content, alt_texts=False, links=False,
        form_fields=False, noscript=False, skip_elements=_SKIP,
    )
    for open_, close in delimiters:
        pattern = re.compile(re.escape(open_) + r"(.+?)" + re.escape(close), re.S)
        text, k = pattern.subn(lambda m: "$" + m.group(1) + "$", text)
        if k:
            formats.append("mathjax_config")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    text = text.strip()
    n = count_formulas(text)
    if n and not formats:
        formats.append("tex_delimiters")
    title = tree.title or ""
    return Extraction(text, formats, n, title.strip())
