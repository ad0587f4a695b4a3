"""Generate the bundled math samples deterministically: `python -m deepcorpus.samples.make_crawl`.

Everything here is authored by the project from templates (no page is copied from the web):

- `crawl/crawl-0000K.warc.gz`: a few hundred HTML responses (plus request, warcinfo, robots.txt and
  image records a reader must skip) on fictional domains. Math pages use every markup the extractor
  knows: MathJax v2 `script[type=math/tex]`, MathJax v3 `mjx-container` (assistive MathML or
  `data-latex`), KaTeX, MathML with and without a TeX annotation, formula images (alt text, codecogs,
  latex.php), StackExchange `.math-container`, WordPress `wp-katex-eq`, and Chinese math pages in GBK.
  Other pages are news, recipes, a shop, sports and a games forum, all wrapped in menus, footers and
  cookie banners. Some pages are mirrored with small edits (near-duplicates), some URLs are crawled
  twice (URL duplicates), and a few pages quote a benchmark question (for decontamination).
- `crawl_labels.jsonl`: per crawled URL, whether it is math, its kind, and the formulas it holds
  (LaTeX), so tests and the benchmark can count the formulas an extractor keeps.
- `math_seed.jsonl`: math texts for the classifier's first iteration (its positives).
- `math_eval.jsonl`: a labelled evaluation set (label 1 = math, 0 = not), held out from the crawl.
- `benchmarks/math_benchmark.jsonl`: benchmark-style questions with answers.

Same script, same bytes: record ids come from uuid5, dates from the page index, gzip without mtime.
"""

from __future__ import annotations

import gzip
import html
import io
import json
import os
import random
import urllib.parse
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
NS = uuid.UUID("6f1c2a4e-1d2b-4c1e-9a55-1b2c3d4e5f60")

# --- formulas: one small tree renders to both LaTeX and MathML ---------------------------------------

GREEK = {"π": r"\pi", "θ": r"\theta", "α": r"\alpha", "λ": r"\lambda"}
OPS = {"≤": r"\leq", "≥": r"\geq", "×": r"\times", "·": r"\cdot", "∞": r"\infty", "→": r"\to", "±": r"\pm"}


def i(x):
    return ("i", x)


def n(x):
    return ("n", str(x))


def o(x):
    return ("o", x)


def row(*xs):
    return ("row", list(xs))


def frac(a, b):
    return ("frac", a, b)


def sup(b, e):
    return ("sup", b, e)


def sub(b, s):
    return ("sub", b, s)


def sqrt(x):
    return ("sqrt", x)


def bigop(op, lo, hi):
    return ("bigop", op, lo, hi)


def latex(t) -> str:
    if isinstance(t, str):  # a formula written directly in LaTeX (no MathML form)
        return t
    kind = t[0]
    if kind == "i":
        return GREEK.get(t[1], t[1])
    if kind == "n":
        return t[1]
    if kind == "o":
        return OPS.get(t[1], t[1])
    if kind == "row":
        return " ".join(latex(x) for x in t[1])
    if kind == "frac":
        return rf"\frac{{{latex(t[1])}}}{{{latex(t[2])}}}"
    if kind == "sup":
        return f"{latex(t[1])}^{{{latex(t[2])}}}"
    if kind == "sub":
        return f"{latex(t[1])}_{{{latex(t[2])}}}"
    if kind == "sqrt":
        return rf"\sqrt{{{latex(t[1])}}}"
    if kind == "bigop":
        op = {"∑": r"\sum", "∫": r"\int", "∏": r"\prod"}[t[1]]
        return f"{op}_{{{latex(t[2])}}}^{{{latex(t[3])}}}"
    raise ValueError(kind)


def mathml(t) -> str:
    if isinstance(t, str):
        return f"<mtext>{html.escape(t)}</mtext>"
    kind = t[0]
    if kind == "i":
        return f"<mi>{html.escape(t[1])}</mi>"
    if kind == "n":
        return f"<mn>{t[1]}</mn>"
    if kind == "o":
        return f"<mo>{html.escape(t[1])}</mo>"
    if kind == "row":
        return "<mrow>" + "".join(mathml(x) for x in t[1]) + "</mrow>"
    if kind == "frac":
        return f"<mfrac>{mathml(t[1])}{mathml(t[2])}</mfrac>"
    if kind == "sup":
        return f"<msup>{mathml(t[1])}{mathml(t[2])}</msup>"
    if kind == "sub":
        return f"<msub>{mathml(t[1])}{mathml(t[2])}</msub>"
    if kind == "sqrt":
        return f"<msqrt>{mathml(t[1])}</msqrt>"
    if kind == "bigop":
        tag = "munderover" if t[1] != "∫" else "msubsup"
        return f"<{tag}><mo>{t[1]}</mo>{mathml(t[2])}{mathml(t[3])}</{tag}>"
    raise ValueError(kind)


