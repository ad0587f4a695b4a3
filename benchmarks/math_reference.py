"""The math extraction as it was before issue #22 (commit c25c02c), kept as the reference that the
benchmark and the tests hold `pipelines.math.extract_math` to: same text, same formulas, same markups.

It queries the DOM once per markup on every page that mentions math, and iterates Resiliparse's
NodeLists item by item (quadratic in the matches). Not for the product: `pipelines.math.extract_math`
is the implementation.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from pipelines.math.mathml import to_latex

EXTRACTOR = "resiliparse+math"

# Boilerplate Resiliparse's main-content heuristics may keep: consent banners and share widgets.
SKIP = [".cookie-banner", "#cookie-consent", "[class*=cookie]", "[id*=cookie]", ".share-buttons", ".MathJax_Preview",
        ".MathJax_Display", "span.MathJax", ".MathJax_SVG", ".MathJax_CHTML", ".katex-html"]
FORMULA_IMAGE_SRC = re.compile(r"codecogs\.com|latex\.php|tex\.cgi|mathtex\.cgi|chart\?cht=tx|/latex\?|wp\.com/latex")
FORMULA_IMAGE_CLASS = {"tex", "latex", "math", "equation", "mwe-math-fallback-image-inline",
                       "mwe-math-fallback-image-display", "latexrender"}
_INLINE_CONFIG = re.compile(r"inlineMath\s*:\s*\[(.*?)\]\s*\]", re.S)
_PAIR = re.compile(r"\[\s*(['\"])(.*?)\1\s*,\s*(['\"])(.*?)\3\s*\]")
STANDARD_INLINE = {("$", "$"), ("\\(", "\\)")}

# Formulas in extracted text: $$..$$, $..$, \(..\), \[..\], and equation environments.
FORMULA = re.compile(
    r"\$\$.+?\$\$|(?<![\\$])\$(?=\S)[^$\n]{1,400}?(?<=\S)\$(?!\d)|\\\(.+?\\\)|\\\[.+?\\\]"
    r"|\\begin\{(equation|align|gather|multline|eqnarray)\*?\}",
    re.S,
)


# Cheap test on the raw HTML: pages without any of these cannot hold math markup, so the DOM walk
# for math is skipped (most of a crawl; OpenWebMath prefilters on similar keywords). Substring
# tests on the lowercased page: a case-insensitive regex alternation is ~50x slower on 20 KB.
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
    return len(FORMULA.findall(text))


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
    for ann in node.query_selector_all("annotation"):
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


def rewrite_math(tree: HTMLTree) -> list[str]:
    """Replace every math element of `tree` by its LaTeX text; returns the markups found."""
    formats: list[str] = []
    doc = tree.document

    def note(name: str) -> None:
        if name not in formats:
            formats.append(name)

    # Outer constructs first: Wikipedia, KaTeX and MathJax v3 wrap a <math> of their own.
    for node in doc.query_selector_all(".mwe-math-element"):  # hidden MathML + a fallback image: one formula
        math = node.query_selector("math")
        img = node.query_selector("img")
        tex = _tex_of_math(math)[0] if math is not None else (_image_tex(img) if img is not None else None)
        if tex:
            display = "mwe-math-mathml-display" in node.html or "fallback-image-display" in node.html
            _replace(tree, node, _wrap(tex, display))
            note("mathml")
    for node in doc.query_selector_all(".katex-display, .katex"):
        if node.parent is None:
            continue
        ann = node.query_selector("annotation")
        if ann is None:
            continue
        display = "katex-display" in (node.getattr("class") or "") or node.parent.getattr("class") == "katex-display"
        _replace(tree, node, _wrap(ann.text, display))
        note("katex")
    for node in doc.query_selector_all("mjx-container"):
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
    for node in doc.query_selector_all('script[type^="math/tex"]'):
        _replace(tree, node, _wrap(node.text, "mode=display" in (node.getattr("type") or "")))
        note("mathjax_script")
    for node in doc.query_selector_all('script[type^="math/mml"]'):  # MathJax v2 with MathML source
        inner = HTMLTree.parse(f"<html><body>{node.text}</body></html>").document.query_selector("math")
        if inner is not None:
            tex, _ = _tex_of_math(inner)
            _replace(tree, node, _wrap(tex, "mode=display" in (node.getattr("type") or "") or
                                       inner.getattr("display") == "block"))
            note("mathjax_script")
    for node in doc.query_selector_all("math"):
        tex, direct = _tex_of_math(node)
        _replace(tree, node, _wrap(tex, node.getattr("display") == "block" or node.getattr("mode") == "display"))
        note("mathml" if direct else "mathml_converted")
    for node in doc.query_selector_all("img"):
        tex = _image_tex(node)
        if tex:
            _replace(tree, node, _wrap(tex, False))
            note("image")
    for node in doc.query_selector_all(".wp-katex-eq"):
        _replace(tree, node, _wrap(node.text, node.getattr("data-display") == "true"))
        note("wp_katex")
    if doc.query_selector(".math-container") is not None:
        note("math_container")
    return formats


def extract(html: str, main_content: bool = True) -> Extraction:
    """Main text of an HTML page with its formulas as LaTeX."""
    tree = HTMLTree.parse(html)
    if tree.body is None:
        return Extraction("")
    has_markup = maybe_math(html)
    delimiters = _inline_delimiters(html) if "inlineMath" in html else []
    formats = rewrite_math(tree) if has_markup else []
    text = extract_plain_text(
        tree, preserve_formatting=True, main_content=main_content, alt_texts=False, links=False,
        form_fields=False, noscript=False, skip_elements=SKIP,
    )
    for open_, close in delimiters:
        pattern = re.compile(re.escape(open_) + r"(.+?)" + re.escape(close), re.S)
        text, k = pattern.subn(lambda m: "$" + m.group(1) + "$", text)
        if k:
            formats.append("mathjax_config")
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    n = count_formulas(text)
    if n and not formats:
        formats.append("tex_delimiters")
    title = tree.title or ""
    return Extraction(text, formats, n, title.strip())
