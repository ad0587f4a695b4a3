"""Extraction keeps the LaTeX of every math markup and drops the boilerplate around it."""

import random

import pytest

from pipelines.math.extract_math import FORMULA, count_formulas, extract, formula_spans

PROSE = "<p>This paragraph explains the argument in words so the page has enough main content to be kept.</p>"


def page(body: str, head: str = "") -> str:
    return (f"<html><head><title>T</title>{head}</head><body><nav><ul><li><a href='/'>Home</a></li>"
            f"<li><a href='/about'>About us</a></li></ul></nav><main><article>{PROSE}{body}{PROSE}</article></main>"
            "<footer><p>Copyright 2024 Example Inc. All rights reserved.</p></footer></body></html>")


CASES = [
    ("mathjax v2 inline script", '<p>Let <script type="math/tex">x^2 + y^2 = 1</script> be the circle.</p>',
     "$x^2 + y^2 = 1$", "mathjax_script"),
    ("mathjax v2 display script",
     '<p>Then<span class="MathJax_Preview"></span><span class="MathJax">rendered</span>'
     '<script type="math/tex; mode=display">\\int_0^1 x\\,dx = \\frac{1}{2}</script></p>',
     "$$\\int_0^1 x\\,dx = \\frac{1}{2}$$", "mathjax_script"),
    ("mathjax v3 assistive mathml",
     '<p>So <mjx-container class="MathJax" jax="CHTML"><mjx-math aria-hidden="true">glyphs</mjx-math>'
     '<mjx-assistive-mml><math><msup><mi>e</mi><mi>x</mi></msup></math></mjx-assistive-mml></mjx-container> grows.</p>',
     "$e^{x}$", "mathjax3"),
    ("mathjax v3 data-latex",
     '<p>Hence <mjx-container class="MathJax" jax="SVG" display="true" data-latex="\\sum_{k=1}^n k">'
     '<svg><g></g></svg></mjx-container></p>', "$$\\sum_{k=1}^n k$$", "mathjax3"),
    ("katex",
     '<p>Since <span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>a</mi></mrow>'
     '<annotation encoding="application/x-tex">a^2 \\geq 0</annotation></semantics></math></span>'
     '<span class="katex-html" aria-hidden="true">a2≥0</span></span> always.</p>', "$a^2 \\geq 0$", "katex"),
    ("katex display",
     '<span class="katex-display"><span class="katex"><span class="katex-mathml"><math><semantics><mi>b</mi>'
     '<annotation encoding="application/x-tex">\\sqrt{b}</annotation></semantics></math></span>'
     '<span class="katex-html">b</span></span></span>', "$$\\sqrt{b}$$", "katex"),
    ("mathml with tex annotation",
     '<p>We get <math><semantics><mi>z</mi><annotation encoding="application/x-tex">\\bar{z} z = |z|^2'
     '</annotation></semantics></math>.</p>', "$\\bar{z} z = |z|^2$", "mathml"),
    ("mathml alttext", '<p>We get <math alttext="\\pi r^2"><mi>π</mi></math>.</p>', "$\\pi r^2$", "mathml"),
    ("mathml converted",
     '<p>We get <math display="block"><mfrac><mn>1</mn><msqrt><mi>n</mi></msqrt></mfrac></math></p>',
     "$$\\frac{1}{\\sqrt{n}}$$", "mathml_converted"),
    ("image alt text", '<p>The formula <img class="tex" src="/f.png" alt="\\alpha + \\beta"> holds.</p>',
     "$\\alpha + \\beta$", "image"),
    ("codecogs image", '<p>See <img src="https://latex.codecogs.com/png.latex?x%5E3%2B1" alt=""> here.</p>',
     "$x^3+1$", "image"),
    ("latex.php image", '<p>See <img src="/latex.php?latex=%5Cfrac%7Ba%7D%7Bb%7D&amp;bg=fff"> here.</p>',
     "$\\frac{a}{b}$", "image"),
    ("wordpress katex", '<p>Note <span class="wp-katex-eq" data-display="false">n! > 2^n</span> for large n.</p>',
     "$n! > 2^n$", "wp_katex"),
    ("stackexchange math-container", '<p>Take <span class="math-container">$\\epsilon > 0$</span> small.</p>',
     "$\\epsilon > 0$", "math_container"),
    ("equation environment in text", "<p>\\begin{equation} E = mc^2 \\end{equation}</p>",
     "\\begin{equation} E = mc^2 \\end{equation}", "tex_delimiters"),
]