def random_formula(rng: random.Random):
    a, b, c = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 12)
    k = rng.randint(2, 6)
    v = rng.choice("xyzt")
    choices = [
        row(n(a), sup(i(v), n(2)), o("+"), n(b), i(v), o("+"), n(c), o("="), n(0)),
        row(frac(n(a), n(b)), o("+"), frac(n(c), n(a * b)), o("="), frac(n(a * a + c), n(a * b))),
        row(sqrt(row(sup(i("a"), n(2)), o("+"), sup(i("b"), n(2)))), o("="), i("c")),
        row(bigop("∑", row(i("k"), o("="), n(1)), i("n")), sup(i("k"), n(k)), o("≤"), sup(i("n"), n(k + 1))),
        row(bigop("∫", n(0), n(1)), sup(i(v), n(k)), i("d"), i(v), o("="), frac(n(1), n(k + 1))),
        row(frac(i("d"), row(i("d"), i(v))), sup(i(v), n(k)), o("="), n(k), sup(i(v), n(k - 1))),
        row(sup(i("a"), n(2)), o("+"), sup(i("b"), n(2)), o("≥"), n(2), i("a"), i("b")),
        row(sup(i("e"), row(i("i"), i("π"))), o("+"), n(1), o("="), n(0)),
        row(sub(i("a"), i("n")), o("="), sub(i("a"), row(i("n"), o("-"), n(1))), o("+"), n(c)),
        row(i("A"), o("="), i("π"), sup(i("r"), n(2))),
        row(bigop("∏", row(i("j"), o("="), n(1)), i("n")), i("j"), o("="), i("n"), o("!")),
        row(sup(i("θ"), n(2)), o("±"), n(a), i("θ"), o("="), n(b)),
    ]
    return rng.choice(choices)


TEX_ONLY = [
    r"\lim_{n \to \infty} \left(1 + \frac{1}{n}\right)^{n} = e",
    r"\binom{n}{k} = \frac{n!}{k!(n-k)!}",
    r"a \equiv b \pmod{m}",
    r"\det \begin{pmatrix} a & b \\ c & d \end{pmatrix} = ad - bc",
    r"\gcd(a, b) \cdot \operatorname{lcm}(a, b) = ab",
    r"\mathbb{E}[X] = \sum_{x} x \, P(X = x)",
    r"\|u + v\| \leq \|u\| + \|v\|",
    r"f'(x) = \lim_{h \to 0} \frac{f(x+h) - f(x)}{h}",
]

# --- words ------------------------------------------------------------------------------------------

MATH_TOPICS = ["quadratic equations", "prime numbers", "the fundamental theorem of calculus", "eigenvalues",
               "modular arithmetic", "the binomial theorem", "convergent series", "the triangle inequality",
               "Euler's identity", "definite integrals", "recurrence relations", "group homomorphisms",
               "conditional probability", "the Cauchy-Schwarz inequality", "polynomial roots", "limits"]
