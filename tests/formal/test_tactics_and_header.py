"""Headers split and normalised for reuse; the portfolio follows what the header provides."""

from formal.header import CORE_HEADER, MATHLIB_HEADER, normalize_header, split_header, uses_mathlib
from formal.tactics import contradiction_tactic, portfolio


def test_split_header_from_whole_code():
    code = "-- generated\nimport Mathlib\nimport Aesop\nimport Mathlib\n/- a note -/\nopen Nat\n\ntheorem t : 1 = 1 := rfl"
    header, body = split_header(code)
    assert header == "import Mathlib\nimport Aesop\nopen Nat"
    assert body == "theorem t : 1 = 1 := rfl"


def test_normalized_headers_compare_equal():
    assert normalize_header("open Real\n-- x\nimport Mathlib\n\n") == normalize_header("import Mathlib\nopen Real")


def test_portfolio_follows_the_header():
    core = portfolio(CORE_HEADER)
    assert "omega" in core and "decide" in core and "norm_num" not in core and "aesop" not in core
    full = portfolio(MATHLIB_HEADER)
    assert {"norm_num", "linarith", "nlinarith", "positivity", "aesop"} <= set(full)
    assert "native_decide" not in full and "native_decide" in portfolio(CORE_HEADER, native_decide=True)
    assert uses_mathlib(MATHLIB_HEADER) and not uses_mathlib(CORE_HEADER)


def test_ranking_moves_what_worked_first():
    assert portfolio(CORE_HEADER, {"omega": 0.7, "decide": 0.3})[:2] == ["omega", "decide"]


def test_contradiction_is_one_combinator():
    t = contradiction_tactic(CORE_HEADER)
    assert t.startswith("first | (omega)") and "linarith" not in t
