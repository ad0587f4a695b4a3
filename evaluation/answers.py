"""Final answers: pulled out of a model's chain of thought, normalised, and compared with the reference.

GSM8K: the reference is what follows `####`; from a completion, the number after the last "the
answer is" (or `####`, or `\\boxed{}`), else the last number in it. Numbers compare as exact
fractions after removing `$`, thousands separators, a trailing full stop and units.

MATH: the reference is the `answer` field, else the last `\\boxed{}` of the solution; from a completion,
its last `\\boxed{}`, else what follows "final answer is", else "the answer is". Comparison, in order
(`math_equal` says which decided):
1. `string`: equal after LaTeX normalisation (`\\dfrac` -> `\\frac`, `\\left`/`\\right`, degrees, `\\text{}`
   units, `\\$`, thousands separators, `\\frac12` -> `\\frac{1}{2}`, `x = ` in front, spaces);
2. `numeric`: both are plain numbers or simple fractions, equal as exact fractions;
3. `sympy`: both are plain expressions (numbers, letters, arithmetic, \\frac, \\sqrt, \\pi, functions),
   parse with sympy's LaTeX parser (ANTLR; antlr4-python3-runtime 4.11), and their difference is
   zero at three random points of their free symbols (exactly zero when there are none); bracketed
   tuples compare element by element. Anything else (sets, intervals, relations, text, what does not
   parse) keeps the verdict of step 1: unequal.
"""

from __future__ import annotations

import functools
import math
import random
import re
import signal
import threading
from fractions import Fraction

# --- numbers (GSM8K and any numeric answer) ----------------------------------------------------