MATH_SENTENCES = [
    "Let {v} be a real number and suppose that the following equation holds: {F}",
    "We want to prove that {F} for every positive integer $n$.",
    "By the induction hypothesis, the statement holds for $n - 1$, so it suffices to show {F}",
    "Taking the derivative of both sides gives {F}",
    "Consider the sequence defined by {F} with the initial value $a_1 = 1$.",
    "Substituting this into the previous identity, we obtain {F}",
    "Hence the integral evaluates to {F} which completes the proof.",
    "Recall the theorem: if a function is continuous on a closed interval, then {F}",
    "A standard lemma states that {F} whenever the terms are nonnegative.",
    "Solving for the unknown, the roots of the polynomial satisfy {F}",
    "Therefore the matrix is invertible exactly when {F}",
    "Note that the bound is sharp, since equality holds in {F}",
    "It follows from the triangle inequality that {F}",
    "The probability of the event is computed as {F}",
]
MATH_PROSE = [
    "This is a classic exercise in {topic}, and the key idea is to look at small cases first.",
    "I am studying {topic} and I am stuck on the following problem from my textbook.",
    "The proof uses a contradiction argument: assume the claim fails and derive an absurd inequality.",
    "A common mistake is to forget that the function must be continuous for the theorem to apply.",
    "Notice that every term is divisible by the prime, so the remainder must vanish.",
    "We can simplify the expression by factoring out the common term and cancelling.",
    "The answer is the same whether we use the substitution or integrate by parts.",
    "Can someone explain why the series converges absolutely but the rearrangement does not?",
    "Here is a hint: write the polynomial as a product of linear factors over the complex numbers.",
    "This generalizes to any finite dimensional vector space with an inner product.",
    "The corollary follows immediately once the lemma about {topic} is established.",
    "Edit: as pointed out in the comments, the coefficient must be nonzero for the argument to work.",
]
# Questions asked in words only: no notation, so a classifier trained on LaTeX-heavy seed text misses them,
# and domain discovery (the /questions/ prefix) has to bring them in.
WORD_PROBLEMS = [
    "In how many different ways can seven friends sit around a round table if rotations count as the same?",
    "A bag holds four red marbles and six blue marbles. Two are drawn without replacement. What are the chances "
    "both are blue?",
    "Why is every whole number bigger than one either prime or a product of primes in exactly one way?",
    "If I fold a sheet of paper in half forty times, how thick would the stack become?",
    "Is there a simple reason why the angles of a triangle always add up to a straight angle?",
    "How many handshakes happen when twelve people each shake hands with everybody else exactly once?",
    "What is the remainder when two raised to the hundredth power is divided by seven?",
    "Can a knight visit every square of a chessboard exactly once and come back to where it started?",
]
# Held out for the evaluation set: the same kind of notation-free questions, none of them in the crawl.
EVAL_WORD_PROBLEMS = [
    "How many different teams of three can be chosen from a class of ten students?",
    "Is the product of two odd numbers always odd, and how would you prove it?",
    "A train leaves at noon at sixty miles per hour. When does a second train going eighty catch up?",
    "What is the smallest number that leaves a remainder of one when divided by two, three and four?",
    "Why does every triangle have at least two acute angles?",
    "How many squares of any size are there on an ordinary chessboard?",
]
# Not math, but full of math words: a classifier must not collect these.
EVAL_MATH_NEWS = [
    "The mathematician who proved the famous conjecture was honoured at a ceremony in the capital on Friday.",
    "Parents say the new school timetable leaves too little time for maths homework and sport.",
    "The chess club celebrated its fiftieth anniversary with a tournament and a dinner for members.",
    "Sales of calculators and geometry sets rose sharply ahead of the new school year, retailers said.",
]
ZH_SENTENCES = [
    "已知函数 {F} ，求该函数在区间上的最大值。",
    "设 $x$ 为实数，证明不等式 {F} 对所有正整数成立。",
    "由题意可得方程 {F} ，解得方程的根。",
    "根据二项式定理，展开后得到 {F} 。",
    "所以该数列的通项公式为 {F} ，证毕。",
    "本题考查导数的几何意义以及函数的单调性。",
    "利用数学归纳法，先验证当 $n=1$ 时命题成立。",
]
OTHER = {
    "news": [
        "The city council voted on Tuesday to approve the new transit budget after a long debate.",
        "Officials said the storm caused power outages across the northern districts overnight.",
        "The minister declined to comment on reports of a cabinet reshuffle later this month.",
        "Local businesses say the festival brought thousands of visitors to the old town.",
        "Analysts expect the central bank to hold interest rates steady at its next meeting.",
        "Residents gathered outside the courthouse as the verdict was read aloud.",
        "The museum will reopen its east wing after a two-year renovation project.",
        "Election observers reported a record turnout in several rural constituencies.",
    ],
    "recipes": [
        "Preheat the oven and line a baking tray with parchment paper.",
        "Whisk the eggs with the sugar until the mixture is pale and fluffy.",
        "Fold in the flour gently so the batter keeps its air.",
        "Simmer the tomato sauce with garlic and basil for twenty minutes.",
        "Season the chicken generously with salt, pepper and smoked paprika.",
        "Serve warm with a spoonful of yoghurt and fresh herbs on top.",
        "Let the dough rest in the fridge overnight for the best flavour.",
        "Toast the spices in a dry pan until they smell fragrant.",
    ],
    "shop": [
        "This wireless speaker delivers rich bass and up to twelve hours of playback.",
        "Free shipping on orders over fifty dollars, with returns accepted within thirty days.",
        "The stainless steel bottle keeps drinks cold for a full day at the beach.",
        "Customers who bought this item also bought the matching charging cable.",
        "Available in three colours: midnight blue, forest green and sand.",
        "Add to cart now and get a discount code for your next purchase.",
        "The ergonomic chair has adjustable armrests and breathable mesh.",
        "Rated four and a half stars by more than two thousand shoppers.",
    ],
    "sports": [
        "The home side scored twice in the final ten minutes to win the derby.",
        "The striker has now netted fifteen goals in twenty league appearances.",
        "The coach praised the defence after a third consecutive clean sheet.",
        "Fans packed the stadium for the season opener despite the heavy rain.",
        "The veteran goalkeeper announced he will retire at the end of the season.",
        "A late penalty sent the visitors through to the cup semi-final.",
        "The team sits second in the table, three points behind the leaders.",
        "Injuries to key midfielders have forced the manager to rotate the squad.",
    ],
    "forum": [
        "Has anyone found a way to beat the final boss without the fire sword?",
        "I upgraded my graphics card and now the game runs at a smooth frame rate.",
        "The new patch nerfed my favourite character, which is really disappointing.",
        "Looking for a friendly guild to play raids with on weekend evenings.",
        "Does the collector's edition include the soundtrack or just the art book?",
        "My save file got corrupted after the update, any tips to recover it?",
        "The open world is beautiful but the side quests feel repetitive.",
        "Trading rare skins, send me a message if you are interested.",
    ],
}
# Page chrome as real sites have it (a mega menu, a long footer, inline CSS and scripts): it makes
# pages a realistic size for extraction (tens of KB of HTML around a few KB of text) and gives the
# boilerplate removal something to remove. Constant strings, so no page's text depends on them.
_MENU = {
    "Topics": ["Algebra", "Calculus", "Geometry", "Statistics", "Number theory", "Logic", "Physics", "History"],
    "Community": ["Forums", "Events", "Meetups", "Blog", "Newsletter", "Podcast", "Careers", "Donate"],
    "Shop": ["Books", "Courses", "Gift cards", "Merchandise", "Subscriptions", "Deals", "Returns", "Orders"],
    "Help": ["FAQ", "Contact", "Accessibility", "Status", "Report a bug", "Feedback", "Guides", "Tutorials"],
}
NAV = ('<header class="site-header"><a class="logo" href="/"><img src="/static/logo.svg" alt="Site logo"></a>'
       '<form class="search" action="/search"><input type="text" name="q" placeholder="Search"><button>Go</button></form>'
       '</header><nav class="menu"><ul>' + "".join(
           f'<li class="menu-section"><a href="/{k.lower()}">{k}</a><ul class="submenu">'
           + "".join(f'<li><a href="/{k.lower()}/{v.lower().replace(" ", "-")}">{v}</a></li>' for v in vs)
           + "</ul></li>" for k, vs in _MENU.items())
       + '<li><a href="/login">Log in</a></li><li><a href="/signup">Sign up</a></li></ul></nav>')
