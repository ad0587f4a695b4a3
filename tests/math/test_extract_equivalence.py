"""The fast extraction (one DOM walk, NodeList.values(), passes only for markups the page holds) gives
what the extraction before issue #22 gave: the same text, formulas, markups and title, page by page."""

import glob
import os

import pytest

from benchmarks import real_pages
from benchmarks.math_reference import extract as reference
from pipelines.math.extract_math import count_formulas, extract, maybe_math
from pipelines.math.warc import iter_pages

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRAWL = sorted(glob.glob(os.path.join(ROOT, "deepcorpus", "samples", "crawl", "*.warc.gz")))


def _same(html: str) -> None:
    new, old = extract(html), reference(html)
    assert (new.text, new.math_formats, new.n_formulas, new.title) == (old.text, old.math_formats, old.n_formulas,
                                                                       old.title)


def test_bundled_crawl_extracts_as_before():
    pages = [p for f in CRAWL for p in iter_pages(f)]
    assert len(pages) > 300
    for page in pages:
        _same(page["html"])


@pytest.mark.slow
def test_real_pages_extract_as_before():
    found = real_pages.locate()
    assert found is not None, "benchmarks/data/real_pages is committed; this checkout lacks it"
    pages = [p for f in real_pages.warc_files(found) for p in iter_pages(f)]
    assert len(pages) == len(real_pages.manifest())
    for page in pages:
        _same(page["html"])


EDGE_CASES = [
    # every image of a page handed back, formula or not, and nested markups replaced once
    "<p>math " + "".join(f'<img class="tex" alt="x_{i}"><img src="/p{i}.png" alt="photo">' for i in range(40)) + "</p>",
    '<p>math <span class="katex-display"><span class="katex"><math><semantics><mi>a</mi>'
    '<annotation encoding="application/x-tex">a</annotation></semantics></math></span></span></p>',
    # a KaTeX span without annotation: its <math> is converted by the MathML pass
    '<p>math <span class="katex"><math><mi>b</mi></math></span></p>',
    # upper-case tags and classes (quirks mode matches classes case-insensitively)
    '<P>MATH <MATH ALTTEXT="c^2"><MI>c</MI></MATH> and <SPAN CLASS="KATEX"><ANNOTATION ENCODING="application/x-tex">'
    'd</ANNOTATION></SPAN></P>',
    '<!DOCTYPE html><p>math <span class="KATEX"><annotation encoding="application/x-tex">e</annotation></span></p>',
    # formula-like markup on a page without any math keyword is left alone, as before
    '<p>Weather report <img class="equation" alt="sunny">.</p>',
    '<p>Google chart <img src="https://chart.googleapis.com/chart?cht=tx&amp;chl=x%5E2"> math</p>',
    # MathJax v2 scripts, MathML source and a mixed page
    '<p>math <script type="math/tex">f(x)</script> <script type="math/mml"><math><mi>g</mi></math></script>'
    '<mjx-container display="true"><math><mi>h</mi></math></mjx-container> <math><mi>k</mi></math>'
    '<span class="wp-katex-eq" data-display="true">\\int</span><span class="math-container">$y$</span></p>',
    # Wikipedia: MathML with alttext and a fallback image, seen once
    '<p>math <span class="mwe-math-element"><span class="mwe-math-mathml-inline"><math alttext="z">'
    '<mi>z</mi></math></span><img class="mwe-math-fallback-image-inline" alt="z"></span></p>',
    # candidates of the one walk that no pass takes: an image whose src holds "tex", another script type
    '<p>math <img src="/texture.png" alt="wood"> <script type="math/asciimath">x</script></p>',
    # a <math> element stands for the keyword test; a bare class="equation" image beside it is kept
    '<p><math><mi>r</mi></math> and <img class="equation" alt="s"></p>',
    # a Kelvin sign lowercases to "k": the keyword test is the lowercased page's
    '<p>\u212aATEX <img class="tex" alt="q"></p>',
]


@pytest.mark.parametrize("body", EDGE_CASES)
def test_edge_cases_extract_as_before(body):
    prose = "<p>" + "A paragraph of ordinary prose that gives the page enough main content to keep. " * 3 + "</p>"
    _same(f"<html><head><title>t</title></head><body><article>{prose}{body}{prose}</article></body></html>")


def test_maybe_math_is_the_lowercased_keyword_test():
    assert maybe_math("<p>LaTeX</p>") and maybe_math("<p>\u212aatex</p>") and not maybe_math("<p>text/css</p>")


def test_count_formulas_without_delimiters_is_zero():
    assert count_formulas("no formulas here") == 0
    assert count_formulas("price $5 and $x^2$ here") == 1