_NUMBER = re.compile(r"-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_ANSWER_IS = re.compile(r"(?:the\s+)?(?:final\s+)?answer\s+is\s*[:=]?\s*", re.I)
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def gsm8k_reference(answer: str) -> str:
    """GSM8K's solution ends with '#### N'; N may have thousands separators."""
    tail = answer.rsplit("####", 1)[-1]
    return normalize_number(tail) or tail.strip()


def normalize_number(text: str) -> str | None:
    """'$1,450,000.00' -> '1450000', '3/4' -> '3/4', '-2.50' -> '-2.5'; None when no number is there."""
    m = _NUMBER.search(text.replace("\\$", "$").replace("\\!", ""))
    if not m:
        return None
    value = _to_fraction(m.group(0))
    if value is None:
        return None
    if value.denominator == 1:
        return str(value.numerator)
    as_float = float(value)
    return format(as_float, ".12g") if len(str(value)) > 12 else str(value)


def _to_fraction(text: str) -> Fraction | None:
    s = text.replace("$", "").replace(" ", "").strip().rstrip(".")
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def numbers_equal(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    x, y = _to_fraction(a), _to_fraction(b)
    if x is None or y is None:
        return a.strip() == b.strip()
    return x == y  # exact: decimals are exact fractions, and 1,450,001 is not 1,450,000


def extract_number(completion: str) -> str | None:
    """The number a chain of thought ends on."""
    boxed = last_boxed(completion)
    if boxed is not None and normalize_number(boxed) is not None:
        return normalize_number(boxed)
    for marker in (_ANSWER_IS, re.compile(r"####\s*")):
        hits = list(marker.finditer(completion))
        if hits:
            value = normalize_number(completion[hits[-1].end():hits[-1].end() + 40])
            if value is not None:
                return value
    numbers = _NUMBER.findall(completion.replace("\\$", "$"))
    return normalize_number(numbers[-1]) if numbers else None


# --- MATH: boxed answers and LaTeX ---------------------------------------------------------------


def last_boxed(text: str) -> str | None:
    """The contents of the last \\boxed{...} (or \\fbox{...}, or '\\boxed 5'), braces matched."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    rest = text[start:]
    m = re.match(r"\\(?:boxed|fbox)\s*", rest)
    i = m.end()
    if i < len(rest) and rest[i] != "{":
        return rest[i:].split("$")[0].split()[0] if rest[i:].strip() else None
    depth = 0
    for j in range(i, len(rest)):
        if rest[j] == "{":
            depth += 1
        elif rest[j] == "}":
            depth -= 1
            if depth == 0:
                return rest[i + 1:j]
    return None


def math_reference(item: dict) -> str | None:
    if item.get("answer") not in (None, ""):
        return str(item["answer"])
    return last_boxed(item.get("solution", ""))


_FINAL = re.compile(r"final answer is\s*\$?(.+?)\$?(?:\.\s*I hope|\s*$|\.\s*$|\n)", re.I | re.S)


def extract_math_answer(completion: str) -> str | None:
    boxed = last_boxed(completion)
    if boxed is not None:
        return boxed
    m = _FINAL.search(completion)
    if m:
        return m.group(1).strip().strip("$").strip()
    hits = list(_ANSWER_IS.finditer(completion))
    if hits:
        tail = completion[hits[-1].end():].split("\n")[0].strip()
        return tail.strip("$").rstrip(".").strip() or None
    return None


_UNIT_WORDS = ("degrees", "degree", "cm", "centimeters", "meters", "inches", "inch", "feet", "ft", "units", "unit",
               "cents", "dollars", "hours", "minutes", "seconds", "mph", "km", "pounds", "square", "sq", "ways",
               "points", "students", "people", "days", "years")


def _brace_args(s: str, command: str) -> str:
    """`\\frac12` -> `\\frac{1}{2}`, `\\sqrt3` -> `\\sqrt{3}`: give single-token arguments braces."""
    n_args = 2 if command == "frac" else 1
    out, i, key = [], 0, "\\" + command
    while True:
        j = s.find(key, i)
        if j < 0:
            out.append(s[i:])
            return "".join(out)
        out.append(s[i:j + len(key)])
        k = j + len(key)
        for _ in range(n_args):
            if k < len(s) and s[k] == "{":
                depth, start = 0, k
                while k < len(s):
                    depth += {"{": 1, "}": -1}.get(s[k], 0)
                    k += 1
                    if depth == 0:
                        break
                out.append(s[start:k])
            elif k < len(s):
                out.append("{" + s[k] + "}")
                k += 1
        i = k


def normalize_latex(answer: str) -> str:
    s = answer.strip()
    s = s.replace("\n", "").replace("\\!", "").replace("\\,", "").replace("\\;", "").replace("\\:", "")
    s = re.sub(r"\\q?quad", "", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\left", "").replace("\\right", "")
    s = re.sub(r"\^\s*\{?\\circ\}?|°", "", s)
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "")
    whole_text = re.fullmatch(r"\\(?:text|textbf|mbox|mathrm)\{(.*)\}", s)
    if whole_text:
        s = whole_text.group(1)
    # Units: a trailing \text{...}/\mbox{...} (with a power, as in inches^2) or a known unit word.
    s = re.sub(r"\\(?:text|mbox|mathrm)\{\s*[^{}]*\}(\^\{?\d\}?)?\s*$", "", s).strip() or s
    s = re.sub(r"\s*\b(?:" + "|".join(_UNIT_WORDS) + r")\b(\^\{?\d\}?)?\s*$", "", s).strip() or s
    s = re.sub(r"\\(?:text|textbf|mbox|mathrm)\{(.*?)\}", r"\1", s)
    s = _brace_args(_brace_args(s, "frac"), "sqrt")
    m = re.fullmatch(r"\s*[A-Za-z](?:_\{?\w\}?)?\s*=\s*(.+)", s)
    if m:
        s = m.group(1)
    s = s.replace(" ", "")
    if re.fullmatch(r"-?\d+/\d+", s):
        num, den = s.split("/")
        s = f"\\frac{{{num}}}{{{den}}}"
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    s = re.sub(r"(^|[^\d])\.(\d)", r"\g<1>0.\2", s)
    s = re.sub(r"^\((\w)\)$", r"\1", s)  # a multiple-choice letter: (C) -> C
    if re.fullmatch(r"-?\d+\.\d*0+", s):
        s = s.rstrip("0").rstrip(".")
    return s


def _simple_number(s: str) -> Fraction | None:
    m = re.fullmatch(r"(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}", s)
    if m:
        try:
            value = Fraction(int(m.group(2)), int(m.group(3)))
        except ZeroDivisionError:
            return None
        return -value if m.group(1) else value
    return _to_fraction(s) if re.fullmatch(r"-?\d+(\.\d+)?", s) else None


def math_equal(prediction: str | None, reference: str | None) -> tuple[bool, str]:
    """(equal, how: 'string' | 'numeric' | 'sympy')."""
    if prediction is None or reference is None:
        return False, "string"
    a, b = normalize_latex(prediction), normalize_latex(reference)
    if a == b:
        return True, "string"
    x, y = _simple_number(a), _simple_number(b)
    if x is not None and y is not None:
        return x == y, "numeric"
    verdict = sympy_equal(a, b)
    if verdict is not None:
        return verdict, "sympy"
    return False, "string"


_BRACKETS = {"(": ")", "[": "]"}


def _split_top_level(s: str) -> list[str] | None:
    """'(1,\\frac{1}{2})' -> ['1', '\\frac{1}{2}'], or None when `s` is not a bracketed tuple."""
    if len(s) < 2 or s[0] not in _BRACKETS or s[-1] not in ")]":
        return None
    parts, depth, cur = [], 0, ""
    for ch in s[1:-1]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts if len(parts) > 1 else None


SYMPY_TIMEOUT_S = 3
MAX_SYMPY_CHARS = 120
# sympy's parser reads some LaTeX it does not understand as something else (`x \in (2, 3]` parses), so
# only expressions made of these go to it; sets, intervals, relations and text stay strings.
SYMPY_COMMANDS = {"frac", "sqrt", "pi", "cdot", "times", "div", "sin", "cos", "tan", "log", "ln", "exp", "infty"}
_SYMPY_CHARS = re.compile(r"[0-9A-Za-z+\-*/^_{}().\s\\]*")


def sympy_equal(a: str, b: str) -> bool | None:
    """True/False when sympy can decide; None when either side does not parse (or takes too long)."""
    ta, tb = _split_top_level(a), _split_top_level(b)
    if ta is not None or tb is not None:
        if ta is None or tb is None or len(ta) != len(tb) or (a[0], a[-1]) != (b[0], b[-1]):
            return False if (ta is not None and tb is not None) else None
        verdicts = [sympy_equal(x, y) for x, y in zip(ta, tb)]
        if any(v is None for v in verdicts):
            return None
        return all(verdicts)
    if len(a) > MAX_SYMPY_CHARS or len(b) > MAX_SYMPY_CHARS or not (_sympy_safe(a) and _sympy_safe(b)):
        return None
    _warm_sympy()  # outside the limit: importing sympy and its LaTeX grammar takes seconds on a busy machine
    with _time_limit(SYMPY_TIMEOUT_S):
        try:
            return _sympy_equal(a, b)
        except _Timeout:
            return None
        except Exception:  # noqa: BLE001 - the parser raises many kinds; all mean "cannot decide"
            return None


def _sympy_safe(s: str) -> bool:
    return bool(_SYMPY_CHARS.fullmatch(s)) and all(c in SYMPY_COMMANDS for c in re.findall(r"\\([A-Za-z]+)", s))


@functools.cache
def _warm_sympy() -> None:
    from sympy.parsing.latex import parse_latex

    parse_latex("1")  # the ANTLR parser is built on first use


def _sympy_equal(a: str, b: str) -> bool | None:
    import sympy
    from sympy.parsing.latex import parse_latex

    x, y = parse_latex(a), parse_latex(b)
    if isinstance(x, sympy.Eq) or isinstance(y, sympy.Eq):
        return None
    diff = x - y
    symbols = sorted(x.free_symbols | y.free_symbols, key=str)
    rng = random.Random(0)
    points = [{s: rng.uniform(0.5, 2.5) for s in symbols} for _ in range(3)] if symbols else [{}]
    for point in points:
        value = complex(diff.evalf(30, subs=point))
        scale = max(1.0, abs(complex(y.evalf(30, subs=point))))
        if not math.isfinite(abs(value)) or abs(value) > 1e-9 * scale:
            return False
    return True


class _Timeout(Exception):
    pass


class _time_limit:
    """SIGALRM-based limit in the main thread; elsewhere sympy runs without one (inputs are short)."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self.armed = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")

    def __enter__(self):
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            signal.alarm(self.seconds)
        return self

    @staticmethod
    def _fire(*_):
        raise _Timeout()

    def __exit__(self, *exc):
        if self.armed:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, self.previous)
        return False