SIDEBAR = ('<aside class="sidebar"><h3>Related</h3><ul>' + "".join(
    f'<li><a href="/related/{i}">Related article number {i} you may also like</a></li>' for i in range(1, 16))
    + '</ul><div class="newsletter"><h4>Newsletter</h4><p>Get the best posts in your inbox every week.</p>'
    '<form><input type="email" placeholder="Email"><button>Subscribe</button></form></div>'
    '<div class="ad-slot" data-ad="sidebar-300x250"></div></aside>')
PAGE_HEAD = ('<meta name="viewport" content="width=device-width, initial-scale=1"><style>' + " ".join(
    f".c{i} {{ margin: {i % 7}px; padding: {i % 5}px; color: #{i * 4097 % 0xFFFFFF:06x}; display: flex; }}"
    for i in range(120)) + '</style><script>window.dataLayer = window.dataLayer || []; function gtag(){'
    'dataLayer.push(arguments);} gtag("js", new Date()); gtag("config", "G-EXAMPLE");' + "".join(
    f'document.addEventListener("ready{i}", function(e) {{ console.log("handler {i}", e); }});' for i in range(40))
    + '</script><script type="application/ld+json">{"@context": "https://schema.org", "@type": "WebPage"}</script>')
COOKIE = '<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your experience. ' \
         'By continuing to browse you accept our cookie policy.</p><button>Accept all cookies</button></div>'


def footer(site: str) -> str:
    columns = "".join(f'<div class="footer-col"><h4>{k}</h4><ul>' + "".join(
        f'<li><a href="/{k.lower()}/{v.lower().replace(" ", "-")}">{v}</a></li>' for v in vs) + "</ul></div>"
        for k, vs in _MENU.items())
    return (f'<footer class="site-footer">{columns}<p>Copyright 2024 {site}. All rights reserved.</p>'
            '<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a> | '
            '<a href="/sitemap">Sitemap</a></p></footer>')


# --- benchmark questions (authored, GSM8K / MATH style) --------------------------------------------

