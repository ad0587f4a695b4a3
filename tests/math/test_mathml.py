"""MathML to LaTeX for `<math>` elements without a TeX annotation."""

import pytest
from resiliparse.parse.html import HTMLTree

from pipelines.math.mathml import to_latex


def convert(mathml: str) -> str:
    tree = HTMLTree.parse(f"<html><body>{mathml}</body></html>")
    return to_latex(tree.document.query_selector("math"))


@pytest.mark.parametrize("mathml, latex", [
    ("<math><mfrac><mi>a</mi><mi>b</mi></mfrac></math>", r"\frac{a}{b}"),
    ("<math><msup><mi>x</mi><mn>2</mn></msup></math>", "x^{2}"),
    ("<math><msub><mi>a</mi><mi>n</mi></msub></math>", "a_{n}"),
    ("<math><msqrt><mi>y</mi></msqrt></math>", r"\sqrt{y}"),
    ("<math><mroot><mi>y</mi><mn>3</mn></mroot></math>", r"\sqrt[3]{y}"),
    ("<math><munderover><mo>∑</mo><mrow><mi>k</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover></math>",
     r"\sum_{k = 1}^{n}"),
    ("<math><mi>π</mi><mo>≤</mo><mn>4</mn></math>", r"\pi \leq 4"),
    ("<math><msup><mrow><mo>(</mo><mi>a</mi><mo>+</mo><mi>b</mi><mo>)</mo></mrow><mn>2</mn></msup></math>",
     "{( a + b )}^{2}"),
    ("<math><mi>sin</mi><mi>x</mi></math>", r"\sin x"),
    ("<math><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>0</mn></mtd></mtr><mtr><mtd><mn>0</mn></mtd>"
     "<mtd><mn>1</mn></mtd></mtr></mtable></math>", r"\begin{matrix} 1 & 0 \\ 0 & 1 \end{matrix}"),
    ("<math><mover><mi>v</mi><mo>→</mo></mover></math>", r"\vec{v}"),
])
def test_presentation_mathml_to_latex(mathml, latex):
    assert convert(mathml) == latex


def test_unknown_elements_keep_their_symbols():
    assert convert("<math><mfancy><mi>q</mi></mfancy></math>") == "q"
