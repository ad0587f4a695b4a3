"""DeepSeek-Coder's rule filters, one rule at a time, at their thresholds."""

import pytest

from pipelines.code.filters import RULE_NAMES, FilterConfig, drop_reason, visible_text

CODE = "def add(a, b):\n    return a + b\n"


def test_ordinary_code_is_kept():
    assert drop_reason(CODE, "Python") is None


def test_average_line_length_above_100_is_dropped():
    assert drop_reason(("x" * 101 + "\n") * 5, "Python") == "avg_line_length"
    assert drop_reason(("x" * 100 + "\n") * 5, "Python") is None


def test_one_line_above_1000_characters_is_dropped():
    text = "a" * 1001 + "\n" + "b = 1\n" * 50  # average stays below 100
    assert drop_reason(text, "Python") == "max_line_length"
    assert drop_reason("a" * 1000 + "\n" + "b = 1\n" * 50, "Python") is None


def test_fewer_than_25_percent_letters_is_dropped():
    assert drop_reason("1, 2, 3, 4, 5, 6, 7, 8\n" * 10, "JavaScript") == "alpha_fraction"
    assert drop_reason("", "Python") == "alpha_fraction"


def test_xml_declaration_near_the_start_is_dropped_except_xslt():
    xml = '<?xml version="1.0"?>\n<config><setting name="theme">light</setting></config>\n'
    assert drop_reason(xml, "XML") == "xml_header"
    assert drop_reason(xml, "XSLT") is None
    late = "<!-- " + "a comment that is long enough " * 4 + "-->\n" + xml
    assert drop_reason(late, "XML") is None  # the declaration is past the first 100 characters


def test_html_needs_visible_text():
    prose = "Tick tasks off when they are done,\nand filter the list by open or finished tasks.\n" * 2
    page = f"<html>\n<body>\n<h1>Todo</h1>\n<p>{prose}</p>\n</body>\n</html>\n"
    assert drop_reason(page, "HTML") is None
    scripts = "<html><body><script>" + "var config = {theme: 'dark'};\n" * 40 + "</script><p>hi</p></body></html>"
    assert drop_reason(scripts, "HTML") == "html_visible_text"  # visible text is under 20% of the file
    short = "<p>Only a few words here.</p>"
    assert drop_reason(short, "HTML") == "html_visible_text"  # fewer than 100 visible characters


def test_visible_text_ignores_scripts_and_styles():
    assert visible_text("<style>p{color:red}</style><p>Hello <b>there</b></p><script>x()</script>") == "Hello there"


@pytest.mark.parametrize("language", ["JSON", "YAML"])
def test_json_and_yaml_must_hold_50_to_5000_characters(language):
    small = '{"semi": true}'
    fine = '{"name": "todo-web", "version": "1.0.0", "private": true, "license": "MIT"}'
    assert drop_reason(small, language) == "json_yaml_size"
    assert drop_reason(fine, language) is None
    big = '{"items": [\n' + ",\n".join(f'  "item{i}"' for i in range(800)) + "\n]}"
    assert len(big) > 5000
    assert drop_reason(big, language) == "json_yaml_size"
    assert drop_reason(small, "Python") != "json_yaml_size"


def test_the_first_failing_rule_names_the_drop():
    assert RULE_NAMES[0] == "avg_line_length"
    # Fails both the average and the maximum line length: counted once, under the first rule.
    assert drop_reason("y" * 2000, "Python") == "avg_line_length"


def test_thresholds_are_configurable():
    loose = FilterConfig(max_avg_line_length=500, max_line_length=5000)
    assert drop_reason(("x" * 200 + "\n") * 3, "Python", loose) is None