BENCHMARK = [
    {"id": "mb-1", "question": "A baker sells muffins for 3 dollars each and cookies for 2 dollars each. On Monday she "
     "sold 14 muffins and 23 cookies. How many dollars did she earn on Monday?", "answer": "88"},
    {"id": "mb-2", "question": "Tom walks to school at 4 kilometres per hour and it takes him 45 minutes. How far "
     "in kilometres is his school from his house?", "answer": "3"},
    {"id": "mb-3", "question": "Find all real values of x such that x squared minus five x plus six equals zero, "
     "and give their sum.", "answer": "5"},
    {"id": "mb-4", "question": "A rectangular garden is twice as long as it is wide and its perimeter is 36 metres. "
     "What is the area of the garden in square metres?", "answer": "72"},
    {"id": "mb-5", "question": "How many positive divisors does the number 360 have, counting 1 and 360 itself?",
     "answer": "24"},
    {"id": "mb-6", "question": "If the sum of three consecutive odd integers is 87, what is the largest of the "
     "three integers?", "answer": "31"},
    {"id": "mb-7", "question": "What is 15?", "answer": "15"},  # too short to match: under 3 words of text
]

# --- page builders ------------------------------------------------------------------------------------


class Page:
    def __init__(self, url, body, label, kind, formulas=(), charset="utf-8", title="", head=""):
        self.url, self.body, self.label, self.kind = url, body, label, kind
        self.formulas = list(formulas)
        self.charset, self.title, self.head = charset, title, head

    def html(self) -> str:
        return (f'<!DOCTYPE html><html><head><meta charset="{self.charset}"><title>{html.escape(self.title)}'
                f'</title>{PAGE_HEAD}{self.head}</head><body>{self.body}</body></html>')


def slug(rng, words=3):
    pool = "alpha beta gamma delta prime limit series graph tree ring field proof sum root angle circle".split()
    return "-".join(rng.choice(pool) for _ in range(words)) + f"-{rng.randint(100, 999)}"


def math_paragraphs(rng, render, count, formulas, lang="en", tex_only=True):
    """Paragraphs of math prose; `render(tree_or_tex, display)` returns the page's markup for a formula."""
    out = []
    topic = rng.choice(MATH_TOPICS)
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(2, 4)):
            if lang == "zh":
                template = rng.choice(ZH_SENTENCES)
            elif rng.random() < 0.55:
                template = rng.choice(MATH_SENTENCES)
            else:
                template = rng.choice(MATH_PROSE)
            if "{F}" in template:
                t = rng.choice(TEX_ONLY) if tex_only and rng.random() < 0.2 else random_formula(rng)
                display = rng.random() < 0.3
                formulas.append(latex(t) if isinstance(t, tuple) else t)
                template = template.replace("{F}", "\x00")
                pre, post = template.split("\x00")
                fill = pre.format(v="$x$", topic=topic)
                parts.append(html.escape(fill).replace("$x$", "$x$") + render(t, display) + html.escape(post))
            else:
                parts.append(html.escape(template.format(topic=topic, v="$x$")))
        out.append("<p>" + " ".join(parts) + "</p>")
    return out


def r_dollar(t, display):
    tex = html.escape(latex(t))
    return f"$${tex}$$" if display else f"${tex}$"


def r_math_container(t, display):
    return f'<span class="math-container">{r_dollar(t, display)}</span>'


def r_mathjax2(t, display):
    tex = latex(t)
    mode = "; mode=display" if display else ""
    preview = '<span class="MathJax_Preview" style="color: inherit;"></span>'
    rendered = ('<span class="MathJax" id="MathJax-Element-1-Frame" role="presentation">'
                '<nobr><span class="math"><span class="mrow">rendered glyphs</span></span></nobr></span>')
    return f'{preview}{rendered}<script type="math/tex{mode}">{tex}</script>'


def r_mathjax3(t, display):
    disp = ' display="true"' if display else ""
    if isinstance(t, tuple) and random.Random(latex(t)).random() < 0.6:
        block = ' display="block"' if display else ""
        return (f'<mjx-container class="MathJax CtxtMenu_Attached_0" jax="CHTML"{disp}>'
                '<mjx-math class="MJX-TEX" aria-hidden="true"><mjx-mi class="mjx-i"><mjx-c class="mjx-c1D465">'
                '</mjx-c></mjx-mi></mjx-math>'
                f'<mjx-assistive-mml unselectable="on"><math xmlns="http://www.w3.org/1998/Math/MathML"{block}>'
                f'{mathml(t)}</math></mjx-assistive-mml></mjx-container>')
    tex = html.escape(latex(t), quote=True)
    return (f'<mjx-container class="MathJax" jax="SVG"{disp} data-latex="{tex}"><svg role="img">'
            '<g><path d="M0 0"></path></g></svg></mjx-container>')


def r_katex(t, display):
    tex = html.escape(latex(t))
    inner = (f'<span class="katex"><span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML">'
             f'<semantics>{mathml(t)}<annotation encoding="application/x-tex">{tex}</annotation></semantics>'
             '</math></span><span class="katex-html" aria-hidden="true"><span class="base">'
             '<span class="mord mathnormal">x</span></span></span></span>')
    return f'<span class="katex-display">{inner}</span>' if display else inner


