"""DeepSeek-Coder's rule filters (after StarCoder): a file is kept or dropped for one named reason.

Each rule is a plain function `(text, language, config) -> True when the file fails it`; rules run
in a fixed order and the first that fails names the drop, so every drop is counted once, under
`dropped_<rule>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

from pipelines.code.quality import letter_count


@dataclass(frozen=True)
class FilterConfig:
    max_avg_line_length: float = 100.0
    max_line_length: int = 1000
    min_alpha_fraction: float = 0.25
    xml_exempt: tuple[str, ...] = ("XSLT",)  # XSLT files start with an XML declaration by nature
    xml_header_window: int = 100
    html_min_visible_fraction: float = 0.20
    html_min_visible_chars: int = 100
    data_min_chars: int = 50
    data_max_chars: int = 5000
    data_languages: tuple[str, ...] = ("JSON", "YAML")


def _line_lengths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()] or [0]


def long_average_line(text: str, language: str, config: FilterConfig) -> bool:
    lengths = _line_lengths(text)
    return sum(lengths) / len(lengths) > config.max_avg_line_length


def long_line(text: str, language: str, config: FilterConfig) -> bool:
    return max(_line_lengths(text)) > config.max_line_length


def few_alphabetic(text: str, language: str, config: FilterConfig) -> bool:
    if not text:
        return True
    return letter_count(text) / len(text) < config.min_alpha_fraction


def xml_header(text: str, language: str, config: FilterConfig) -> bool:
    return language not in config.xml_exempt and "<?xml version=" in text[: config.xml_header_window]


class _VisibleText(HTMLParser):
    """Collects the text a browser would show: everything outside tags, scripts and styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", "noscript"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "noscript") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a malformed declaration can still raise
        pass
    return " ".join(" ".join(parser.parts).split())


def little_visible_html(text: str, language: str, config: FilterConfig) -> bool:
    if language != "HTML":
        return False
    visible = len(visible_text(text))
    return visible < config.html_min_visible_chars or visible < config.html_min_visible_fraction * len(text)


def data_size(text: str, language: str, config: FilterConfig) -> bool:
    return language in config.data_languages and not (config.data_min_chars <= len(text) <= config.data_max_chars)


Rule = Callable[[str, str, FilterConfig], bool]

# (name, rule): the name is the counter's suffix (`dropped_<name>`) in the summary.
RULES: tuple[tuple[str, Rule], ...] = (
    ("avg_line_length", long_average_line),
    ("max_line_length", long_line),
    ("alpha_fraction", few_alphabetic),
    ("xml_header", xml_header),
    ("html_visible_text", little_visible_html),
    ("json_yaml_size", data_size),
)

RULE_NAMES = tuple(name for name, _ in RULES)


def drop_reason(text: str, language: str, config: FilterConfig | None = None) -> str | None:
    """The first rule the file fails, or None to keep it."""
    config = config or FilterConfig()
    for name, rule in RULES:
        if rule(text, language, config):
            return name
    return None