@pytest.mark.parametrize("name, body, latex, fmt", CASES, ids=[c[0] for c in CASES])
def test_each_math_markup_survives_extraction(name, body, latex, fmt):
    ex = extract(page(body))
    assert latex in ex.text
    assert fmt in ex.math_formats
    assert ex.n_formulas >= 1


def test_rendered_glyphs_are_not_duplicated():
    ex = extract(page(CASES[4][1]))
    assert "a2≥0" not in ex.text  # KaTeX's visual copy goes, its annotation stays
    ex = extract(page(CASES[1][1]))
    assert "rendered" not in ex.text


def test_custom_mathjax_delimiters_become_dollars():
    head = ("<script type='text/x-mathjax-config'>MathJax.Hub.Config({tex2jax: {inlineMath: "
            "[['[;', ';]']]}});</script>")
    ex = extract(page("<p>Square it: [;x^2;] is positive.</p>", head))
    assert "$x^2$" in ex.text
    assert "mathjax_config" in ex.math_formats


def test_boilerplate_is_removed():
    html = page("<p>Solve $x+1=2$.</p>").replace(
        "<main>", "<div class='cookie-banner'><p>We use cookies to improve your experience.</p></div><main>")
    text = extract(html).text
    assert "Solve $x+1=2$." in text
    assert "cookies" not in text and "Copyright" not in text and "About us" not in text


def test_page_without_math_has_no_formats():
    ex = extract(page("<p>The recipe needs two eggs and a cup of flour.</p>"))
    assert ex.math_formats == [] and ex.n_formulas == 0


def test_count_formulas_counts_delimited_math_only():
    assert count_formulas("a $x$ and $$y$$ and \\(z\\) and \\[w\\]") == 4
    assert count_formulas("it costs $5 and then $10 more") == 0


def test_formula_spans_are_the_regexs_matches():
    # The scanner is the FORMULA regex without its rescans: the same spans on every text.
    rng = random.Random(0)
    pieces = ["$", "$$", "\\", "\\(", "\\)", "\\[", "\\]", "x", " ", "\n", "1", "\\begin{equation}",
              "\\begin{align*}", "a b", "{"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(20_000)]
    texts += ["$" + "x" * 399 + "$", "$" + "x" * 400 + "$", "\\[" * 50 + "x\\]", "$$a$$$b$", "\\$x$ $y$"]
    for text in texts:
        assert list(formula_spans(text)) == [m.span() for m in FORMULA.finditer(text)], text


def test_unclosed_pairs_are_not_formulas():
    # 40,000 unclosed openers: the regex looked for a closer to the end of the text at each one.
    assert count_formulas("\\[ x " * 40_000) == 0
    assert count_formulas("\\[ x " * 40_000 + "\\]") == 1
    assert count_formulas("\\( x " * 40_000) == 0
    assert count_formulas("$$ x " * 40_000) == 20_000  # each second one closes a pair


def test_wikipedia_math_element_gives_one_formula():
    body = ('<p>The area is <span class="mwe-math-element"><span class="mwe-math-mathml-inline" style="display: none;">'
            '<math alttext="{\\displaystyle \\pi r^{2}}"><mi>π</mi></math></span>'
            '<img src="/media/math/render/svg/abc" class="mwe-math-fallback-image-inline" '
            'alt="{\\displaystyle \\pi r^{2}}"></span> exactly.</p>')
    ex = extract(page(body))
    assert ex.text.count("\\pi r^{2}") == 1


def test_mathjax_mathml_script():
    body = ('<p>Then <script type="math/mml"><math><msup><mi>q</mi><mn>3</mn></msup></math></script> '
            'follows.</p>')
    assert "$q^{3}$" in extract(page(body)).text