def r_mathml(t, display, annotate=True, alttext=False):
    block = ' display="block"' if display else ""
    alt = f' alttext="{html.escape(latex(t), quote=True)}"' if alttext else ""
    if annotate:
        tex = html.escape(latex(t))
        return (f'<math xmlns="http://www.w3.org/1998/Math/MathML"{block}{alt}><semantics>{mathml(t)}'
                f'<annotation encoding="application/x-tex">{tex}</annotation></semantics></math>')
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{block}{alt}>{mathml(t)}</math>'


def r_image(t, display):
    tex = latex(t)
    style = random.Random(tex).randint(0, 2)
    if style == 0:
        return f'<img class="tex" src="/math/{zlib.crc32(tex.encode())}.png" alt="{html.escape(tex, quote=True)}">'
    if style == 1:
        return f'<img src="https://latex.codecogs.com/png.latex?{urllib.parse.quote(tex)}" alt="">'
    return f'<img class="latex" src="/wp/latex.php?latex={urllib.parse.quote(tex)}&amp;bg=ffffff" alt="">'


def r_wpkatex(t, display):
    d = "true" if display else "false"
    return f'<span class="wp-katex-eq" data-display="{d}">{html.escape(latex(t))}</span>'


MATHJAX2_CONFIG = ('<script type="text/x-mathjax-config">MathJax.Hub.Config({tex2jax: {inlineMath: '
                   "[['$','$'], ['\\\\(','\\\\)']], displayMath: [['$$','$$']]}});</script>"
                   '<script src="https://cdn.example.org/mathjax/2.7.7/MathJax.js?config=TeX-AMS_HTML"></script>')
KATEX_HEAD = '<link rel="stylesheet" href="https://cdn.example.org/katex@0.16.9/dist/katex.min.css">'


def math_page(rng, url, site, kind, render, head="", lang="en", paragraphs=(3, 6), extra="", tex_only=True):
    formulas = []
    title = rng.choice(MATH_TOPICS).capitalize() if lang == "en" else "数学题解答"
    paras = math_paragraphs(rng, render, rng.randint(*paragraphs), formulas, lang, tex_only)
    sidebar = SIDEBAR
    body = (f"{COOKIE if rng.random() < 0.5 else ''}{NAV}<main><article><h1>{html.escape(title)}</h1>"
            + "".join(paras) + extra + f"</article></main>{sidebar}{footer(site)}")
    return Page(url, body, 1, kind, formulas, title=title, head=head)


def other_page(rng, url, site, kind, math_words=False):
    title = f"{kind.capitalize()} {slug(rng, 2)}"
    paras = []
    for _ in range(rng.randint(3, 6)):
        sents = rng.sample(OTHER[kind], k=rng.randint(2, 4))
        paras.append("<p>" + html.escape(" ".join(sents)) + "</p>")
    if math_words:  # a news story about mathematics, without any formula
        paras.append("<p>The mathematician, who proved a long-standing conjecture about prime numbers, said the "
                     "equation had fascinated her since school.</p>")
    body = f"{COOKIE}{NAV}<main><h1>{html.escape(title)}</h1>{''.join(paras)}</main>{SIDEBAR}{footer(site)}"
    return Page(url, body, 0, kind, title=title)


def profile_page(rng, url):
    name = rng.choice(["alice", "bob", "chen", "dana", "emil", "fatima", "gus", "hana"])
    body = (f"{NAV}<main><h1>User {name}{rng.randint(1, 99)}</h1><p>Member for {rng.randint(2, 9)} years. "
            f"Last seen this week. Reputation {rng.randint(10, 9000)}.</p><p>Badges: teacher, editor, "
            "supporter.</p></main>" + footer("MathForum"))
    return Page(url, body, 0, "profile", title="User profile")


