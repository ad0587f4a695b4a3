"""Presentation MathML to LaTeX, for `<math>` elements that carry no TeX annotation or `alttext`.

OpenWebMath runs an XSLT stylesheet for this; walking Resiliparse's DOM directly is faster and needs
no second parse. It covers what pages use in practice (tokens, rows, fractions, scripts, roots,
under/over operators, fences, tables, text); unknown elements fall back to their children, so a
formula degrades to its symbols rather than disappearing.
"""

from __future__ import annotations

from resiliparse.parse.html import DOMNode, NodeType

SYMBOLS = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon", "θ": r"\theta",
    "λ": r"\lambda", "μ": r"\mu", "π": r"\pi", "σ": r"\sigma", "φ": r"\phi", "ω": r"\omega", "Δ": r"\Delta",
    "Σ": r"\Sigma", "Ω": r"\Omega", "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "∮": r"\oint", "∞": r"\infty",
    "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv", "×": r"\times", "·": r"\cdot",
    "⋅": r"\cdot", "±": r"\pm", "∓": r"\mp", "→": r"\to", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow",
    "∈": r"\in", "∉": r"\notin", "⊂": r"\subset", "⊆": r"\subseteq", "∪": r"\cup", "∩": r"\cap",
    "∀": r"\forall", "∃": r"\exists", "∂": r"\partial", "∇": r"\nabla", "−": "-", "…": r"\ldots",
    "⋯": r"\cdots", "∘": r"\circ", "¬": r"\neg", "∧": r"\wedge", "∨": r"\vee", "′": "'", "\u2061": "",
    "\u2062": "", "\u2063": "",
}
FUNCTIONS = {"sin", "cos", "tan", "log", "ln", "exp", "lim", "max", "min", "det", "gcd", "sup", "inf"}


def _elements(node: DOMNode) -> list[DOMNode]:
    return [c for c in node.child_nodes.values() if c.type == NodeType.ELEMENT]


def _token(text: str) -> str:
    text = text.strip()
    if text in FUNCTIONS:
        return "\\" + text
    return "".join(SYMBOLS.get(ch, ch) for ch in text) if len(text) > 1 else SYMBOLS.get(text, text)


def _group(node: DOMNode) -> str:
    return "{" + to_latex(node) + "}"


def _base(node: DOMNode) -> str:
    """A script's base, braced when it is more than one token (so `(a+b)^2` keeps its scope)."""
    text = to_latex(node)
    return "{" + text + "}" if " " in text and node.tag.lower() == "mrow" else text


def to_latex(node: DOMNode) -> str:
    """LaTeX for a MathML element (the `<math>` element itself or any part of it)."""
    if node.type == NodeType.TEXT:
        return node.text.strip()
    if node.type != NodeType.ELEMENT:
        return ""
    tag = node.tag.lower()
    kids = _elements(node)
    if tag in ("mi", "mn", "mo"):
        return _token(node.text)
    if tag == "mtext":
        text = node.text.strip()
        return rf"\text{{{text}}}" if text else ""
    if tag in ("annotation", "annotation-xml", "mphantom", "none", "mprescripts"):
        return ""
    if tag == "semantics":
        return to_latex(kids[0]) if kids else ""
    if tag == "mfrac" and len(kids) == 2:
        return rf"\frac{_group(kids[0])}{_group(kids[1])}"
    if tag == "msqrt":
        return r"\sqrt{{{}}}".format(" ".join(to_latex(k) for k in kids))
    if tag == "mroot" and len(kids) == 2:
        return rf"\sqrt[{to_latex(kids[1])}]{_group(kids[0])}"
    if tag == "msup" and len(kids) == 2:
        return f"{_base(kids[0])}^{_group(kids[1])}"
    if tag == "msub" and len(kids) == 2:
        return f"{_base(kids[0])}_{_group(kids[1])}"
    if tag in ("msubsup", "munderover") and len(kids) == 3:
        return f"{_base(kids[0])}_{_group(kids[1])}^{_group(kids[2])}"
    if tag == "munder" and len(kids) == 2:
        return f"{_base(kids[0])}_{_group(kids[1])}"
    if tag == "mover" and len(kids) == 2:
        accent = to_latex(kids[1])
        if accent in ("¯", "‾", "_"):
            return rf"\overline{_group(kids[0])}"
        if accent in ("^", "ˆ"):
            return rf"\hat{_group(kids[0])}"
        if accent in ("→", r"\to"):
            return rf"\vec{_group(kids[0])}"
        return "{}^{}".format(to_latex(kids[0]), "{" + accent + "}")
    if tag == "mfenced":
        open_, close = node.getattr("open") or "(", node.getattr("close") or ")"
        sep = node.getattr("separators") or ","
        return open_ + f"{sep[0]} ".join(to_latex(k) for k in kids) + close
    if tag == "mtable":
        rows = [" & ".join(to_latex(cell) for cell in _elements(r)) for r in kids]
        return r"\begin{matrix} " + r" \\ ".join(rows) + r" \end{matrix}"
    # math, mrow, mstyle, mpadded, merror, mtd, unknown: the children in order
    return " ".join(part for part in (to_latex(k) for k in node.child_nodes.values()) if part)