def build_pages() -> list[tuple[Page, str]]:
    """(page, crawl date) for every HTML response, in crawl order."""
    rng = random.Random(20240229)
    pages: list[Page] = []

    def add(p):
        pages.append(p)
        return p

    qa = []
    for k in range(40):
        url = f"https://mathforum.example.net/questions/{1000 + k}/{slug(rng)}"
        if k % 6 == 5:  # a question in words only
            question = " ".join(rng.sample(WORD_PROBLEMS, k=2))
            body = (f"{NAV}<main><article><h1>Question {1000 + k}</h1><p>{html.escape(question)}</p>"
                    f"<p>Thanks in advance for any help.</p></article></main>{footer('MathForum')}")
            add(Page(url, body, 1, "word_problem", title=f"Question {1000 + k}", head=MATHJAX2_CONFIG))
            continue
        p = math_page(rng, url, "MathForum", "mathjax_text", r_math_container, MATHJAX2_CONFIG)
        qa.append(add(p))
    for k in range(10):
        add(profile_page(rng, f"https://mathforum.example.net/users/{500 + k}/{slug(rng, 1)}"))
    for name in ("about", "help", "tags"):
        add(other_page(rng, f"https://mathforum.example.net/{name}", "MathForum", "forum"))
    blog = [add(math_page(rng, f"https://blog.numberwise.example.com/2023/{k % 12 + 1:02d}/{slug(rng)}", "Numberwise",
                          "mathjax2", r_mathjax2, MATHJAX2_CONFIG)) for k in range(25)]
    for k in range(25):
        add(math_page(rng, f"https://lecture-notes.example.edu/courses/calculus/lecture-{k + 1}", "Lecture notes",
                      "mathjax3", r_mathjax3))
    for _ in range(25):
        add(math_page(rng, f"https://algebra-hub.example.org/lessons/{slug(rng)}", "Algebra Hub", "katex", r_katex,
                      KATEX_HEAD))
    for k in range(20):
        style = k % 3
        render = ((lambda t, d: r_mathml(t, d)) if style == 0 else
                  (lambda t, d: r_mathml(t, d, annotate=False)) if style == 1 else
                  (lambda t, d: r_mathml(t, d, annotate=False, alttext=True)))
        add(math_page(rng, f"https://geometry.example.org/entries/{slug(rng)}", "Geometry entries", "mathml", render,
                      tex_only=False))
    for _ in range(20):
        add(math_page(rng, f"https://wiki-math.example.org/wiki/{slug(rng, 2)}", "WikiMath", "images", r_image))
    for _ in range(15):
        add(math_page(rng, f"https://mathteacher.example.com/2022/{slug(rng)}", "Math Teacher", "wp_katex",
                      r_wpkatex))
    for k in range(12):
        p = math_page(rng, f"https://shuxue.example.cn/timu/{3000 + k}.html", "数学网", "zh", r_dollar, lang="zh")
        if k % 2 == 0:
            p.charset = "gbk"
        add(p)
    for kind, site, count in [("news", "dailynews.example.com", 30), ("recipes", "tastykitchen.example.com", 25),
                              ("shop", "gadgetshop.example.com", 25), ("sports", "sportsdesk.example.com", 20),
                              ("forum", "gamersforum.example.net", 20)]:
        section = {"news": "world", "recipes": "recipes", "shop": "products", "sports": "football",
                   "forum": "threads"}[kind]
        for k in range(count):
            add(other_page(rng, f"https://{site}/{section}/{slug(rng)}", site, kind, math_words=kind == "news" and k < 2))
    # Near-duplicates: mirrors that change the chrome and one sentence.
    for src in qa[:6] + blog[:4]:
        path = urllib.parse.urlsplit(src.url).path
        body = src.body.replace("</article>", "<p>Mirrored for offline reading.</p></article>")
        add(Page("https://mirror-math.example.net" + path, body, 1, src.kind, src.formulas, title=src.title,
                 head=src.head))
    for src in [p for p in pages if p.kind == "recipes"][:5]:
        add(Page(src.url.replace("tastykitchen", "recipe-aggregator"), src.body.replace("<h1>", "<h1>Shared: "), 0,
                 "recipes", title=src.title))
    # Contamination: benchmark questions quoted on a forum question and a blog post.
    for k, item in enumerate(BENCHMARK[:4]):
        url = f"https://mathforum.example.net/questions/{2000 + k}/{slug(rng)}"
        extra = f"<p>Homework question: {html.escape(item['question'])} I got a different answer.</p>"
        add(math_page(rng, url, "MathForum", "mathjax_text", r_math_container, MATHJAX2_CONFIG, extra=extra))
    dated = [(p, f"2024-02-{(k % 27) + 1:02d}T{k % 24:02d}:{k % 60:02d}:00Z") for k, p in enumerate(pages)]
    # URL duplicates: the same URLs crawled again later, with a small edit.
    for p in pages[::45][:8]:
        again = Page(p.url, p.body.replace("</main>", "<p>Updated.</p></main>"), p.label, p.kind, p.formulas,
                     p.charset, p.title, p.head)
        dated.append((again, "2024-03-15T12:00:00Z"))
    return dated


# --- WARC writing -----------------------------------------------------------------------------------


def warc_head(rtype: str, url: str | None, date: str, block_length: int, extra: dict | None = None) -> bytes:
    """The WARC headers of a record whose block is `block_length` bytes (the block and the record's
    closing CRLF CRLF follow them)."""
    rid = uuid.uuid5(NS, f"{rtype}|{url}|{date}")
    headers = {"WARC-Type": rtype, "WARC-Record-ID": f"<urn:uuid:{rid}>", "WARC-Date": date}
    if url:
        headers["WARC-Target-URI"] = url
    headers.update(extra or {})
    headers["Content-Length"] = str(block_length)
    return ("WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()


def warc_record(rtype: str, url: str | None, date: str, block: bytes, extra: dict | None = None,
                level: int = 9) -> bytes:
    raw = warc_head(rtype, url, date, len(block), extra) + block + b"\r\n\r\n"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=level, mtime=0) as g:  # a gzip member per record, as CC does
        g.write(raw)
    return buf.getvalue()


def http_response(body: bytes, content_type: str) -> bytes:
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Server: nginx\r\n\r\n")
    return head.encode() + body


def write_crawl(out_dir: str, n_files: int = 3) -> list[dict]:
    os.makedirs(out_dir, exist_ok=True)
    dated = build_pages()
    files = [[warc_record("warcinfo", None, "2024-02-01T00:00:00Z",
                          f"software: deepcorpus make_crawl\r\nisPartOf: SAMPLE-{k}\r\n".encode(),
                          {"Content-Type": "application/warc-fields"})] for k in range(n_files)]
    labels = []
    for k, (page, date) in enumerate(dated):
        body = page.html().encode(page.charset)
        ctype = f"text/html; charset={page.charset.upper() if page.charset == 'gbk' else 'UTF-8'}"
        req = f"GET {urllib.parse.urlsplit(page.url).path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        files[k % n_files].append(warc_record("request", page.url, date, req,
                                              {"Content-Type": "application/http; msgtype=request"}))
        files[k % n_files].append(warc_record("response", page.url, date, http_response(body, ctype),
                                              {"Content-Type": "application/http; msgtype=response"}))
        labels.append({"url": page.url, "crawl_date": date, "label": page.label, "kind": page.kind,
                       "formulas": page.formulas})
    # Records a reader must skip: robots.txt and an image.
    files[0].append(warc_record("response", "https://mathforum.example.net/robots.txt", "2024-02-02T00:00:00Z",
                                http_response(b"User-agent: *\nDisallow:\n", "text/plain"),
                                {"Content-Type": "application/http; msgtype=response"}))
    files[1].append(warc_record("response", "https://wiki-math.example.org/logo.png", "2024-02-02T00:00:00Z",
                                http_response(b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"),
                                {"Content-Type": "application/http; msgtype=response"}))
    for k, records in enumerate(files):
        with open(os.path.join(out_dir, f"crawl-{k:05d}.warc.gz"), "wb") as f:
            f.write(b"".join(records))
    return labels


def text_only(rng: random.Random, math: bool, lang: str = "en") -> str:
    """A plain-text document as an extractor would leave it ($...$ around formulas)."""
    if math:
        formulas: list = []
        paras = math_paragraphs(rng, r_dollar, rng.randint(2, 5), formulas, lang)
        text = "\n\n".join(html.unescape(p[3:-4]) for p in paras)
        return rng.choice(MATH_TOPICS).capitalize() + "\n\n" + text
    kind = rng.choice(sorted(OTHER))
    paras = [" ".join(rng.sample(OTHER[kind], k=rng.randint(2, 4))) for _ in range(rng.randint(2, 5))]
    return "\n\n".join(paras)


def write_jsonl(path: str, rows: list[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main() -> None:
    labels = write_crawl(os.path.join(HERE, "crawl"))
    write_jsonl(os.path.join(HERE, "crawl_labels.jsonl"), labels)
    rng = random.Random(7)
    seed = [{"id": f"seed-{k}", "text": text_only(rng, True, "zh" if k % 8 == 7 else "en")} for k in range(48)]
    write_jsonl(os.path.join(HERE, "math_seed.jsonl"), seed)
    rng = random.Random(11)
    evals = []
    for k in range(80):
        math = k % 2 == 0
        evals.append({"id": f"eval-{k}", "text": text_only(rng, math, "zh" if k % 20 == 0 else "en"),
                      "label": int(math)})
    for k, q in enumerate(EVAL_WORD_PROBLEMS):  # hard positives: math without notation
        evals.append({"id": f"eval-word-{k}", "text": f"Question\n\n{q} Thanks in advance for any help.", "label": 1})
    for k, news in enumerate(EVAL_MATH_NEWS):  # hard negatives: math words, no math
        evals.append({"id": f"eval-news-{k}", "text": news + " " + " ".join(OTHER["news"][k:k + 3]), "label": 0})
    write_jsonl(os.path.join(HERE, "math_eval.jsonl"), evals)
    write_jsonl(os.path.join(HERE, "benchmarks", "math_benchmark.jsonl"), BENCHMARK)
    n_math = sum(r["label"] for r in labels)
    print(f"wrote {len(labels)} pages ({n_math} math), {len(seed)} seed texts, {len(evals)} eval texts")


if __name__ == "__main__":
    main()
